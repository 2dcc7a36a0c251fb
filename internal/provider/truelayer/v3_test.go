package truelayer_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/sandbox"
)

func v3Conn(e *env) provider.Connection {
	c := e.conn(truelayer.DataAPIV3)
	c.Scopes = []string{"info", "accounts", "transactions"}
	return c
}

func TestV3Journey(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	conn := v3Conn(e)

	auth, err := e.client.BeginAuthorization(ctx, conn, "unused-state")
	if err != nil {
		t.Fatal(err)
	}
	id := auth.Refs.DataConnectionID
	if id == "" || !strings.HasPrefix(auth.URL, e.hs.URL+"/hosted/data/"+id) {
		t.Fatalf("authorization %+v", auth)
	}
	conn.Refs = auth.Refs

	// Before the user authorises: pending.
	_, err = e.client.CompleteAuthorization(ctx, conn, provider.Callback{})
	wantErr(t, err, provider.ClassRetryLater, "")
	cons, err := e.client.Consent(ctx, conn, provider.Session{Refs: conn.Refs})
	if err != nil || cons.Status != "Pending" {
		t.Fatalf("consent before authorisation: %+v %v", cons, err)
	}

	if err := e.srv.AuthorizeV3(id, "john", "doe"); err != nil {
		t.Fatal(err)
	}
	g, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Tokens != nil || g.Refs.DataConnectionID != id {
		t.Fatalf("grant %+v", g)
	}
	// The v3 document gives no consent end: the probe (user-info) says Active only.
	cons, err = e.client.Consent(ctx, conn, provider.Session{Refs: conn.Refs})
	if err != nil || cons.Status != "Active" || !cons.ExpiresAt.IsZero() {
		t.Fatalf("consent %+v %v", cons, err)
	}

	// Data calls carry the client token and Connection-Id.
	h, err := e.client.V3Headers(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, e.hs.URL+"/v3/connected-accounts", nil)
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v3/connected-accounts with V3Headers: HTTP %d", resp.StatusCode)
	}

	// No user tokens in v3.
	_, err = e.client.Refresh(ctx, conn, "x")
	wantErr(t, err, provider.ClassInvalidRequest, "")
	_, err = e.client.Extend(ctx, conn, provider.Session{Refs: conn.Refs})
	wantErr(t, err, provider.ClassInvalidRequest, "")

	// The v3 document has no revocation endpoint: Revoke sends nothing.
	if err := e.client.Revoke(ctx, conn, provider.Session{Refs: conn.Refs}); err != nil {
		t.Fatal(err)
	}
	// Revoked at the bank: the probe finds it no longer authorised.
	if err := e.srv.RevokeConnection(id); err != nil {
		t.Fatal(err)
	}
	cons, err = e.client.Consent(ctx, conn, provider.Session{Refs: conn.Refs})
	if err != nil || cons.Status != "Pending" {
		t.Fatalf("consent after revocation at the bank: %+v %v", cons, err)
	}

	// One client token served every call.
	if got := e.calls("", "POST /connect/token"); got != 1 {
		t.Errorf("client-credentials grants: %d, want 1", got)
	}
	for ep, want := range map[string]int64{
		"POST /v3/data-connections":                          1,
		"GET /v3/data-connections/{connection_id}/user-info": 5,
		// Not in the published document: never called.
		"GET /v3/data-connections/{connection_id}":    0,
		"DELETE /v3/data-connections/{connection_id}": 0,
	} {
		if got := e.calls("", ep); got != want {
			t.Errorf("%s: %d calls, want %d", ep, got, want)
		}
	}
}

