package truelayer_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/sandbox"
)

func TestV1Journey(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	conn := e.conn(truelayer.DataAPIV1)

	auth, err := e.client.BeginAuthorization(ctx, conn, "signed-state")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(auth.URL)
	q := u.Query()
	if u.Scheme+"://"+u.Host != e.hs.URL || u.Path != "/" || q.Get("response_type") != "code" || q.Get("client_id") != testClientID ||
		q.Get("redirect_uri") != testRedirect || q.Get("state") != "signed-state" ||
		q.Get("scope") != "info accounts balance transactions offline_access" || q.Get("providers") != "uk-cs-mock uk-ob-all uk-oauth-all" ||
		q.Has("response_mode") {
		t.Fatalf("auth link %s", auth.URL)
	}
	if e.srv.CallTotal(sandbox.CallFilter{}) != 0 {
		t.Fatalf("BeginAuthorization called the provider")
	}

	code := e.authorizeLink(auth.URL)
	g, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{Code: code})
	if err != nil {
		t.Fatal(err)
	}
	tok := *g.Tokens
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" || !tok.ExpiresAt.Equal(t0.Add(time.Hour)) ||
		tok.Scope != "info accounts balance transactions offline_access" {
		t.Fatalf("tokens: type %q expires %v scope %q refresh set %v", tok.TokenType, tok.ExpiresAt, tok.Scope, tok.RefreshToken != "")
	}
	info, _ := e.srv.ConnectionByRefreshToken(tok.RefreshToken)
	id := info.ID

	// The code is single use: a second exchange needs a new journey.
	_, err = e.client.CompleteAuthorization(ctx, conn, provider.Callback{Code: code})
	pe := wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired)
	if pe.Code != "invalid_grant" || pe.Status != 400 {
		t.Fatalf("reused code: %v", pe)
	}

	cons, err := e.client.Consent(ctx, conn, provider.Session{Tokens: &tok})
	if err != nil {
		t.Fatal(err)
	}
	if cons.Status != "Active" || !cons.CreatedAt.Equal(t0) || !cons.ExpiresAt.Equal(t0.Add(90*day)) ||
		cons.ProviderID != "mock" || cons.ProviderName != "Mock" {
		t.Fatalf("consent %+v", cons)
	}
	conn.ConsentExpiresAt = cons.ExpiresAt

	// Refresh: rotate-invalidate (the sandbox default).
	e.clk.Advance(50 * time.Minute)
	tok2, err := e.client.Refresh(ctx, conn, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken || !tok2.ExpiresAt.Equal(e.clk.Now().Add(time.Hour)) {
		t.Fatalf("refresh did not rotate")
	}
	// The old refresh token is dead.
	_, err = e.client.Refresh(ctx, conn, tok.RefreshToken)
	wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired)

	// Extend: each outcome.
	sess := provider.Session{Tokens: &tok2}
	for _, outcome := range []string{sandbox.ExtendReconfirmationOfConsent, sandbox.ExtendAuthenticationNeeded} {
		if err := e.srv.SetExtendOutcome(id, outcome); err != nil {
			t.Fatal(err)
		}
		ext, err := e.client.Extend(ctx, conn, sess)
		if err != nil {
			t.Fatalf("extend (%s): %v", outcome, err)
		}
		if string(ext.Outcome) != outcome || ext.Tokens != nil || !strings.HasPrefix(ext.UserInputLink, "http") {
			t.Fatalf("extend (%s): %+v", outcome, ext)
		}
	}
	if err := e.srv.SetExtendOutcome(id, sandbox.ExtendNoActionNeeded); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(83 * day)
	ext, err := e.client.Extend(ctx, conn, sess)
	if err != nil {
		t.Fatal(err)
	}
	if ext.Outcome != provider.ExtendNoActionNeeded || ext.Tokens == nil || ext.Tokens.RefreshToken == "" ||
		ext.Tokens.RefreshToken == tok2.RefreshToken || !ext.ExpiresAt.Equal(e.clk.Now().Add(90*day)) {
		t.Fatalf("extend no_action_needed: outcome %s expires %v", ext.Outcome, ext.ExpiresAt)
	}
	tok3 := *ext.Tokens
	conn.ConsentExpiresAt = ext.ExpiresAt

	// Revoke, then every call needs a human.
	if err := e.client.Revoke(ctx, conn, provider.Session{Tokens: &tok3}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.srv.Connection(id); got.Status != "Revoked" {
		t.Fatalf("sandbox connection status %q after revoke", got.Status)
	}
	_, err = e.client.Consent(ctx, conn, provider.Session{Tokens: &tok3})
	pe = wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonConsentRevoked)
	if pe.Status != 403 || pe.Code != "access_denied" {
		t.Fatalf("consent after revoke: %v", pe)
	}
	_, err = e.client.Refresh(ctx, conn, tok3.RefreshToken)
	wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired)
	_, err = e.client.Extend(ctx, conn, provider.Session{Tokens: &tok3})
	wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired)
	// Revoking again is a no-op.
	if err := e.client.Revoke(ctx, conn, provider.Session{Tokens: &tok3}); err != nil {
		t.Fatalf("second revoke: %v", err)
	}

	// Exact call counts for this connection (no hidden retries or extra calls).
	for ep, want := range map[string]int64{
		"POST /connect/token":      4, // code exchange, refresh, dead refresh token, refresh after revoke
		"GET /data/v1/me":          3, // consent, consent after extend, consent after revoke
		"POST /connections/extend": 4,
		"DELETE /api/delete":       2,
	} {
		if got := e.calls(id, ep); got != want {
			t.Errorf("%s: %d calls, want %d", ep, got, want)
		}
	}
	// The reused code is not attributed to the connection: count over all.
	if got := e.calls("", "POST /connect/token"); got != 5 {
		t.Errorf("POST /connect/token: %d calls in all, want 5", got)
	}
	for _, o := range e.obs.List() {
		if strings.ContainsAny(o.Endpoint, "?=") || !strings.Contains(o.Endpoint, " /") {
			t.Errorf("observer endpoint %q is not a route pattern", o.Endpoint)
		}
	}
	// Every API request was observed (the test itself opened the dialog once).
	apiCalls := e.srv.CallTotal(sandbox.CallFilter{}) - e.calls("", "GET /{$}")
	if n := len(e.obs.List()); int64(n) != apiCalls {
		t.Errorf("observer saw %d requests, the sandbox %d", n, apiCalls)
	}
}

