package sandbox_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
)

// runDialog drives the HTML auth dialog like a user: choose the bank (unless
// preselected), allow, log in. It returns the final page (the redirect or
// the form_post page).
func runDialog(t *testing.T, b *browser, link, user, password string) page {
	t.Helper()
	p := b.open(link)
	mustf(t, p.status == 200, "auth link: status %d: %s", p.status, p.body)
	if strings.Contains(p.body, `action="/auth/select"`) {
		mustf(t, strings.Contains(p.body, "Mock"), "bank selection does not offer Mock: %s", p.body)
		p = b.submit(p, url.Values{"provider_id": {"mock"}, "action": {"continue"}})
	}
	mustf(t, strings.Contains(p.body, `id="permissions"`), "no consent screen: %s", p.body)
	p = b.submit(p, url.Values{"action": {"allow"}})
	mustf(t, strings.Contains(p.body, `name="password"`), "no login form: %s", p.body)
	return b.submit(p, url.Values{"action": {"login"}, "username": {user}, "password": {password}})
}

func codeFrom(t *testing.T, p page) (code, state string) {
	t.Helper()
	mustf(t, p.status == http.StatusFound, "want a redirect, got %d: %s", p.status, p.body)
	u, err := url.Parse(p.location)
	mustf(t, err == nil && strings.HasPrefix(p.location, testRedirect), "redirect to %q", p.location)
	return u.Query().Get("code"), u.Query().Get("state")
}

func TestConsentJourneyOverHTTP(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	code, state := codeFrom(t, runDialog(t, b, authLink(e.base, nil), "john", "doe"))
	mustf(t, code != "" && state == "ns/name", "code %q state %q", code, state)

	tk := e.exchange(code).tokens(t)
	mustf(t, tk.Type == "Bearer" && tk.Expires == 3600 && tk.Refresh != "", "token response %+v", tk)
	mustf(t, tk.Scope == strings.Join(fullScopes, " "), "scope %q", tk.Scope)

	// The code is single-use.
	if r := e.exchange(code); r.status != 400 || string(r.body) != `{"error":"invalid_grant"}` {
		t.Fatalf("reused code: %d %s", r.status, r.body)
	}
	// Every Data API v1 endpoint answers.
	accts, cards := e.accountIDs(tk)
	mustf(t, len(accts) == 2 && len(cards) == 1, "accounts %v cards %v", accts, cards)
	for _, p := range []string{"/data/v1/me", "/data/v1/info", "/data/v1/accounts/" + accts[0], "/data/v1/accounts/" + accts[0] + "/balance",
		"/data/v1/accounts/" + accts[0] + "/transactions", "/data/v1/accounts/" + accts[0] + "/transactions/pending",
		"/data/v1/cards/" + cards[0], "/data/v1/cards/" + cards[0] + "/balance", "/data/v1/cards/" + cards[0] + "/transactions",
		"/data/v1/cards/" + cards[0] + "/transactions/pending"} {
		r := e.get(p, tk.Access)
		mustf(t, r.status == 200 && r.json(t)["status"] == "Succeeded", "%s: %d %s", p, r.status, r.body)
	}
}

func TestConsentJourneyFormPostAndPKCE(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	verifier := "a-very-long-code-verifier-with-enough-entropy-1234567890"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	p := runDialog(t, b, authLink(e.base, map[string]string{"response_mode": "form_post", "provider_id": "mock",
		"code_challenge": challenge, "code_challenge_method": "S256"}), "john", "doe")
	mustf(t, p.status == 200, "form_post page status %d", p.status)
	action, fields, _ := p.form(t)
	mustf(t, action == testRedirect && fields.Get("state") == "ns/name" && fields.Get("code") != "", "form_post form: %s %v", action, fields)

	exch := func(v string) response {
		return e.postForm("/connect/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {testClient},
			"client_secret": {testSecret}, "code": {fields.Get("code")}, "redirect_uri": {testRedirect}, "code_verifier": {v}})
	}
	if r := exch("wrong-verifier"); r.status != 400 {
		t.Fatalf("wrong PKCE verifier: %d %s", r.status, r.body)
	}
	// The failed attempt consumed the code (single use).
	if r := exch(verifier); r.status != 400 {
		t.Fatalf("code reused after failed exchange: %d", r.status)
	}
	// A fresh journey with the right verifier succeeds, with a JSON body.
	p = runDialog(t, newBrowser(t), authLink(e.base, map[string]string{"response_mode": "form_post", "provider_id": "mock",
		"code_challenge": challenge, "code_challenge_method": "S256"}), "john", "doe")
	_, fields, _ = p.form(t)
	r := e.postJSON("/connect/token", "", map[string]string{"grant_type": "authorization_code", "client_id": testClient,
		"client_secret": testSecret, "code": fields.Get("code"), "redirect_uri": testRedirect, "code_verifier": verifier})
	r.tokens(t)
}

func TestAuthDialogErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		params map[string]string
	}{
		{"unknown client", map[string]string{"client_id": "nobody"}},
		{"unregistered redirect", map[string]string{"redirect_uri": "http://evil.example/cb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newBrowser(t).open(authLink(e.base, tc.params))
			mustf(t, p.status == 400 && p.location == "" && strings.Contains(p.body, "Something went wrong"), "want error page, got %d %q", p.status, p.location)
		})
	}
	t.Run("cancel gives access_denied", func(t *testing.T) {
		b := newBrowser(t)
		p := b.open(authLink(e.base, map[string]string{"provider_id": "mock"}))
		p = b.submit(p, url.Values{"action": {"cancel"}})
		u, _ := url.Parse(p.location)
		mustf(t, p.status == 302 && u.Query().Get("error") == "access_denied" && u.Query().Get("state") == "ns/name", "cancel: %d %s", p.status, p.location)
	})
	t.Run("bad scope redirects with invalid_scope", func(t *testing.T) {
		p := newBrowser(t).open(authLink(e.base, map[string]string{"scope": "balance"}))
		u, _ := url.Parse(p.location)
		mustf(t, p.status == 302 && u.Query().Get("error") == "invalid_scope", "bad scope: %d %s", p.status, p.location)
	})
	t.Run("wrong password stays on login", func(t *testing.T) {
		b := newBrowser(t)
		p := runDialog(t, b, authLink(e.base, nil), "john", "wrong")
		mustf(t, p.status == 401 && strings.Contains(p.body, `name="password"`), "wrong password: %d", p.status)
	})
	t.Run("session bound to browser", func(t *testing.T) {
		b := newBrowser(t)
		p := b.open(authLink(e.base, map[string]string{"provider_id": "mock"}))
		other := newBrowser(t)
		p2 := other.submit(p, url.Values{"action": {"allow"}})
		mustf(t, p2.status == 400, "other browser continued the session: %d", p2.status)
	})
	t.Run("enable_mock and provider groups", func(t *testing.T) {
		p := newBrowser(t).open(authLink(e.base, map[string]string{"providers": "", "enable_mock": "true"}))
		mustf(t, strings.Contains(p.body, `value="mock"`), "enable_mock did not offer Mock")
		p = newBrowser(t).open(authLink(e.base, map[string]string{"providers": "", "enable_mock": ""}))
		mustf(t, !strings.Contains(p.body, `value="mock"`) && strings.Contains(p.body, `value="ob-mock"`), "default providers: %s", p.body)
	})
}

func TestAuthCodeExpiresAfterFiveMinutes(t *testing.T) {
	e := newEnv(t)
	code, err := e.srv.Authorize(sandbox.AuthorizeRequest{ClientID: testClient, RedirectURI: testRedirect, Scopes: fullScopes})
	mustf(t, err == nil, "Authorize: %v", err)
	e.clock.Advance(5*time.Minute + time.Second)
	r := e.exchange(code)
	mustf(t, r.status == 400 && r.json(t)["error"] == "invalid_grant", "expired code: %d %s", r.status, r.body)
	code, _ = e.srv.Authorize(sandbox.AuthorizeRequest{ClientID: testClient, RedirectURI: testRedirect, Scopes: fullScopes})
	e.clock.Advance(4 * time.Minute)
	e.exchange(code).tokens(t)
}

// TestConsentScreenNamesTheApplication: the user is asked by the application's name,
// never by its client id, which means nothing to them.
func TestConsentScreenNamesTheApplication(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"Acme Budgeting", "Acme Budgeting"},
		{"", "An unnamed application"},
	} {
		e := newEnv(t, func(o *sandbox.Options) { o.Clients[0].Name = tc.name })
		b := newBrowser(t)
		p := b.open(authLink(e.base, nil))
		p = b.submit(p, url.Values{"provider_id": {"mock"}, "action": {"continue"}})
		mustf(t, strings.Contains(p.body, `id="permissions"`), "no consent screen: %s", p.body)
		mustf(t, strings.Contains(p.body, `<strong id="application">`+tc.want+`</strong> is asking`), "consent screen does not name %q: %s", tc.want, p.body)
		mustf(t, !strings.Contains(p.body, testClient), "consent screen shows the client id: %s", p.body)
	}
}
