package sandbox_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
)

const (
	testClient   = "sandbox-acme-1a2b3c"
	testSecret   = "s3cret"
	testRedirect = "http://localhost:8080/cb"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

var fullScopes = []string{"info", "accounts", "balance", "transactions", "cards", "offline_access"}

type env struct {
	t     testing.TB
	srv   *sandbox.Server
	http  *httptest.Server
	clock *clock.Manual
	base  string
}

func newEnv(t testing.TB, mutate ...func(*sandbox.Options)) *env {
	t.Helper()
	clk := clock.NewManual(t0)
	opts := sandbox.Options{
		Clients:     []sandbox.Client{{ID: testClient, Secret: testSecret, RedirectURIs: []string{testRedirect, "http://localhost:8080/other"}}},
		Clock:       clk,
		Seed:        7,
		DatasetSize: bankdata.SizeSmall,
	}
	for _, m := range mutate {
		m(&opts)
	}
	srv, err := sandbox.New(opts)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &env{t: t, srv: srv, http: hs, clock: clk, base: hs.URL}
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (status %d): %v: %s", r.status, err, r.body)
	}
	return m
}

func (e *env) do(method, path string, headers map[string]string, body io.Reader) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) get(path, token string, headers ...string) response {
	h := map[string]string{}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = headers[i+1]
	}
	return e.do(http.MethodGet, path, h, nil)
}

func (e *env) postForm(path string, v url.Values) response {
	return e.do(http.MethodPost, path, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader(v.Encode()))
}

func (e *env) postJSON(path, token string, body any) response {
	b, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	h := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return e.do(http.MethodPost, path, h, strings.NewReader(string(b)))
}

type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	Expires int    `json:"expires_in"`
	Type    string `json:"token_type"`
	Scope   string `json:"scope"`
}

func (r response) tokens(t testing.TB) tokens {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("token endpoint: status %d: %s", r.status, r.body)
	}
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

func (e *env) exchange(code string) response {
	return e.postForm("/connect/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {testClient},
		"client_secret": {testSecret}, "code": {code}, "redirect_uri": {testRedirect}})
}

func (e *env) refresh(rt string) response {
	return e.postForm("/connect/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {testClient},
		"client_secret": {testSecret}, "refresh_token": {rt}})
}

// consent runs the consent programmatically (Authorize) and exchanges the code.
func (e *env) consent(user, password string, scopes ...string) tokens {
	e.t.Helper()
	if len(scopes) == 0 {
		scopes = fullScopes
	}
	code, err := e.srv.Authorize(sandbox.AuthorizeRequest{ClientID: testClient, RedirectURI: testRedirect, Scopes: scopes, Username: user, Password: password})
	if err != nil {
		e.t.Fatalf("Authorize: %v", err)
	}
	return e.exchange(code).tokens(e.t)
}

func (e *env) connID(tk tokens) string {
	e.t.Helper()
	me := e.get("/data/v1/me", tk.Access)
	if me.status != 200 {
		e.t.Fatalf("/me: %d %s", me.status, me.body)
	}
	return me.json(e.t)["results"].([]any)[0].(map[string]any)["credentials_id"].(string)
}

func (e *env) accountIDs(tk tokens) (accounts, cards []string) {
	e.t.Helper()
	for _, p := range []string{"/data/v1/accounts", "/data/v1/cards"} {
		r := e.get(p, tk.Access, "X-PSU-IP", "10.0.0.1")
		if r.status == 403 && p == "/data/v1/cards" {
			continue // no cards scope
		}
		if r.status != 200 {
			e.t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
		for _, x := range r.json(e.t)["results"].([]any) {
			id := x.(map[string]any)["account_id"].(string)
			if p == "/data/v1/accounts" {
				accounts = append(accounts, id)
			} else {
				cards = append(cards, id)
			}
		}
	}
	return
}

// browser is a cookie-keeping HTTP client that follows the auth dialog's
// HTML forms but stops at redirects to the client's redirect URI.
type browser struct {
	t      testing.TB
	client *http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status   int
	location string
	body     string
	url      *url.URL
}

func (b *browser) fetch(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body), url: req.URL}
}

func (b *browser) open(u string) page {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.fetch(req)
}

var (
	formRe   = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)">(.*?)</form>`)
	inputRe  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	radioRe  = regexp.MustCompile(`<input type="radio" name="([^"]*)" value="([^"]*)"`)
	buttonRe = regexp.MustCompile(`<button type="submit" name="action" value="([^"]*)">`)
)

// form returns the page's first form: its action and hidden fields.
func (p page) form(t testing.TB) (string, url.Values, []string) {
	t.Helper()
	m := formRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form on page (status %d): %s", p.status, p.body)
	}
	v := url.Values{}
	for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
		v.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	var radios []string
	for _, r := range radioRe.FindAllStringSubmatch(m[2], -1) {
		radios = append(radios, r[2])
	}
	var actions []string
	for _, bt := range buttonRe.FindAllStringSubmatch(m[2], -1) {
		actions = append(actions, bt[1])
	}
	_ = radios
	return html.UnescapeString(m[1]), v, actions
}

// submit posts the page's form with extra fields.
func (b *browser) submit(p page, extra url.Values) page {
	b.t.Helper()
	action, v, _ := p.form(b.t)
	for k, vs := range extra {
		v[k] = vs
	}
	target := p.url.ResolveReference(&url.URL{Path: action})
	if strings.HasPrefix(action, "http") {
		target, _ = url.Parse(action)
	}
	req, err := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(v.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.fetch(req)
}

func authLink(base string, params map[string]string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {testClient}, "redirect_uri": {testRedirect},
		"scope": {strings.Join(fullScopes, " ")}, "providers": {"uk-cs-mock"}, "state": {"ns/name"}}
	for k, v := range params {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return base + "/?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

func mustf(t testing.TB, cond bool, format string, args ...any) {
	t.Helper()
	if !cond {
		t.Fatalf(format, args...)
	}
}

var _ = fmt.Sprintf
