package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// connectServer is a gateway over a fake apiserver holding connections in the states
// a connect link can find them in.
func connectServer(t *testing.T, limits Limits) *Server {
	t.Helper()
	e := newFuzzCallbackEnv(t)
	mk := func(name, nonce string, expires time.Time, handoff bool) *bankingv1alpha1.BankConnection {
		bc := &bankingv1alpha1.BankConnection{
			ObjectMeta: metav1.ObjectMeta{Namespace: fuzzNS, Name: name, UID: types.UID("uid-" + name)},
			Spec:       bankingv1alpha1.BankConnectionSpec{Provider: bankingv1alpha1.ProviderTrueLayer},
			Status: bankingv1alpha1.BankConnectionStatus{
				Authorization:    &bankingv1alpha1.AuthorizationStatus{Nonce: nonce, ExpiresAt: metav1.NewTime(expires)},
				AuthorizationURL: "https://auth.example/?client_id=x&scope=info%20accounts",
			},
		}
		if handoff {
			bc.Status.Handoff = &bankingv1alpha1.HandoffStatus{Nonce: nonce, Code: "sealed", ExpiresAt: metav1.NewTime(expires)}
		}
		return bc
	}
	c := fake.NewClientBuilder().WithScheme(e.scheme).
		WithObjects(mk("pending", "pending-secret", now.Add(time.Hour), false), mk("expired", "expired-secret", now.Add(-time.Second), false),
			mk("used", "used-secret", now.Add(time.Hour), true)).
		WithIndex(&bankingv1alpha1.BankConnection{}, IndexJourneyNonce, JourneyNonceOf).
		WithStatusSubresource(&bankingv1alpha1.BankConnection{}).Build()
	return &Server{Client: c, Reader: c, Journeys: e.keys, PublicURL: "https://gw.example", Clock: fuzzClock{}, Log: logr.Discard(), Limits: limits,
		LinkGrace: time.Millisecond}
}

func serve(h http.Handler, method, target string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestConnectRefusalsLookAlike: an unknown, expired, used or malformed link, or a
// connection's name, gets the same status and page.
func TestConnectRefusalsLookAlike(t *testing.T) {
	h := connectServer(t, Limits{PerClient: -1, PerConnection: -1}).Handler()
	want := serve(h, "GET", "https://gw.example/connect/unknown-secret")
	if want.Code != http.StatusNotFound {
		t.Fatalf("unknown link: HTTP %d", want.Code)
	}
	for _, path := range []string{"/connect/expired-secret", "/connect/used-secret", "/connect/" + fuzzNS + "/pending", "/connect/pending",
		"/connect/" + strings.Repeat("x", 500)} {
		got := serve(h, "GET", "https://gw.example"+path)
		if got.Code != want.Code || got.Body.String() != want.Body.String() {
			t.Errorf("%s: HTTP %d, want the same %d page as an unknown link", path, got.Code, want.Code)
		}
	}
}

// TestConnectBindsTheBrowser: the valid link sets the __Host- cookie and redirects with
// a state bound to it; every answer carries the security headers.
func TestConnectBindsTheBrowser(t *testing.T) {
	s := connectServer(t, Limits{PerClient: -1, PerConnection: -1})
	rec := serve(s.Handler(), "GET", "https://gw.example/connect/pending-secret")
	if rec.Code != http.StatusFound {
		t.Fatalf("valid link: HTTP %d", rec.Code)
	}
	for h, v := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if rec.Header().Get(h) != v {
			t.Errorf("%s = %q, want %q", h, rec.Header().Get(h), v)
		}
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP %q has no frame-ancestors 'none'", rec.Header().Get("Content-Security-Policy"))
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("%d cookies set", len(cookies))
	}
	c := cookies[0]
	if c.Name != "__Host-consent-journey" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("cookie %+v, want __Host-, Secure, HttpOnly, SameSite=Lax, Path=/", c)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Host != "auth.example" || strings.Contains(loc.RawQuery, "+") {
		t.Fatalf("redirect to %q", rec.Header().Get("Location"))
	}
	st, err := s.Journeys.OpenState(loc.Query().Get("state"), now)
	if err != nil || st.Name != "pending" || st.Nonce != "pending-secret" || st.Browser != journey.BrowserHash(c.Value) {
		t.Fatalf("state %+v (%v) not bound to the cookie", st, err)
	}
	// The same browser opening a second link keeps its cookie.
	again := serve(s.Handler(), "GET", "https://gw.example/connect/pending-secret", c)
	if len(again.Result().Cookies()) != 0 {
		t.Fatal("a browser with a valid cookie got a new one")
	}
}