func TestV3OneTimeAndPreselected(t *testing.T) {
	e := newEnv(t, nil, func(o *truelayer.Options) { o.V3Flow = truelayer.V3AuthorizationFlow })
	conn := v3Conn(e)
	conn.DataAccess = "OneTime"
	conn.ProviderID = "ob-mock"
	auth, err := e.client.BeginAuthorization(context.Background(), conn, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(auth.URL, "/hosted/data/"+auth.Refs.DataConnectionID) {
		t.Fatalf("authorization_flow next uri %q", auth.URL)
	}
	conn.Refs = auth.Refs
	if err := e.srv.AuthorizeV3(conn.Refs.DataConnectionID, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CompleteAuthorization(context.Background(), conn, provider.Callback{}); err != nil {
		t.Fatal(err)
	}
	info, _ := e.srv.Connection(conn.Refs.DataConnectionID)
	if info.ProviderID != "ob-mock" {
		t.Fatalf("provider %q, want the preselected ob-mock", info.ProviderID)
	}
}

func TestV3UnknownConnectionNeedsHuman(t *testing.T) {
	e := newEnv(t, nil, nil)
	conn := v3Conn(e)
	conn.Refs.DataConnectionID = "00000000-0000-0000-0000-000000000000"
	_, err := e.client.Consent(context.Background(), conn, provider.Session{Refs: conn.Refs})
	pe := wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired)
	if pe.Status != 404 || pe.Code != "not-found" {
		t.Fatalf("unknown data connection: %v", pe)
	}
	// Deleting a connection that does not exist is done.
	if err := e.client.Revoke(context.Background(), conn, provider.Session{Refs: conn.Refs}); err != nil {
		t.Fatal(err)
	}
}

func TestClientTokenSharedAndRenewed(t *testing.T) {
	// Many probes of one connection: the bank's unattended limit is off here.
	e := newEnv(t, func(o *sandbox.Options) { o.UnattendedLimit = -1 }, nil)
	ctx := context.Background()
	conn := v3Conn(e)
	auth, err := e.client.BeginAuthorization(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	conn.Refs = auth.Refs
	if err := e.srv.AuthorizeV3(conn.Refs.DataConnectionID, "", ""); err != nil {
		t.Fatal(err)
	}
	tokenCalls := func() int64 { return e.calls("", "POST /connect/token") }

	// A fresh client with an empty cache: 32 concurrent reconciles share one grant.
	cache := truelayer.NewMemoryTokenCache()
	c1 := e.newClient(func(o *truelayer.Options) { o.TokenCache = cache })
	before := tokenCalls()
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c1.Consent(ctx, conn, provider.Session{Refs: conn.Refs}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := tokenCalls() - before; got != 1 {
		t.Fatalf("32 concurrent calls made %d client-credentials grants, want 1", got)
	}

	// Another client instance (a restarted manager) reuses the cached token.
	c2 := e.newClient(func(o *truelayer.Options) { o.TokenCache = cache })
	if _, err := c2.Consent(ctx, conn, provider.Session{Refs: conn.Refs}); err != nil {
		t.Fatal(err)
	}
	if got := tokenCalls() - before; got != 1 {
		t.Fatalf("a second client with the same cache fetched a token (%d grants)", got)
	}

	// Renewed ClientTokenRenewBefore (5m) ahead of its 1h expiry, not before.
	e.clk.Advance(54 * time.Minute)
	if _, err := c1.Consent(ctx, conn, provider.Session{Refs: conn.Refs}); err != nil {
		t.Fatal(err)
	}
	if got := tokenCalls() - before; got != 1 {
		t.Fatalf("renewed too early (%d grants)", got)
	}
	e.clk.Advance(2 * time.Minute)
	if _, err := c1.Consent(ctx, conn, provider.Session{Refs: conn.Refs}); err != nil {
		t.Fatal(err)
	}
	if got := tokenCalls() - before; got != 2 {
		t.Fatalf("not renewed within 5m of expiry (%d grants)", got)
	}

	// A cached token the API rejects is replaced once and the call retried.
	key := truelayer.ClientTokenKey(testClientID, testSecret)
	if err := cache.Put(ctx, key, provider.Tokens{AccessToken: "not-a-valid-jwt", ExpiresAt: e.clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Consent(ctx, conn, provider.Session{Refs: conn.Refs}); err != nil {
		t.Fatalf("consent with a stale cached token: %v", err)
	}
	if got := tokenCalls() - before; got != 3 {
		t.Fatalf("stale token: %d grants, want 3", got)
	}
	if unauth := e.srv.ErrorTotal(sandbox.CallFilter{Error: "https://docs.truelayer.com/docs/error-types#unauthenticated"}); unauth != 1 {
		t.Fatalf("unauthenticated answers %d, want 1", unauth)
	}

	// The cache entry is bound to the secret: a wrong secret gets no token.
	bad := conn
	bad.Credentials.ClientSecret = "guessed"
	_, err = c1.Consent(ctx, bad, provider.Session{Refs: conn.Refs})
	wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonInvalidClientCredentials)
	noSecrets(t, err, "guessed", testSecret)
}
