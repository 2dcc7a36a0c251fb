package codat_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/codat"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/provider/providertest"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
	emu "github.com/consent-operator/consent-operator/internal/sandbox/codat"
)

const (
	testAPIKey   = "codat-key-7f3a91c2e5b84d06"
	pullDuration = 10 * time.Second
	day          = 24 * time.Hour
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// env is the Codat emulator on a real socket and a client pointed at it.
type env struct {
	t      *testing.T
	emu    *emu.Emulator
	hs     *httptest.Server
	clk    *clock.Manual
	client *codat.Client
	sleeps *providertest.Sleeps
	obs    *providertest.Observations
}

func newEnv(t *testing.T, emuOpts func(*emu.Options), clientOpts func(*codat.Options)) *env {
	t.Helper()
	clk := clock.NewManual(t0)
	eo := emu.Options{
		APIKeys:      []string{testAPIKey},
		Clock:        clk,
		Seed:         7,
		DataSize:     bankdata.SizeSmall,
		PullDuration: pullDuration,
	}
	if emuOpts != nil {
		emuOpts(&eo)
	}
	e, err := emu.New(eo)
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	hs := httptest.NewServer(e.Handler())
	t.Cleanup(hs.Close)
	en := &env{t: t, emu: e, hs: hs, clk: clk, sleeps: &providertest.Sleeps{}, obs: &providertest.Observations{}}
	en.client = en.newClient(hs.URL, clientOpts)
	return en
}

func (e *env) newClient(baseURL string, mutate func(*codat.Options)) *codat.Client {
	e.t.Helper()
	o := codat.Options{
		BaseURL: baseURL,
		HTTP: httpx.Options{
			Now:       e.clk.Now,
			Sleep:     e.sleeps.Sleep,
			Backoff:   httpx.Backoff{Rand: func() float64 { return 0.5 }},
			RateLimit: httpx.RateLimit{PerSecond: -1},
			Observer:  e.obs.Observe,
		},
	}
	if mutate != nil {
		mutate(&o)
	}
	c, err := codat.New(o)
	if err != nil {
		e.t.Fatalf("codat.New: %v", err)
	}
	return c
}

// begin starts a consent journey for conn with state and returns conn with
// the refs Codat gave it, and the authorization.
func (e *env) begin(conn provider.Connection, state string) (provider.Connection, provider.Authorization) {
	e.t.Helper()
	auth, err := e.client.BeginAuthorization(context.Background(), conn, state)
	if err != nil {
		e.t.Fatalf("BeginAuthorization: %v", err)
	}
	conn.Refs = auth.Refs
	return conn, auth
}

// testConn is a BankConnection for the emulator's mock bank.
func testConn() provider.Connection {
	return provider.Connection{
		Namespace: "team-a", Name: "acme-current", UID: "9b1c0d7e-2f4a-4c6b-8d3e-5a7f9e1b2c3d",
		Credentials: provider.Credentials{APIKey: testAPIKey},
		ProviderID:  "mock", DataAccess: "Recurring", UserRef: "user_42", CompanyName: "Acme Current Ltd",
	}
}

// mustProviderError asserts err is a *provider.Error of class (and reason, when set).
func mustProviderError(t *testing.T, err error, class provider.Class, reason string) *provider.Error {
	t.Helper()
	pe, ok := provider.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	if pe.Class != class || (reason != "" && pe.Reason != reason) {
		t.Fatalf("error %v: class %s reason %q, want %s %q", err, pe.Class, pe.Reason, class, reason)
	}
	if strings.Contains(err.Error(), testAPIKey) || strings.Contains(err.Error(), emu.AuthorizationHeader(testAPIKey)[len("Basic "):]) {
		t.Fatalf("error %q contains the API key", err)
	}
	return pe
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)

// authorizeLink follows link like a user in a browser: it loads the consent
// page and presses the button with the given decision ("authorize" or
// "cancel"). It returns the final page's body.
func authorizeLink(t *testing.T, link, decision string) string {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(link)
	if err != nil {
		t.Fatalf("GET link: %v", err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET link: HTTP %d: %s", resp.StatusCode, page)
	}
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form on the consent page: %s", page)
	}
	base, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	action, err := base.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatalf("form action %q: %v", m[1], err)
	}
	resp, err = hc.PostForm(action.String(), url.Values{"decision": {decision}})
	if err != nil {
		t.Fatalf("POST decision: %v", err)
	}
	out := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST decision: HTTP %d: %s", resp.StatusCode, out)
	}
	return out
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
}

// collect waits for a task by advancing the manual clock past the pull's
// duration, checking first that Collect reports "not ready" while Codat works.
func (e *env) collect(conn provider.Connection, s provider.Session, task *provider.Task, f provider.Fetch) *provider.Data {
	e.t.Helper()
	ctx := context.Background()
	if task == nil {
		e.t.Fatal("no task")
	}
	d, err := e.client.Collect(ctx, conn, s, *task, f)
	if err != nil || d != nil {
		e.t.Fatalf("Collect before the pull completed = %v, %v; want nil, nil", d, err)
	}
	e.clk.Advance(pullDuration)
	d, err = e.client.Collect(ctx, conn, s, *task, f)
	if err != nil {
		e.t.Fatalf("Collect: %v", err)
	}
	if d == nil {
		e.t.Fatal("Collect after the pull completed returned no data")
	}
	return d
}

// minor parses a decimal amount into minor units (two decimals), failing on
// anything finer.
func minor(t *testing.T, a string) int64 {
	t.Helper()
	neg := strings.HasPrefix(a, "-")
	a = strings.TrimPrefix(a, "-")
	whole, frac, _ := strings.Cut(a, ".")
	if len(frac) > 2 {
		t.Fatalf("amount %q has more than two decimals", a)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var v int64
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			t.Fatalf("amount %q is not a plain decimal", a)
		}
		v = v*10 + int64(r-'0')
	}
	if neg {
		v = -v
	}
	return v
}

func isNotFoundEmu(err error) bool { return errors.Is(err, emu.ErrNotFound) }