func TestRefreshModes(t *testing.T) {
	for _, tc := range []struct {
		mode       sandbox.RefreshMode
		rotates    bool
		oldWorks   bool
		oldWorksAt time.Duration
	}{
		{sandbox.RefreshRotateInvalidate, true, false, 0},
		{sandbox.RefreshRotateGrace, true, true, 30 * time.Second},
		{sandbox.RefreshKeep, false, true, 0},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			e := newEnv(t, func(o *sandbox.Options) { o.RefreshMode = tc.mode; o.RefreshGrace = time.Minute }, nil)
			ctx := context.Background()
			conn := e.conn(truelayer.DataAPIV1)
			tok, _ := e.connectV1(conn)
			next, err := e.client.Refresh(ctx, conn, tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if (next.RefreshToken != tok.RefreshToken) != tc.rotates {
				t.Fatalf("rotated %v, want %v", next.RefreshToken != tok.RefreshToken, tc.rotates)
			}
			e.clk.Advance(tc.oldWorksAt)
			_, err = e.client.Refresh(ctx, conn, tok.RefreshToken)
			if (err == nil) != tc.oldWorks {
				t.Fatalf("old refresh token after %v: err %v, want working %v", tc.oldWorksAt, err, tc.oldWorks)
			}
			if err != nil {
				wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired)
			}
			if tc.mode == sandbox.RefreshRotateGrace {
				e.clk.Advance(time.Minute)
				_, err = e.client.Refresh(ctx, conn, tok.RefreshToken)
				wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired)
			}
		})
	}
}

