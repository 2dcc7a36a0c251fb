package controllers_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/utils/ptr"

	"github.com/consent-operator/consent-operator/internal/dataapi"
	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// The suite's manager serves the data API on a loopback port with a certificate
// given in --data-api-cert-path; the tests trust only that certificate, so they
// talk real HTTPS to it as an application would.
var dataAPI struct {
	url    string
	client *http.Client
}

func serveDataAPI(opts *manager.Options, dir string) error {
	cert, key, err := certutil.GenerateSelfSignedCertKey("localhost", []net.IP{net.IPv4(127, 0, 0, 1)}, nil)
	if err != nil {
		return fmt.Errorf("data API certificate: %w", err)
	}
	certDir := filepath.Join(dir, "data-api-cert")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	for name, data := range map[string][]byte{"tls.crt": cert, "tls.key": key} {
		if err := os.WriteFile(filepath.Join(certDir, name), data, 0o600); err != nil {
			return err
		}
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(cert)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	opts.DataAPIListener, opts.DataAPICertDir = ln, certDir
	dataAPI.url = "https://" + ln.Addr().String()
	dataAPI.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12},
	}}
	return nil
}

// callDataAPI sends one request with token ("" sends none).
func callDataAPI(t *testing.T, method, path, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, dataAPI.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := dataAPI.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// appToken creates a ServiceAccount in ns, binds it to a Role granting verbs on
// bankconnections/data (for names only, when given; no binding without verbs),
// waits until the apiserver's RBAC says so, and returns a TokenRequest token.
func appToken(t *testing.T, ns, name string, verbs, names []string) string {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	create(t, sa)
	if len(verbs) > 0 {
		create(t, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{dataapi.Group}, Resources: []string{dataapi.Resource + "/" + dataapi.Subresource},
				Verbs: verbs, ResourceNames: names}}})
		create(t, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}}})
		// The guard caches a refusal for a few seconds: ask the apiserver directly
		// until its RBAC has seen the binding, so the first call is decided on it.
		testenv.Eventually(t, 10*time.Second, func() error {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: "system:serviceaccount:" + ns + ":" + name,
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verbs[0], Group: dataapi.Group,
					Resource: dataapi.Resource, Subresource: dataapi.Subresource, Name: append(names, "")[0]}}}
			if err := env.Client.Create(ctx, sar); err != nil {
				return err
			}
			if !sar.Status.Allowed {
				return fmt.Errorf("RBAC has not seen the binding of %s yet", name)
			}
			return nil
		})
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	if err := env.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("requesting a token for %s: %v", name, err)
	}
	return tr.Status.Token
}

// apiserverRequests is how many requests for resource (tokenreviews,
// subjectaccessreviews) the kube-apiserver has served, from its own metrics.
func apiserverRequests(t *testing.T, resource string) float64 {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("reading the apiserver's metrics: %v", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing the apiserver's metrics: %v", err)
	}
	var n float64
	for _, m := range families["apiserver_request_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "resource" && l.GetValue() == resource {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// servedDocument reads /openapi.json from the running API.
func servedDocument(t *testing.T) *openapi3.T {
	t.Helper()
	code, body := callDataAPI(t, http.MethodGet, dataapi.OpenAPIPath, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", dataapi.OpenAPIPath, code)
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served document: %v", err)
	}
	return doc
}
