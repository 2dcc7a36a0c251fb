package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// The fuzzed callback belongs to one pending connection.
const (
	fuzzNS    = "team-a"
	fuzzName  = "alice"
	fuzzUID   = "0b7c2a6e-5d1f-4e8a-9c3b-7f6e5d4c3b2a"
	fuzzNonce = "pending-nonce-1"
)

var fuzzKey = StateKey("0123456789abcdef0123456789abcdef")

// fuzzValidState is the state of the connection's pending authorization.
func fuzzValidState() string {
	s, err := fuzzKey.Sign(State{Namespace: fuzzNS, Name: fuzzName, UID: fuzzUID, UserRef: "user-1", Nonce: fuzzNonce, Expiry: now.Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	return s
}

type fuzzClock struct{}

func (fuzzClock) Now() time.Time { return now }

// FuzzCallback sends arbitrary requests to the OAuth callback (method, query, body,
// content type) with a fake apiserver holding one pending connection and a fake
// TrueLayer that counts code exchanges. The handler must never panic, never answer a
// 5xx other than 502 (provider) or 503 (apiserver), and never exchange a code unless
// the request carried the valid, current state of that connection.
func FuzzCallback(f *testing.F) {
	valid := fuzzValidState()
	otherKey, _ := StateKey("another key of thirty-two bytes!").Sign(State{Namespace: fuzzNS, Name: fuzzName, UID: fuzzUID, Nonce: fuzzNonce, Expiry: now.Add(time.Hour)})
	form := "application/x-www-form-urlencoded"
	seeds := []struct {
		post        bool
		query, body string
		contentType string
	}{
		{false, "code=abc&state=" + url.QueryEscape(valid), "", ""},
		{true, "", "code=abc&state=" + url.QueryEscape(valid), form},
		{false, "error=access_denied&state=" + url.QueryEscape(valid), "", ""},
		{false, "error=server_error&state=" + url.QueryEscape(valid), "", ""},
		{false, "state=" + url.QueryEscape(valid), "", ""},
		{false, "code=abc&state=" + url.QueryEscape(otherKey), "", ""},
		{false, "code=abc&state=" + url.QueryEscape(valid[:len(valid)-4]), "", ""},
		{false, "code=abc&state=" + url.QueryEscape(valid) + "&state=x", "", ""},
		{false, "code=abc&code=def&state=" + url.QueryEscape(valid), "", ""},
		{false, "code=abc&state=%zz", "", ""},
		{false, "code=abc&state=" + strings.Repeat("A", MaxStateLength+1), "", ""},
		{true, "", strings.Repeat("a=b&", 20000), form},
		{true, "code=abc", "state=" + url.QueryEscape(valid), "multipart/form-data; boundary=x"},
		{true, "", "%%%", form},
		{false, "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.post, s.query, s.body, s.contentType)
	}

	e := newFuzzCallbackEnv(f)
	f.Fuzz(func(t *testing.T, post bool, query, body, contentType string) {
		req, code, exchanged, ok := e.call(t, post, query, body, contentType)
		if !ok {
			t.Skip("not a request a client can send")
		}
		if code >= 500 && code != http.StatusBadGateway && code != http.StatusServiceUnavailable {
			t.Fatalf("HTTP %d for post=%v ?%q body %q", code, post, query, body)
		}
		if !exchanged {
			return
		}
		st, err := fuzzKey.Verify(req.Form.Get("state"), now)
		if err != nil || st.Nonce != fuzzNonce || st.UID != fuzzUID || st.Namespace != fuzzNS || st.Name != fuzzName {
			t.Fatalf("a code was exchanged for state %q (%v)", req.Form.Get("state"), err)
		}
		if req.Form.Get("code") == "" || req.Form.Get("error") != "" {
			t.Fatalf("a code was exchanged for a callback without one (or with an error): %v", req.Form)
		}
	})
}

// TestFuzzCallbackEnvExchanges checks the fuzz target can fail: the valid state does
// reach the provider, a forged one does not.
func TestFuzzCallbackEnvExchanges(t *testing.T) {
	e := newFuzzCallbackEnv(t)
	valid := url.QueryEscape(fuzzValidState())
	if _, code, exchanged, _ := e.call(t, false, "code=abc&state="+valid, "", ""); !exchanged || code != http.StatusOK {
		t.Fatalf("valid callback: HTTP %d, exchanged %v; want 200 and an exchange", code, exchanged)
	}
	if _, code, exchanged, _ := e.call(t, false, "code=abc&state="+valid[:len(valid)-3], "", ""); exchanged || code != http.StatusBadRequest {
		t.Fatalf("forged callback: HTTP %d, exchanged %v; want 400 and no exchange", code, exchanged)
	}
}

// fuzzCallbackEnv is a fake TrueLayer counting code exchanges and what a callback
// needs around it.
type fuzzCallbackEnv struct {
	exchanges *atomic.Int64
	tl        *truelayer.Client
	scheme    *runtime.Scheme
}

func newFuzzCallbackEnv(tb testing.TB) *fuzzCallbackEnv {
	tb.Helper()
	var exchanges atomic.Int64
	tl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/connect/token" {
			exchanges.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"at","refresh_token":"rt","expires_in":3600,"token_type":"Bearer","scope":"info"}`))
			return
		}
		http.NotFound(w, r)
	}))
	tb.Cleanup(tl.Close)
	tlClient, err := truelayer.New(truelayer.Options{AuthURL: tl.URL, APIURL: tl.URL, MaxRetries: -1,
		RateLimit: truelayer.RateLimit{PerSecond: -1}, Clock: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(bankingv1alpha1.AddToScheme(scheme))

	return &fuzzCallbackEnv{exchanges: &exchanges, tl: tlClient, scheme: scheme}
}

// call serves one callback request on a fresh fake apiserver holding the pending
// connection; ok is false for a request that cannot be built.
func (e *fuzzCallbackEnv) call(t *testing.T, post bool, query, body, contentType string) (req *http.Request, code int, exchanged, ok bool) {
	t.Helper()
	bc := &bankingv1alpha1.BankConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNS, Name: fuzzName, UID: fuzzUID},
		Spec: bankingv1alpha1.BankConnectionSpec{
			Provider: bankingv1alpha1.ProviderTrueLayer, ClientSecretRef: bankingv1alpha1.SecretReference{Name: "creds"},
			Scopes: []bankingv1alpha1.Scope{bankingv1alpha1.ScopeInfo}, UserRef: "user-1",
		},
		Status: bankingv1alpha1.BankConnectionStatus{
			Authorization:    &bankingv1alpha1.AuthorizationStatus{Nonce: fuzzNonce, ExpiresAt: metav1.NewTime(now.Add(time.Hour))},
			AuthorizationURL: "https://auth.example/?state=x",
		},
	}
	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNS, Name: "creds"},
		Data: map[string][]byte{"client_id": []byte("id"), "client_secret": []byte("secret")}}
	c := fake.NewClientBuilder().WithScheme(e.scheme).WithObjects(bc, creds).WithStatusSubresource(&bankingv1alpha1.BankConnection{}).Build()
	s := &Server{
		Client: c, Reader: c, Providers: provider.Registry{string(bankingv1alpha1.ProviderTrueLayer): e.tl},
		Tokens: &tokensecret.Store{Client: c, Reader: c}, Key: fuzzKey, PublicURL: "https://gw.example",
		Clock: fuzzClock{}, Log: logr.Discard(),
	}
	method := http.MethodGet
	if post {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(context.Background(), method, "http://gw.example/callback", strings.NewReader(body))
	if err != nil {
		return nil, 0, false, false
	}
	req.URL.RawQuery = query
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	before := e.exchanges.Load()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)

	return req, rec.Code, e.exchanges.Load() != before, true
}
