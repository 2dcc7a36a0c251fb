package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/scheme"
)

// The fuzzed callback belongs to one pending connection, and one browser opened its link.
const (
	fuzzNS      = "team-a"
	fuzzName    = "alice"
	fuzzUID     = "0b7c2a6e-5d1f-4e8a-9c3b-7f6e5d4c3b2a"
	fuzzNonce   = "pending-journey-secret-0123456789abcdefghij"
	fuzzBrowser = "YnJvd3Nlci1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXQ" // 32 bytes, base64url
)

var now = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func fuzzKeys(tb testing.TB) *journey.Keys {
	k, err := journey.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// fuzzValidState is the state the gateway gave the browser that opened the link.
func fuzzValidState(tb testing.TB) string {
	s, err := fuzzKeys(tb).SealState(journey.State{Namespace: fuzzNS, Name: fuzzName, UID: fuzzUID, Nonce: fuzzNonce,
		Browser: journey.BrowserHash(fuzzBrowser), Expiry: now.Add(time.Hour)})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

type fuzzClock struct{}

func (fuzzClock) Now() time.Time { return now }

// FuzzCallback sends arbitrary requests to the OAuth callback (method, query, body,
// content type, with or without the browser's cookie) with a fake apiserver holding
// one pending connection. The handler must never panic, never answer a 5xx other than
// 503 (apiserver), and never hand a code over unless the request carried the valid,
// current state of that connection, a code, and the cookie of the browser the state
// was bound to. The gateway makes no provider call at all: it has no provider client.
func FuzzCallback(f *testing.F) {
	valid := fuzzValidState(f)
	other, _ := journey.NewKeys([]byte("another key of thirty-two bytes!"))
	otherKey, _ := other.SealState(journey.State{Namespace: fuzzNS, Name: fuzzName, UID: fuzzUID, Nonce: fuzzNonce,
		Browser: journey.BrowserHash(fuzzBrowser), Expiry: now.Add(time.Hour)})
	form := "application/x-www-form-urlencoded"
	seeds := []struct {
		post, cookie bool
		query, body  string
		contentType  string
	}{
		{false, true, "code=abc&state=" + url.QueryEscape(valid), "", ""},
		{false, false, "code=abc&state=" + url.QueryEscape(valid), "", ""},
		{true, true, "", "code=abc&state=" + url.QueryEscape(valid), form},
		{true, false, "", "code=abc&state=" + url.QueryEscape(valid), form},
		{true, false, "", "code=abc&gateway_repost=1&state=" + url.QueryEscape(valid), form},
		{false, true, "error=access_denied&state=" + url.QueryEscape(valid), "", ""},
		{false, true, "error=server_error&state=" + url.QueryEscape(valid), "", ""},
		{false, true, "state=" + url.QueryEscape(valid), "", ""},
		{false, true, "code=abc&state=" + url.QueryEscape(otherKey), "", ""},
		{false, true, "code=abc&state=" + url.QueryEscape(valid[:len(valid)-4]), "", ""},
		{false, true, "code=abc&state=" + url.QueryEscape(valid) + "&state=x", "", ""},
		{false, true, "code=abc&code=def&state=" + url.QueryEscape(valid), "", ""},
		{false, true, "code=abc&state=%zz", "", ""},
		{false, true, "code=abc&state=" + strings.Repeat("A", 3000), "", ""},
		{false, true, "code=" + strings.Repeat("c", maxCodeLength+1) + "&state=" + url.QueryEscape(valid), "", ""},
		{true, true, "", strings.Repeat("a=b&", 20000), form},
		{true, true, "code=abc", "state=" + url.QueryEscape(valid), "multipart/form-data; boundary=x"},
		{true, true, "", "%%%", form},
		{false, false, "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.post, s.cookie, s.query, s.body, s.contentType)
	}
	e := newFuzzCallbackEnv(f)
	f.Fuzz(func(t *testing.T, post, cookie bool, query, body, contentType string) {
		req, code, handoff, ok := e.call(t, post, cookie, query, body, contentType)
		if !ok {
			t.Skip("not a request a client can send")
		}
		if code >= 500 && code != http.StatusServiceUnavailable {
			t.Fatalf("HTTP %d for post=%v ?%q body %q", code, post, query, body)
		}
		if handoff == nil {
			return
		}
		st, err := e.keys.OpenState(req.Form.Get("state"), now)
		if err != nil || st.Nonce != fuzzNonce || st.UID != fuzzUID || st.Namespace != fuzzNS || st.Name != fuzzName {
			t.Fatalf("a code was handed over for state %q (%v)", req.Form.Get("state"), err)
		}
		if !cookie || st.Browser != journey.BrowserHash(fuzzBrowser) {
			t.Fatalf("a code was handed over without the browser's cookie")
		}
		got, err := e.keys.OpenCode(handoff.Code, journey.Binding{Namespace: fuzzNS, Name: fuzzName, UID: fuzzUID, Nonce: fuzzNonce})
		if err != nil || got != req.Form.Get("code") || got == "" || req.Form.Get("error") != "" {
			t.Fatalf("handed over %q (%v) for a callback with code %q, error %q", got, err, req.Form.Get("code"), req.Form.Get("error"))
		}
	})
}

// TestFuzzCallbackEnvHandsOver checks the fuzz target can fail: the valid state with
// the cookie is handed over, without the cookie or with a forged state it is not.
func TestFuzzCallbackEnvHandsOver(t *testing.T) {
	e := newFuzzCallbackEnv(t)
	valid := url.QueryEscape(fuzzValidState(t))
	if _, code, h, _ := e.call(t, false, true, "code=abc&state="+valid, "", ""); h == nil || code != http.StatusSeeOther {
		t.Fatalf("valid callback: HTTP %d, handoff %v; want 303 and a handoff", code, h)
	}
	if _, code, h, _ := e.call(t, false, false, "code=abc&state="+valid, "", ""); h != nil || code != http.StatusForbidden {
		t.Fatalf("callback from another browser: HTTP %d, handoff %v; want 403 and none", code, h)
	}
	if _, code, h, _ := e.call(t, true, false, "", "code=abc&state="+valid, "application/x-www-form-urlencoded"); h != nil || code != http.StatusOK {
		t.Fatalf("cross-site form_post: HTTP %d, handoff %v; want the 200 re-post page and no handoff", code, h)
	}
	if _, code, h, _ := e.call(t, false, true, "code=abc&state="+valid[:len(valid)-3], "", ""); h != nil || code != http.StatusBadRequest {
		t.Fatalf("forged callback: HTTP %d, handoff %v; want 400 and none", code, h)
	}
}

// fuzzCallbackEnv holds what a callback needs around it.
type fuzzCallbackEnv struct {
	keys   *journey.Keys
	scheme *runtime.Scheme
}

func newFuzzCallbackEnv(tb testing.TB) *fuzzCallbackEnv {
	tb.Helper()
	return &fuzzCallbackEnv{keys: fuzzKeys(tb), scheme: scheme.New()}
}

// call serves one callback request on a fresh fake apiserver holding the pending
// connection and returns the handoff it wrote, if any; ok is false for a request
// that cannot be built.
func (e *fuzzCallbackEnv) call(t *testing.T, post, cookie bool, query, body, contentType string) (req *http.Request, code int, handoff *bankingv1alpha1.HandoffStatus, ok bool) {
	t.Helper()
	bc := &bankingv1alpha1.BankConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNS, Name: fuzzName, UID: fuzzUID},
		Spec: bankingv1alpha1.BankConnectionSpec{
			Provider: bankingv1alpha1.ProviderTrueLayer, ClientSecretRef: bankingv1alpha1.SecretReference{Name: "creds"},
			Scopes: []bankingv1alpha1.Scope{bankingv1alpha1.ScopeInfo}, UserRef: "user-1",
		},
		Status: bankingv1alpha1.BankConnectionStatus{
			Authorization:    &bankingv1alpha1.AuthorizationStatus{Nonce: fuzzNonce, ExpiresAt: metav1.NewTime(now.Add(time.Hour))},
			AuthorizationURL: "https://auth.example/?client_id=x",
		},
	}
	c := fake.NewClientBuilder().WithScheme(e.scheme).WithObjects(bc).WithStatusSubresource(&bankingv1alpha1.BankConnection{}).Build()
	s := &Server{Client: c, Reader: c, Journeys: e.keys, PublicURL: "https://gw.example", Clock: fuzzClock{}, Log: logr.Discard(),
		Limits: Limits{PerClient: -1, PerConnection: -1}}
	method := http.MethodGet
	if post {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(context.Background(), method, "https://gw.example/callback", strings.NewReader(body))
	if err != nil {
		return nil, 0, nil, false
	}
	req.URL.RawQuery = query
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cookie {
		req.AddCookie(&http.Cookie{Name: "__Host-consent-journey", Value: fuzzBrowser})
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	after := &bankingv1alpha1.BankConnection{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(bc), after); err != nil {
		t.Fatal(err)
	}
	return req, rec.Code, after.Status.Handoff, true
}
