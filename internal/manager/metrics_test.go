package manager_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/repo"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// TestMetricsNeedAMetricsReaderToken runs the real manager as a ServiceAccount holding
// only the generated config/rbac/role.yaml, serving metrics with a given certificate.
// The endpoint refuses a request without a token (401) and one whose token lacks the
// metrics-reader role (403), and serves one bound to config/rbac/metrics_reader_role.yaml.
func TestMetricsNeedAMetricsReaderToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := "metrics-auth"
	createNamespace(ctx, t, ns)
	managerRole := createClusterRole(ctx, t, "config/rbac/role.yaml")
	readerRole := createClusterRole(ctx, t, "config/rbac/metrics_reader_role.yaml")
	managerToken := serviceAccountToken(ctx, t, ns, "manager", managerRole)
	readerToken := serviceAccountToken(ctx, t, ns, "prometheus", readerRole)
	strangerToken := serviceAccountToken(ctx, t, ns, "stranger", "")

	certDir, roots := servingCertificate(t)
	opts := manager.DefaultOptions()
	opts.SkipControllerNameValidation = true // several managers in this test process
	opts.MetricsAddr = freeAddr(t)
	opts.MetricsCertDir = certDir
	opts.ProbeAddr, opts.DataAPIAddr = "0", "0"
	opts.OperatorNamespace = ns
	opts.Store = filepath.Join(t.TempDir(), "store.db")
	// The manager's identity is the ServiceAccount, not envtest's admin: the reviews
	// the endpoint makes must be allowed by the generated role alone.
	cfg := rest.AnonymousClientConfig(env.Config)
	cfg.BearerToken = managerToken
	mgr, err := manager.New(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}()

	// Only the certificate given in --metrics-cert-path is trusted, so a fallback to a
	// self-signed one would fail every request.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12},
	}}
	url := "https://" + opts.MetricsAddr + "/metrics"
	scrape := func(token string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, "", err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		_, _, err := scrape("")
		return err
	})

	for _, tt := range []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a token without metrics-reader", strangerToken, http.StatusForbidden},
		{"a token bound to metrics-reader", readerToken, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body, err := scrape(tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.want {
				t.Fatalf("status %d, want %d: %s", code, tt.want, body)
			}
			served := strings.Contains(body, "controller_runtime_")
			if served != (tt.want == http.StatusOK) {
				t.Errorf("metrics in the answer: %v, want %v", served, tt.want == http.StatusOK)
			}
		})
	}
	// The apiserver answers a token it did not issue with an error, which
	// controller-runtime's filter turns into a 500: refused all the same.
	t.Run("a token the apiserver did not issue", func(t *testing.T) {
		code, body, err := scrape("not-a-token")
		if err != nil {
			t.Fatal(err)
		}
		if code != http.StatusUnauthorized && code != http.StatusInternalServerError || strings.Contains(body, "controller_runtime_") {
			t.Fatalf("status %d: %s", code, body)
		}
	})
	t.Run("HTTP/2 is not offered", func(t *testing.T) {
		conn, err := tls.Dial("tcp", opts.MetricsAddr, &tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if p := conn.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
			t.Errorf("negotiated %q, want http/1.1", p)
		}
	})
}

// A certificate that was asked for and is missing stops the start, rather than
// falling back to a self-signed one Prometheus was not told to trust.
func TestMetricsMissingCertificateIsAnError(t *testing.T) {
	opts := manager.DefaultOptions()
	opts.SkipControllerNameValidation = true // several managers in this test process
	opts.MetricsAddr, opts.ProbeAddr, opts.DataAPIAddr = freeAddr(t), "0", "0"
	opts.MetricsCertDir = t.TempDir()
	_, err := manager.New(context.Background(), env.Config, opts)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "metrics serving certificate") {
		t.Fatalf("error %v, want a missing metrics serving certificate", err)
	}
}

// createClusterRole creates the ClusterRole of a repository file and returns its name.
func createClusterRole(ctx context.Context, t *testing.T, path string) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(data, role); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := env.Client.Create(ctx, role); err != nil {
		t.Fatalf("creating %s: %v", path, err)
	}
	return role.Name
}

// serviceAccountToken creates a ServiceAccount, binds it to role (none when empty) and
// returns a token for it from the TokenRequest API.
func serviceAccountToken(ctx context.Context, t *testing.T, ns, name, role string) string {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := env.Client.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	if role != "" {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: ns + "-" + name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}},
		}
		if err := env.Client.Create(ctx, binding); err != nil {
			t.Fatal(err)
		}
	}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	if err := env.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
		t.Fatalf("requesting a token for %s: %v", name, err)
	}
	return tr.Status.Token
}

// servingCertificate writes a self-signed certificate for localhost into a directory
// and returns it with a pool trusting only that certificate.
func servingCertificate(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	cert, key, err := certutil.GenerateSelfSignedCertKey("localhost", []net.IP{net.IPv4(127, 0, 0, 1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"tls.crt": cert, "tls.key": key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(cert) {
		t.Fatal("no certificate in the generated PEM")
	}
	return dir, roots
}