func TestConsentExpiryByClockTravel(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	conn := e.conn(truelayer.DataAPIV1)
	tok, id := e.connectV1(conn)
	cons, err := e.client.Consent(ctx, conn, provider.Session{Tokens: &tok})
	if err != nil {
		t.Fatal(err)
	}
	conn.ConsentExpiresAt = cons.ExpiresAt

	// Just before the end: refresh works and /me still answers.
	e.clk.Set(cons.ExpiresAt.Add(-30 * time.Minute))
	tok, err = e.client.Refresh(ctx, conn, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// Past the end: the refresh is a bare invalid_grant, which the known
	// consent end turns into ConsentExpired; /me answers access_denied.
	e.clk.Set(cons.ExpiresAt.Add(time.Minute))
	_, err = e.client.Refresh(ctx, conn, tok.RefreshToken)
	pe := wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonConsentExpired)
	if pe.Code != "invalid_grant" || pe.Status != 400 {
		t.Fatalf("refresh after the consent end: %v", pe)
	}
	_, err = e.client.Consent(ctx, conn, provider.Session{Tokens: &tok})
	wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonConsentExpired)

	// Without a known consent end the bare invalid_grant cannot say why.
	unknown := conn
	unknown.ConsentExpiresAt = time.Time{}
	_, err = e.client.Refresh(ctx, unknown, tok.RefreshToken)
	wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired)

	// An access token past its hour is rejected: refresh, then retry.
	e.clk.Set(t0)
	tok2, id2 := e.connectV1(conn)
	e.clk.Advance(time.Hour + time.Second)
	_, err = e.client.Consent(ctx, conn, provider.Session{Tokens: &tok2})
	wantErr(t, err, provider.ClassRetryLater, provider.ReasonAccessTokenRejected)

	if got := e.calls(id, "POST /connect/token"); got != 4 {
		t.Errorf("token calls for the expired connection: %d, want 4", got)
	}
	if got := e.calls(id2, "GET /data/v1/me"); got != 1 {
		t.Errorf("/me calls with the stale token: %d, want 1 (401 is not retried)", got)
	}
}

func TestSignupPlusJourney(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	conn := e.conn(truelayer.DataAPISignupPlus)
	conn.Scopes = []string{"info", "accounts"} // signupplus is added by the client
	auth, err := e.client.BeginAuthorization(ctx, conn, "st")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(auth.URL)
	if got := u.Query().Get("scope"); got != "info accounts signupplus offline_access" {
		t.Fatalf("scope %q", got)
	}
	code := e.authorizeLink(auth.URL)
	g, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{Code: code})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g.Tokens.Scope, "signupplus") {
		t.Fatalf("granted scope %q", g.Tokens.Scope)
	}
	// The token reads the identity from Signup+.
	r := e.get("/signup-plus/accounts", g.Tokens.AccessToken)
	if r != 200 {
		t.Fatalf("GET /signup-plus/accounts with the SignupPlus token: HTTP %d", r)
	}
	if _, err := e.client.Consent(ctx, conn, provider.Session{Tokens: g.Tokens}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Refresh(ctx, conn, g.Tokens.RefreshToken); err != nil {
		t.Fatal(err)
	}
}

func TestExtendNeedsUserDetails(t *testing.T) {
	e := newEnv(t, nil, nil)
	conn := e.conn(truelayer.DataAPIV1)
	tok, _ := e.connectV1(conn)
	conn.User = provider.EndUser{}
	_, err := e.client.Extend(context.Background(), conn, provider.Session{Tokens: &tok})
	pe := wantErr(t, err, provider.ClassInvalidRequest, "")
	if pe.Status != 400 || !strings.Contains(pe.Description, "User") {
		t.Fatalf("extend without user details: %v", pe)
	}
	noSecrets(t, err, tok.AccessToken, tok.RefreshToken, testSecret)
}
