package truelayer_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/sandbox"
)

type want struct {
	class  provider.Class
	reason string
}

var (
	wReauth      = want{provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired}
	wBadClient   = want{provider.ClassNeedsHuman, provider.ReasonInvalidClientCredentials}
	wRetry       = want{provider.ClassRetryLater, ""}
	wTokenReject = want{provider.ClassRetryLater, provider.ReasonAccessTokenRejected}
	wRate        = want{provider.ClassRateLimited, ""}
	wBadRequest  = want{provider.ClassInvalidRequest, ""}
)

// dataAPIWant is the expected class of every code of providers-api.md §3.13
// when a Data API v1 endpoint (GET /data/v1/me) answers it.
var dataAPIWant = map[string]want{
	"validation_error":                wBadRequest,
	"invalid_date_range":              wBadRequest,
	"deprecated_provider":             wReauth,
	"invalid_grant":                   wReauth,
	"invalid_client":                  wBadClient,
	"invalid_authorization_code":      wReauth,
	"unauthorized":                    wTokenReject,
	"invalid_token":                   wTokenReject,
	"unauthorized_client":             wBadClient,
	"wrong_credentials":               wReauth,
	"access_denied":                   wReauth,
	"invalid_credentials_key":         wReauth,
	"sca_exceeded":                    {provider.ClassInvalidRequest, provider.ReasonSCAExceeded},
	"account_temporarily_locked":      wRetry,
	"account_permanently_locked":      wReauth,
	"mfa_required":                    wReauth,
	"user_input_required":             wReauth,
	"account_not_found":               wBadRequest,
	"request_conflict":                wRetry,
	"wrong_bank":                      wReauth,
	"provider_too_many_requests":      wRate,
	"provider_request_limit_exceeded": wRate,
	"internal_server_error":           wRetry,
	"internal_error":                  wRetry,
	"endpoint_not_supported":          wBadRequest,
	"provider_error":                  wRetry,
	"temporarily_unavailable":         wRetry,
	"connector_overload":              wRetry,
	"provider_timeout":                wRetry,
	"connector_timeout":               wRetry,
}

// retriedStatus: the 5xx answers a GET is retried on.
func retriedStatus(s int) bool { return s == 500 || s == 502 || s == 503 || s == 504 }

// TestDataAPIErrorCatalogue injects every catalogued error into GET
// /data/v1/me and checks the class, the status, the code and how often the
// client called (5xx answers to a GET are retried, nothing else).
func TestDataAPIErrorCatalogue(t *testing.T) {
	e := newEnv(t, nil, func(o *truelayer.Options) { o.HTTP.MaxRetries = 2 })
	conn := e.conn(truelayer.DataAPIV1)
	tok, id := e.connectV1(conn)
	for _, code := range sandbox.ErrorCodes() {
		t.Run(code, func(t *testing.T) {
			w, ok := dataAPIWant[code]
			if !ok {
				t.Fatalf("the sandbox catalogues %q, which this test does not cover", code)
			}
			e.srv.ResetCalls()
			fid, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: code, Endpoint: "GET /data/v1/me", Connection: id})
			if err != nil {
				t.Fatal(err)
			}
			defer e.srv.RemoveFault(fid)
			_, err = e.client.Consent(context.Background(), conn, provider.Session{Tokens: &tok})
			pe := wantErr(t, err, w.class, w.reason)
			hasTraceID(t, pe)
			status := sandbox.ErrorCatalogue[code].Status
			if pe.Status != status || pe.Code != code {
				t.Fatalf("status %d code %q, want %d %q", pe.Status, pe.Code, status, code)
			}
			calls := int64(1)
			if retriedStatus(status) {
				calls = 3
			}
			if got := e.calls(id, "GET /data/v1/me"); got != calls {
				t.Fatalf("%d calls, want %d", got, calls)
			}
			noSecrets(t, err, tok.AccessToken, tok.RefreshToken, testSecret)
		})
	}
	for code := range dataAPIWant {
		if _, ok := sandbox.ErrorCatalogue[code]; !ok {
			t.Errorf("%q is expected here but not catalogued by the sandbox", code)
		}
	}
}

