package truelayer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/provider/providertest"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
)

const (
	testClientID = "sandbox-operator-1a2b3c"
	testSecret   = "s3cret-0f-the-client-9d8e7f"
	testRedirect = "http://127.0.0.1:8085/oauth/callback"
	day          = 24 * time.Hour
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// env is a bank sandbox on a real socket and a client pointed at it.
type env struct {
	t      *testing.T
	srv    *sandbox.Server
	hs     *httptest.Server
	clk    *clock.Manual
	client *truelayer.Client
	sleeps *providertest.Sleeps
	obs    *providertest.Observations
}

func newEnv(t *testing.T, sandboxOpts func(*sandbox.Options), clientOpts func(*truelayer.Options)) *env {
	t.Helper()
	clk := clock.NewManual(t0)
	so := sandbox.Options{
		Clients:     []sandbox.Client{{ID: testClientID, Secret: testSecret, RedirectURIs: []string{testRedirect}}},
		Clock:       clk,
		Seed:        11,
		DatasetSize: bankdata.SizeSmall,
	}
	if sandboxOpts != nil {
		sandboxOpts(&so)
	}
	srv, err := sandbox.New(so)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	e := &env{t: t, srv: srv, hs: hs, clk: clk, sleeps: &providertest.Sleeps{}, obs: &providertest.Observations{}}
	e.client = e.newClient(clientOpts)
	return e
}

func (e *env) newClient(mutate func(*truelayer.Options)) *truelayer.Client {
	e.t.Helper()
	o := truelayer.Options{
		AuthURL: e.hs.URL, APIURL: e.hs.URL,
		HTTP: httpx.Options{
			Now: e.clk.Now, Sleep: e.sleeps.Sleep, Backoff: httpx.Backoff{Rand: func() float64 { return 0.5 }},
			RateLimit: httpx.RateLimit{PerSecond: -1},
			Observer:  e.obs.Observe,
		},
	}
	if mutate != nil {
		mutate(&o)
	}
	c, err := truelayer.New(o)
	if err != nil {
		e.t.Fatalf("truelayer.New: %v", err)
	}
	return c
}

func (e *env) conn(api string) provider.Connection {
	c := provider.Connection{
		Namespace: "team-a", Name: "alice-mock", UID: "0d7c0b5e-uid",
		Credentials: provider.Credentials{ClientID: testClientID, ClientSecret: testSecret},
		Environment: "Sandbox", DataAPI: api,
		Scopes:     []string{"info", "accounts", "balance", "transactions"},
		DataAccess: "Recurring", UserRef: "alice@example.test", RedirectURI: testRedirect,
		User: provider.EndUser{Name: "Alice Example", Email: "alice@example.test"},
	}
	if api == truelayer.DataAPISignupPlus {
		c.Scopes = []string{"info", "accounts", "signupplus"}
	}
	return c
}

// authorizeLink completes the dialog for an auth link as a user would: the
// link is first opened over HTTP (the sandbox must accept it), then the
// sandbox issues a code for exactly the link's parameters.
func (e *env) authorizeLink(link string) string {
	e.t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(link)
	if err != nil {
		e.t.Fatalf("opening the auth link: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("the sandbox refused the auth link: HTTP %d (Location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, err := url.Parse(link)
	if err != nil {
		e.t.Fatal(err)
	}
	q := u.Query()
	pid := q.Get("provider_id")
	if pid == "" {
		pid = "mock"
	}
	code, err := e.srv.Authorize(sandbox.AuthorizeRequest{
		ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"),
		Scopes: strings.Fields(q.Get("scope")), ProviderID: pid,
	})
	if err != nil {
		e.t.Fatalf("sandbox Authorize: %v", err)
	}
	return code
}

// connectV1 runs a V1/SignupPlus journey and returns the tokens and the
// sandbox connection id.
func (e *env) connectV1(conn provider.Connection) (provider.Tokens, string) {
	e.t.Helper()
	ctx := context.Background()
	auth, err := e.client.BeginAuthorization(ctx, conn, "signed-state")
	if err != nil {
		e.t.Fatalf("BeginAuthorization: %v", err)
	}
	code := e.authorizeLink(auth.URL)
	g, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{Code: code})
	if err != nil {
		e.t.Fatalf("CompleteAuthorization: %v", err)
	}
	if g.Tokens == nil || g.Tokens.AccessToken == "" {
		e.t.Fatalf("no tokens in the grant: %+v", g)
	}
	info, ok := e.srv.ConnectionByRefreshToken(g.Tokens.RefreshToken)
	if !ok {
		e.t.Fatalf("the sandbox does not know the refresh token")
	}
	return *g.Tokens, info.ID
}

// calls counts the sandbox's calls of endpoint, for one connection or all ("").
func (e *env) calls(connection, endpoint string) int64 {
	return e.srv.CallTotal(sandbox.CallFilter{Connection: connection, Endpoint: endpoint})
}

// wantErr checks that err is a *provider.Error of class and reason.
func wantErr(t *testing.T, err error, class provider.Class, reason string) *provider.Error {
	t.Helper()
	pe, ok := provider.AsError(err)
	if !ok {
		t.Fatalf("want a *provider.Error %s/%s, got %T %v", class, reason, err, err)
	}
	if pe.Class != class || pe.Reason != reason {
		t.Fatalf("want %s/%q, got %s/%q: %v", class, reason, pe.Class, pe.Reason, err)
	}
	return pe
}

// noSecrets fails when an error string contains any of the values.
func noSecrets(t *testing.T, err error, values ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Err != nil {
		msg += " " + pe.Err.Error()
	}
	for _, v := range values {
		if v != "" && strings.Contains(msg, v) {
			t.Fatalf("error text contains a secret value: %q", msg)
		}
	}
}

// get makes a bearer GET to the sandbox and returns the status.
func (e *env) get(path, token string) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.hs.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// hasTraceID fails unless the error carries the answer's trace id, in the
// error's message too (it is what TrueLayer's support asks for).
func hasTraceID(t *testing.T, pe *provider.Error) {
	t.Helper()
	if len(pe.TraceID) < 16 {
		t.Fatalf("trace id %q: the answer's Tl-Trace-Id / X-TL-Correlation-Id / trace_id was dropped: %v", pe.TraceID, pe)
	}
	if !strings.Contains(pe.Error(), "trace id "+pe.TraceID) {
		t.Fatalf("the message does not show the trace id: %v", pe)
	}
}
