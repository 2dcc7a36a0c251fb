package truelayer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
)

// answer is one canned HTTP response.
type answer struct {
	status      int
	contentType string
	body        string
	header      map[string]string
}

// docServer answers every request but the client-credentials grant with a
// (the v3 rows need a client token first).
func docServer(t *testing.T, a answer) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/connect/token" && strings.Contains(string(body), "grant_type=client_credentials") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"client-token-value","expires_in":3600,"token_type":"Bearer","scope":"data"}`))
			return
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		if a.contentType != "" {
			w.Header().Set("Content-Type", a.contentType)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(s.Close)
	return s
}

const (
	jsonCT    = "application/json; charset=utf-8"
	problemCT = "application/problem+json; charset=UTF-8"
	v3Type    = "https://docs.truelayer.com/docs/error-types#"
)

func v3Problem(status int, slug, title, detail string) answer {
	return answer{status: status, contentType: problemCT, body: `{"type":"` + v3Type + slug + `","title":"` + title +
		`","status":` + strconv.Itoa(status) + `,"trace_id":"96ce50247f87f540bb2d86771b3728b8","detail":"` + detail + `"}`}
}

// TestDocumentedErrorBodies answers each call with the exact bodies the
// specification documents (providers-api.md §2.2, §3.2, §3.11, §3.13, §4.3).
func TestDocumentedErrorBodies(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(30*day)
	tokens := &provider.Tokens{AccessToken: "at-value-123456", RefreshToken: "rt-value-654321", TokenType: "Bearer"}

	type opFn func(c *truelayer.Client, conn provider.Connection) error
	refresh := func(c *truelayer.Client, conn provider.Connection) error {
		_, err := c.Refresh(context.Background(), conn, tokens.RefreshToken)
		return err
	}
	exchange := func(c *truelayer.Client, conn provider.Connection) error {
		_, err := c.CompleteAuthorization(context.Background(), conn, provider.Callback{Code: "code-value-777"})
		return err
	}
	consent := func(c *truelayer.Client, conn provider.Connection) error {
		_, err := c.Consent(context.Background(), conn, provider.Session{Tokens: tokens})
		return err
	}
	extend := func(c *truelayer.Client, conn provider.Connection) error {
		_, err := c.Extend(context.Background(), conn, provider.Session{Tokens: tokens})
		return err
	}
	// A v3 data call (user-info): Consent's probe reads invalid_state and
	// forbidden as where the connection stands rather than as errors.
	v3data := func(c *truelayer.Client, conn provider.Connection) error {
		conn.DataAPI = truelayer.DataAPIV3
		conn.Refs.DataConnectionID = "0a6273a0-0314-4db6-800a-e66225fbe9f7"
		_, err := c.Fetch(context.Background(), conn, provider.Session{Refs: conn.Refs}, provider.Fetch{Resource: provider.ResourceInfo})
		return err
	}
	v3create := func(c *truelayer.Client, conn provider.Connection) error {
		conn.DataAPI = truelayer.DataAPIV3
		_, err := c.BeginAuthorization(context.Background(), conn, "")
		return err
	}

	for _, tc := range []struct {
		name       string
		op         opFn
		consentEnd time.Time
		a          answer
		want       want
		code       string
		retryAfter time.Duration
	}{
		// Token endpoint (§2.2).
		{"refresh invalid_grant, consent end unknown", refresh, time.Time{}, answer{400, jsonCT, `{"error":"invalid_grant"}`, nil}, wReauth, "invalid_grant", 0},
		{"refresh invalid_grant after the consent end", refresh, past, answer{400, jsonCT, `{"error":"invalid_grant"}`, nil},
			want{provider.ClassNeedsHuman, provider.ReasonConsentExpired}, "invalid_grant", 0},
		{"refresh invalid_grant before the consent end", refresh, future, answer{400, jsonCT, `{"error":"invalid_grant"}`, nil}, wReauth, "invalid_grant", 0},
		{"refresh invalid_grant saying revoked", refresh, future, answer{400, jsonCT, `{"error":"invalid_grant","error_description":"The refresh token has been revoked"}`, nil},
			want{provider.ClassNeedsHuman, provider.ReasonConsentRevoked}, "invalid_grant", 0},
		{"refresh invalid_client (docs table)", refresh, time.Time{}, answer{400, jsonCT, `{"error":"invalid_client","error_description":"Client authentication failed"}`, nil}, wBadClient, "invalid_client", 0},
		{"refresh unauthorized_client (spec example)", refresh, time.Time{}, answer{401, jsonCT,
			`{"error":"unauthorized_client","error_description":"The client credentials you have entered are incorrect. Please check and try again.","error_details":{}}`, nil}, wBadClient, "unauthorized_client", 0},
		{"refresh invalid_request Invalid refresh_token", refresh, time.Time{}, answer{401, jsonCT,
			`{"error":"invalid_request","error_description":"Invalid request","error_details":{"reason":"Invalid refresh_token"}}`, nil}, wReauth, "invalid_request", 0},
		{"refresh internal_server_error", refresh, time.Time{}, answer{500, jsonCT,
			`{"error":"internal_server_error","error_description":"Sorry, we are experiencing technical difficulties. Please try again later.","error_details":{}}`, nil}, wRetry, "internal_server_error", 0},
		{"exchange invalid_grant", exchange, time.Time{}, answer{400, jsonCT, `{"error":"invalid_grant"}`, nil}, wReauth, "invalid_grant", 0},
		{"exchange invalid_authorization_code", exchange, time.Time{}, answer{400, jsonCT, `{"error":"invalid_authorization_code","error_description":"code expired"}`, nil}, wReauth, "invalid_authorization_code", 0},
		{"exchange access_denied", exchange, time.Time{}, answer{403, jsonCT, `{"error":"access_denied"}`, nil},
			want{provider.ClassNeedsHuman, provider.ReasonAccessDenied}, "access_denied", 0},
		{"exchange invalid_request", exchange, time.Time{}, answer{400, jsonCT, `{"error":"invalid_request","error_description":"Invalid request","error_details":{"reason":"code and redirect_uri are required"}}`, nil}, wBadRequest, "invalid_request", 0},

		// Data API v1 (§3.13).
		{"/me access_denied after the consent end", consent, past, answer{403, jsonCT,
			`{"error":"access_denied","error_description":"Access to a specific resource has been denied.","error_details":{"reason":"Consent expired or revoked"}}`, nil},
			want{provider.ClassNeedsHuman, provider.ReasonConsentExpired}, "access_denied", 0},
		{"/me access_denied before the consent end", consent, future, answer{403, jsonCT,
			`{"error":"access_denied","error_description":"Access to a specific resource has been denied.","error_details":{"reason":"Consent expired or revoked"}}`, nil},
			want{provider.ClassNeedsHuman, provider.ReasonConsentRevoked}, "access_denied", 0},
		{"/me invalid_token", consent, time.Time{}, answer{401, jsonCT, `{"error":"invalid_token","error_description":"The token expired at '2020-12-07 12:34:56Z'","error_details":{}}`, nil}, wTokenReject, "invalid_token", 0},
		{"/me provider_too_many_requests with Retry-After", consent, time.Time{}, answer{429, jsonCT,
			`{"error":"provider_too_many_requests","error_description":"Provider rate limit exceeded.","error_details":{}}`, map[string]string{"Retry-After": "120"}}, wRate, "provider_too_many_requests", 2 * time.Minute},
		{"/me provider_request_limit_exceeded", consent, time.Time{}, answer{429, jsonCT,
			`{"error":"provider_request_limit_exceeded","error_description":"Maximum number of requests per user allowed by provider exceeded.","error_details":{}}`, nil}, wRate, "provider_request_limit_exceeded", 0},
		{"/me provider_error", consent, time.Time{}, answer{503, jsonCT, `{"error":"provider_error","error_description":"The provider service is unavailable.","error_details":{}}`, nil}, wRetry, "provider_error", 0},
		{"/me provider_timeout", consent, time.Time{}, answer{504, jsonCT, `{"error":"provider_timeout","error_description":"The provider service timed out.","error_details":{}}`, nil}, wRetry, "provider_timeout", 0},
		{"/me sca_exceeded", consent, time.Time{}, answer{403, jsonCT, `{"error":"sca_exceeded","error_description":"SCA exemption has expired.","error_details":{}}`, nil}, want{provider.ClassInvalidRequest, provider.ReasonSCAExceeded}, "sca_exceeded", 0},
		{"/me endpoint_not_supported", consent, time.Time{}, answer{501, jsonCT, `{"error":"endpoint_not_supported","error_description":"Feature not supported by the provider","error_details":{}}`, nil}, wBadRequest, "endpoint_not_supported", 0},
		{"/me HTML 504 from a gateway", consent, time.Time{}, answer{504, "text/html", "<html><body><h1>504 Gateway Time-out</h1></body></html>", nil}, wRetry, "", 0},
		{"/me unknown 418", consent, time.Time{}, answer{418, jsonCT, `{"error":"teapot"}`, nil}, wBadRequest, "teapot", 0},
		{"/me 200 with HTML", consent, time.Time{}, answer{200, "text/html", "<html>maintenance</html>", nil}, wRetry, "malformed_response", 0},
		{"/me 200 with no result", consent, time.Time{}, answer{200, jsonCT, `{"results":[],"status":"Succeeded"}`, nil}, wRetry, "malformed_response", 0},
		{"/me 200 with a wrong type", consent, time.Time{}, answer{200, jsonCT, `{"results":{"a":1}}`, nil}, wRetry, "malformed_response", 0},
		{"/me 200 with a bad timestamp", consent, time.Time{}, answer{200, jsonCT, `{"results":[{"consent_expires_at":"2017-02-247T17:29:24"}]}`, nil}, wRetry, "malformed_response", 0},

		// /connections/extend (§3.11).
		{"extend validation error", extend, time.Time{}, answer{400, "application/problem+json", `{"type":"https://docs.truelayer.com/#connection-api-errors","title":"One or more validation errors occurred.","status":400,"instance":"/connections/extend","trace_id":"x","errors":{"ClientId":["The ClientId field is required."]}}`, nil}, wBadRequest, "connection-api-errors", 0},
		{"extend refresh token invalid", extend, time.Time{}, answer{401, "application/problem+json", `{"type":"https://docs.truelayer.com/#connection-api-errors","title":"Unauthorized","status":401,"detail":"Refresh token missing or invalid.","instance":"/connections/extend","trace_id":"5b25a9ad"}`, nil}, wReauth, "connection-api-errors", 0},
		{"extend not possible", extend, time.Time{}, answer{422, "application/problem+json", `{"type":"https://docs.truelayer.com/#connection-api-errors","title":"No way to extend this connection","status":422,"detail":"This connection cannot be extended","instance":"/connections/extend","trace_id":"1c7efd51"}`, nil}, wReauth, "connection-api-errors", 0},
		{"extend unknown action", extend, time.Time{}, answer{200, jsonCT, `{"action_needed":"call_us"}`, nil}, wRetry, "malformed_response", 0},

		// Data API v3 (§4.3).
		{"v3 invalid-parameters", v3data, time.Time{}, answer{400, problemCT, `{"type":"` + v3Type + `invalid-parameters","title":"Invalid Parameters","status":400,"trace_id":"t","detail":"The request body was invalid.","errors":{"Connection-Id":["Must be provided"]}}`, nil}, wBadRequest, "invalid-parameters", 0},
		{"v3 invalid_state", v3data, time.Time{}, v3Problem(400, "invalid_state", "Invalid State", "Status of the connection does not allow this action to be executed."), wReauth, "invalid_state", 0},
		{"v3 invalid_state after the consent end", v3data, past, v3Problem(400, "invalid_state", "Invalid State", "Status of the connection does not allow this action to be executed."),
			want{provider.ClassNeedsHuman, provider.ReasonConsentExpired}, "invalid_state", 0},
		{"v3 unauthenticated", v3data, time.Time{}, v3Problem(401, "unauthenticated", "Unauthenticated", "The access token is missing, invalid or expired."), wTokenReject, "unauthenticated", 0},
		{"v3 forbidden", v3data, time.Time{}, v3Problem(403, "forbidden", "Forbidden", "The token used for Authorization is not authorized to perform the request."), wReauth, "forbidden", 0},
		{"v3 not-found on the connection", v3data, time.Time{}, v3Problem(404, "not-found", "Not Found", "Connection not found."), wReauth, "not-found", 0},
		{"v3 rate-limit-exceeded", v3data, time.Time{}, v3Problem(429, "rate-limit-exceeded", "Rate Limit Exceeded", "Too many requests."), wRate, "rate-limit-exceeded", 0},
		{"v3 unknown-error", v3data, time.Time{}, v3Problem(500, "unknown-error", "Unknown Error", "Something went wrong."), wRetry, "unknown-error", 0},
		{"v3 provider-error", v3data, time.Time{}, v3Problem(502, "provider-error", "Provider Error", "The provider failed."), wRetry, "provider-error", 0},
		{"v3 feature not supported", v3data, time.Time{}, v3Problem(502, "provider-error", "Feature Not Supported", "The provider does not support this."), wBadRequest, "provider-error", 0},
		{"v3 gateway-timeout", v3data, time.Time{}, v3Problem(504, "gateway-timeout", "Gateway Timeout", "The provider timed out."), wRetry, "gateway-timeout", 0},
		{"v3 create invalid-parameters", v3create, time.Time{}, answer{400, problemCT, `{"type":"` + v3Type + `invalid-parameters","title":"Invalid Parameters","status":400,"trace_id":"t","detail":"The request body was invalid.","errors":{"user":["Must be provided"]}}`, nil}, wBadRequest, "invalid-parameters", 0},
		{"v3 create 201 without a link", v3create, time.Time{}, answer{201, jsonCT, `{"id":"x","user":{"id":"u"},"status":"authorization_required"}`, nil}, wRetry, "malformed_response", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := docServer(t, tc.a)
			c, err := truelayer.New(truelayer.Options{AuthURL: s.URL, APIURL: s.URL, HTTP: httpx.Options{Now: func() time.Time { return now },
				MaxRetries: -1, RateLimit: httpx.RateLimit{PerSecond: -1}}})
			if err != nil {
				t.Fatal(err)
			}
			conn := provider.Connection{Namespace: "ns", Name: "n", DataAPI: truelayer.DataAPIV1, Environment: "Sandbox",
				Credentials: provider.Credentials{ClientID: "sandbox-x", ClientSecret: "client-secret-value"},
				Scopes:      []string{"info", "accounts"}, UserRef: "u1", RedirectURI: "https://gw.example/cb", ConsentExpiresAt: tc.consentEnd}
			err = tc.op(c, conn)
			pe := wantErr(t, err, tc.want.class, tc.want.reason)
			if pe.Code != tc.code {
				t.Fatalf("code %q, want %q (%v)", pe.Code, tc.code, err)
			}
			if pe.RetryAfter != tc.retryAfter {
				t.Fatalf("RetryAfter %v, want %v", pe.RetryAfter, tc.retryAfter)
			}
			noSecrets(t, err, "client-secret-value", tokens.AccessToken, tokens.RefreshToken, "code-value-777", "client-token-value")
		})
	}
}