// TestTokenEndpointErrorCatalogue injects every catalogued error into the
// refresh grant: it is never repeated, and the refresh token stays usable.
func TestTokenEndpointErrorCatalogue(t *testing.T) {
	e := newEnv(t, nil, func(o *truelayer.Options) { o.HTTP.MaxRetries = 3 })
	conn := e.conn(truelayer.DataAPIV1)
	tok, id := e.connectV1(conn)
	refreshWant := func(code string) want {
		switch code {
		case "access_denied":
			return want{provider.ClassNeedsHuman, provider.ReasonAccessDenied}
		case "unauthorized":
			return wBadClient // the token endpoint authenticates the client
		}
		return dataAPIWant[code]
	}
	for _, code := range sandbox.ErrorCodes() {
		t.Run(code, func(t *testing.T) {
			e.srv.ResetCalls()
			fid, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: code, Endpoint: "POST /connect/token"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.client.Refresh(context.Background(), conn, tok.RefreshToken)
			e.srv.RemoveFault(fid)
			w := refreshWant(code)
			pe := wantErr(t, err, w.class, w.reason)
			if pe.Code != code {
				t.Fatalf("code %q", pe.Code)
			}
			if got := e.calls("", "POST /connect/token"); got != 1 {
				t.Fatalf("the refresh grant was sent %d times", got)
			}
			noSecrets(t, err, tok.RefreshToken, testSecret)
		})
	}
	// The faults stopped every grant before the sandbox handled it: the
	// refresh token still works.
	if _, err := e.client.Refresh(context.Background(), conn, tok.RefreshToken); err != nil {
		t.Fatalf("refresh after the faults: %v", err)
	}
	_ = id
}

// TestV3ProblemTypes injects errors into GET /v3/data-connections/{id}/user-info
// (the probe behind Consent); the sandbox answers them as the v3 problem type of
// their status (§4.3). The probe is a data call the bank may count, so a 5xx is
// not repeated.
func TestV3ProblemTypes(t *testing.T) {
	e := newEnv(t, nil, func(o *truelayer.Options) { o.HTTP.MaxRetries = 2 })
	conn := v3Conn(e)
	auth, err := e.client.BeginAuthorization(context.Background(), conn, "")
	if err != nil {
		t.Fatal(err)
	}
	conn.Refs = auth.Refs
	for _, tc := range []struct {
		inject, problem string
		want            want
		calls           int64
	}{
		{"validation_error", "invalid-parameters", wBadRequest, 1},
		{"unauthorized", "unauthenticated", wTokenReject, 2}, // a new client token, then once more
		{"account_not_found", "not-found", wReauth, 1},       // the data connection is gone
		{"provider_too_many_requests", "rate-limit-exceeded", wRate, 1},
		{"internal_server_error", "unknown-error", wRetry, 1},
		{"provider_error", "provider-error", wRetry, 1},
		{"provider_timeout", "gateway-timeout", wRetry, 1},
	} {
		t.Run(tc.problem, func(t *testing.T) {
			e.srv.ResetCalls()
			fid, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: tc.inject, Endpoint: "GET /v3/data-connections/{connection_id}/user-info"})
			if err != nil {
				t.Fatal(err)
			}
			defer e.srv.RemoveFault(fid)
			_, err = e.client.Consent(context.Background(), conn, provider.Session{Refs: conn.Refs})
			pe := wantErr(t, err, tc.want.class, tc.want.reason)
			hasTraceID(t, pe)
			if pe.Code != tc.problem {
				t.Fatalf("code %q, want %q", pe.Code, tc.problem)
			}
			if got := e.calls("", "GET /v3/data-connections/{connection_id}/user-info"); got != tc.calls {
				t.Fatalf("%d calls, want %d", got, tc.calls)
			}
		})
	}
}

// TestExtendProblems injects errors into POST /connections/extend, whose
// problems share one type: the status and detail decide. It is never retried.
func TestExtendProblems(t *testing.T) {
	e := newEnv(t, nil, func(o *truelayer.Options) { o.HTTP.MaxRetries = 3 })
	conn := e.conn(truelayer.DataAPIV1)
	tok, _ := e.connectV1(conn)
	for _, tc := range []struct {
		inject string
		want   want
	}{
		{"validation_error", wBadRequest},
		{"unauthorized_client", wBadClient},
		{"invalid_token", wReauth},
		{"provider_too_many_requests", wRate},
		{"internal_server_error", wRetry},
		{"provider_timeout", wRetry},
	} {
		t.Run(tc.inject, func(t *testing.T) {
			e.srv.ResetCalls()
			fid, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: tc.inject, Endpoint: "POST /connections/extend"})
			if err != nil {
				t.Fatal(err)
			}
			defer e.srv.RemoveFault(fid)
			_, err = e.client.Extend(context.Background(), conn, provider.Session{Tokens: &tok})
			pe := wantErr(t, err, tc.want.class, tc.want.reason)
			if pe.Status != sandbox.ErrorCatalogue[tc.inject].Status {
				t.Fatalf("status %d", pe.Status)
			}
			if got := e.calls("", "POST /connections/extend"); got != 1 {
				t.Fatalf("extend sent %d times", got)
			}
			noSecrets(t, err, tok.AccessToken, tok.RefreshToken, testSecret)
		})
	}
}