// TestPerClientLimit: one address past its bucket gets 429 with Retry-After, and
// another address is unaffected.
func TestPerClientLimit(t *testing.T) {
	h := connectServer(t, Limits{PerClient: 1, ClientBurst: 3, PerConnection: -1}).Handler()
	from := func(addr string) int {
		req := httptest.NewRequest("GET", "https://gw.example/connect/unknown", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		return rec.Code
	}
	for i := 0; i < 3; i++ {
		if code := from("203.0.113.7:1000"); code != http.StatusNotFound {
			t.Fatalf("request %d within the burst: HTTP %d", i, code)
		}
	}
	if code := from("203.0.113.7:1001"); code != http.StatusTooManyRequests {
		t.Fatalf("past the burst: HTTP %d, want 429", code)
	}
	if code := from("198.51.100.9:1000"); code != http.StatusNotFound {
		t.Fatalf("another address: HTTP %d", code)
	}
}

// TestRepostPage: the re-post page carries the provider's fields, a script allowed
// by its nonce alone, and posts only to the gateway.
func TestRepostPage(t *testing.T) {
	rec := httptest.NewRecorder()
	writeRepost(rec, "https://gw.example/callback", url.Values{"code": {`a"><script>x</script>`}, "state": {"s"}})
	body, csp := rec.Body.String(), rec.Header().Get("Content-Security-Policy")
	if strings.Contains(body, "<script>x</script>") {
		t.Fatal("a field value was not escaped")
	}
	if !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "form-action 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q", csp)
	}
	if !strings.Contains(body, `name="`+repostMarker+`"`) || !strings.Contains(body, `action="https://gw.example/callback"`) {
		t.Fatalf("re-post form %s", body)
	}
}

// TestConnectWaitsForALinkJustPublished: a link the cache shows only a moment after
// the user opens it is served, not refused.
func TestConnectWaitsForALinkJustPublished(t *testing.T) {
	s := connectServer(t, Limits{PerClient: -1, PerConnection: -1})
	s.LinkGrace = 2 * time.Second
	go func() {
		time.Sleep(300 * time.Millisecond)
		bc := &bankingv1alpha1.BankConnection{}
		bc.Namespace, bc.Name, bc.UID = fuzzNS, "late", "uid-late"
		bc.Spec.Provider = bankingv1alpha1.ProviderTrueLayer
		bc.Status.Authorization = &bankingv1alpha1.AuthorizationStatus{Nonce: "late-secret", ExpiresAt: metav1.NewTime(now.Add(time.Hour))}
		bc.Status.AuthorizationURL = "https://auth.example/?client_id=x"
		if err := s.Client.Create(context.Background(), bc); err != nil {
			t.Error(err)
		}
	}()
	if rec := serve(s.Handler(), "GET", "https://gw.example/connect/late-secret"); rec.Code != http.StatusFound {
		t.Fatalf("a link published 300ms after it was opened: HTTP %d, want 302", rec.Code)
	}
}

// TestApplicationBankSelection: a journey whose application shows its own bank list
// gets that list from the gateway (readable by the application's origin), and the
// bank the user chose goes to the provider preselected; a bank not on the list is
// refused.
func TestApplicationBankSelection(t *testing.T) {
	s := connectServer(t, Limits{PerClient: -1, PerConnection: -1})
	bc := &bankingv1alpha1.BankConnection{}
	bc.Namespace, bc.Name, bc.UID = fuzzNS, "chooser", "uid-chooser"
	bc.Spec.Provider = bankingv1alpha1.ProviderTrueLayer
	bc.Spec.BankSelection = bankingv1alpha1.BankSelectionApplication
	bc.Spec.Redirect = &bankingv1alpha1.RedirectSpec{ReturnURL: "https://app.example/banking/done"}
	bc.Status.Authorization = &bankingv1alpha1.AuthorizationStatus{Nonce: "chooser-secret", ExpiresAt: metav1.NewTime(now.Add(time.Hour))}
	bc.Status.AuthorizationURL = "https://auth.example/?client_id=x&providers=uk-cs-mock"
	bc.Status.Banks = []bankingv1alpha1.Bank{{ID: "mock", Name: "Mock", Country: "uk"}, {ID: "ob-mock", Name: "Mock Open Banking", Country: "uk"}}
	if err := s.Client.Create(context.Background(), bc); err != nil {
		t.Fatal(err)
	}
	h := s.Handler()

	rec := serve(h, "GET", "https://gw.example/connect/chooser-secret/banks")
	var got banksResponse
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil || len(got.Banks) != 2 || got.Banks[1].ID != "ob-mock" {
		t.Fatalf("bank list: HTTP %d %s", rec.Code, rec.Body.String())
	}
	if o := rec.Header().Get("Access-Control-Allow-Origin"); o != "https://app.example" {
		t.Fatalf("Access-Control-Allow-Origin %q, want the application's origin", o)
	}
	if rec := serve(h, "GET", "https://gw.example/connect/unknown-secret/banks"); rec.Code != http.StatusNotFound {
		t.Fatalf("bank list of an unknown link: HTTP %d", rec.Code)
	}

	rec = serve(h, "GET", "https://gw.example/connect/chooser-secret?bank=ob-mock")
	loc, err := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusFound || err != nil {
		t.Fatalf("chosen bank: HTTP %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if q := loc.Query(); q.Get("provider_id") != "ob-mock" || q.Get("providers") != "uk-cs-mock ob-mock" || q.Get("state") == "" {
		t.Fatalf("provider link %s does not preselect the chosen bank", loc)
	}
	if rec := serve(h, "GET", "https://gw.example/connect/chooser-secret?bank=evil-bank"); rec.Code != http.StatusBadRequest {
		t.Fatalf("a bank not on the list: HTTP %d, want 400", rec.Code)
	}
}