// TestErrorsNeverCarrySecrets: a provider that echoes the request (body and
// headers) into its error description must not get secrets into our errors.
func TestErrorsNeverCarrySecrets(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "grant_type=client_credentials") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"client-token-value","expires_in":3600,"token_type":"Bearer"}`))
			return
		}
		echoed := strings.NewReplacer(`"`, `'`, "\n", " ").Replace(string(body) + " " + r.Header.Get("Authorization"))
		if strings.HasPrefix(r.URL.Path, "/v3/") || r.URL.Path == "/connections/extend" {
			w.Header().Set("Content-Type", problemCT)
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"type":"` + v3Type + `invalid-parameters","title":"Invalid Parameters","status":400,"trace_id":"t","detail":"you sent ` + echoed + `"}`))
			return
		}
		w.Header().Set("Content-Type", jsonCT)
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"you sent ` + echoed + `"}`))
	}))
	defer echo.Close()
	c, err := truelayer.New(truelayer.Options{AuthURL: echo.URL, APIURL: echo.URL, HTTP: httpx.Options{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"client-secret-value", "at-value-123456", "rt-value-654321", "code-value-777", "client-token-value"}
	tok := &provider.Tokens{AccessToken: secrets[1], RefreshToken: secrets[2]}
	conn := provider.Connection{DataAPI: truelayer.DataAPIV1, Credentials: provider.Credentials{ClientID: "cid", ClientSecret: secrets[0]},
		Scopes: []string{"info"}, UserRef: "u", RedirectURI: "https://gw.example/cb", User: provider.EndUser{Name: "A", Email: "a@b.c"}}
	ctx := context.Background()
	var errs []error
	_, err = c.Refresh(ctx, conn, tok.RefreshToken)
	errs = append(errs, err)
	_, err = c.CompleteAuthorization(ctx, conn, provider.Callback{Code: secrets[3]})
	errs = append(errs, err)
	_, err = c.Consent(ctx, conn, provider.Session{Tokens: tok})
	errs = append(errs, err)
	_, err = c.Extend(ctx, conn, provider.Session{Tokens: tok})
	errs = append(errs, err)
	errs = append(errs, c.Revoke(ctx, conn, provider.Session{Tokens: tok}))
	v3 := conn
	v3.DataAPI, v3.Refs.DataConnectionID = truelayer.DataAPIV3, "id-1"
	_, err = c.BeginAuthorization(ctx, v3, "")
	errs = append(errs, err)
	_, err = c.Consent(ctx, v3, provider.Session{Refs: v3.Refs})
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d: want an error", i)
		}
		if !strings.Contains(err.Error(), "you sent") {
			t.Fatalf("call %d: the provider's description is missing: %v", i, err)
		}
		noSecrets(t, err, secrets...)
	}
}

func TestOversizedResponse(t *testing.T) {
	big := strings.Repeat("x", 11<<20)
	s := docServer(t, answer{200, jsonCT, `{"results":[{"consent_status":"` + big + `"}]}`, nil})
	c, err := truelayer.New(truelayer.Options{AuthURL: s.URL, APIURL: s.URL, HTTP: httpx.Options{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	conn := provider.Connection{DataAPI: truelayer.DataAPIV1}
	_, err = c.Consent(context.Background(), conn, provider.Session{Tokens: &provider.Tokens{AccessToken: "a-token"}})
	pe := wantErr(t, err, provider.ClassRetryLater, "")
	if !strings.Contains(pe.Error(), "too large") {
		t.Fatalf("oversized body: %v", pe)
	}
}