// TestTransportFaults: HTML 504 pages and dropped connections. Attempts are
// counted by the client's observer: the sandbox records a dropped call only
// after it closed the connection, so its count may lag behind the client.
func TestTransportFaults(t *testing.T) {
	for _, kind := range []sandbox.FaultKind{sandbox.FaultHTML504, sandbox.FaultDrop} {
		t.Run(string(kind), func(t *testing.T) {
			// Without keep-alive, net/http cannot silently resend a GET on a
			// reused connection, so the attempts are exactly the client's.
			e := newEnv(t, nil, func(o *truelayer.Options) {
				o.HTTP.MaxRetries = 2
				o.HTTP.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			})
			ctx := context.Background()
			conn := e.conn(truelayer.DataAPIV1)
			tok, _ := e.connectV1(conn)

			// A GET is retried through two faults and succeeds.
			if _, err := e.srv.InjectFault(sandbox.Fault{Kind: kind, Endpoint: "GET /data/v1/me", Count: 2}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.client.Consent(ctx, conn, provider.Session{Tokens: &tok}); err != nil {
				t.Fatalf("consent after two faults: %v", err)
			}
			if got := e.obs.Count("GET /data/v1/me"); got != 3 {
				t.Fatalf("%d attempts, want 3", got)
			}

			// A persisting fault: three attempts, then RetryLater.
			fid, err := e.srv.InjectFault(sandbox.Fault{Kind: kind, Endpoint: "GET /data/v1/me"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.client.Consent(ctx, conn, provider.Session{Tokens: &tok})
			e.srv.RemoveFault(fid)
			pe := wantErr(t, err, provider.ClassRetryLater, "")
			if kind == sandbox.FaultHTML504 && (pe.Status != http.StatusGatewayTimeout || pe.Code != "") {
				t.Fatalf("HTML 504: %v", pe)
			}
			if got := e.obs.Count("GET /data/v1/me"); got != 6 {
				t.Fatalf("%d attempts in all, want 6", got)
			}

			// A refresh is sent once and never repeated.
			tokenBefore := e.obs.Count("POST /connect/token")
			if _, err := e.srv.InjectFault(sandbox.Fault{Kind: kind, Endpoint: "POST /connect/token", Count: 1}); err != nil {
				t.Fatal(err)
			}
			_, err = e.client.Refresh(ctx, conn, tok.RefreshToken)
			wantErr(t, err, provider.ClassRetryLater, "")
			noSecrets(t, err, tok.RefreshToken, testSecret)
			if got := e.obs.Count("POST /connect/token") - tokenBefore; got != 1 {
				t.Fatalf("refresh sent %d times", got)
			}
			// The fault answered before the sandbox handled the grant, so the
			// refresh token is intact and the next refresh succeeds.
			if _, err := e.client.Refresh(ctx, conn, tok.RefreshToken); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRateLimiterBoundsProviderCalls(t *testing.T) {
	e := newEnv(t, nil, func(o *truelayer.Options) { o.HTTP.RateLimit = httpx.RateLimit{PerSecond: 2, Burst: 1} })
	conn := e.conn(truelayer.DataAPIV1)
	tok, id := e.connectV1(conn) // one token call: the burst
	before := e.sleeps.Total()
	for i := 0; i < 6; i++ {
		if _, err := e.client.Consent(context.Background(), conn, provider.Session{Tokens: &tok}); err != nil {
			t.Fatal(err)
		}
	}
	// The clock stands still, so six calls after the burst queue 0.5s apart.
	waited := e.sleeps.Total() - before
	var want float64
	for i := 1; i <= 6; i++ {
		want += 0.5 * float64(i)
	}
	if waited.Seconds() != want {
		t.Fatalf("waited %v for 6 calls at 2/s, want %vs", waited, want)
	}
	if got := e.calls(id, "GET /data/v1/me"); got != 6 {
		t.Fatalf("%d calls", got)
	}
}

// TestGetRetriedThroughProviderErrors: two 503 provider_error answers, then
// success, within one Consent call.
func TestGetRetriedThroughProviderErrors(t *testing.T) {
	e := newEnv(t, nil, nil)
	conn := e.conn(truelayer.DataAPIV1)
	tok, id := e.connectV1(conn)
	if _, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_error", Endpoint: "GET /data/v1/me", Count: 2}); err != nil {
		t.Fatal(err)
	}
	cons, err := e.client.Consent(context.Background(), conn, provider.Session{Tokens: &tok})
	if err != nil || cons.Status != "Active" {
		t.Fatalf("consent: %+v %v", cons, err)
	}
	if got := e.calls(id, "GET /data/v1/me"); got != 3 {
		t.Fatalf("%d calls, want 3", got)
	}
	if got := e.srv.ErrorTotal(sandbox.CallFilter{Connection: id, Error: "provider_error"}); got != 2 {
		t.Fatalf("%d provider_error answers, want 2", got)
	}
	// Full jitter with rand 0.5 over a 200ms base: 100ms, then 200ms.
	if got := e.sleeps.Total(); got != 300*time.Millisecond {
		t.Fatalf("backoff slept %v, want 300ms", got)
	}
}
