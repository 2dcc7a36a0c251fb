package truelayer_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/provider/providertest"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
)

// The values the fuzzed client holds; an answer may echo them, an error must not.
const (
	fuzzClientSecret = "fuzz-client-secret-6b1f0c"
	fuzzRefreshToken = "fuzz-refresh-token-93d2aa"
	fuzzAccessToken  = "fuzz-access-token-51e7c4"
	fuzzCode         = "fuzz-auth-code-0d84be"
	// fuzzMaxBody is the client's response bound; seeds go over it.
	fuzzMaxBody = 4096
)

var fuzzNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// FuzzProviderResponse feeds arbitrary answers (status, content type, Retry-After,
// body, including malformed and oversized bodies) to the TrueLayer client's code
// exchange, refresh and consent read over a real socket. Whatever the answer: no
// panic, every failure is a classified *provider.Error, no error text carries a
// secret the client sent (even when the answer echoes it), a non-2xx answer is never
// a success, and a success has a usable token.
func FuzzProviderResponse(f *testing.F) {
	seeds := []struct {
		status int
		ct, ra string
		body   string
		op     uint8
	}{
		{200, "application/json", "", `{"access_token":"a","expires_in":3600,"token_type":"Bearer","refresh_token":"r","scope":"info"}`, 0},
		{200, "application/json", "", `{"access_token":"a","expires_in":-5,"token_type":"mac"}`, 1},
		{200, "application/json", "", `{"results":[{"consent_status":"Authorised","consent_created_at":"2026-03-01T10:00:00Z","consent_expires_at":"2026-05-30T10:00:00Z","provider":{"provider_id":"mock"}}]}`, 2},
		{200, "application/json", "", `{"results":[{"consent_created_at":"yesterday"}]}`, 2},
		{200, "application/json", "", `{"results":[]}`, 2},
		{200, "application/json", "", `{"access_token":`, 1},
		{200, "text/html", "", `<html>ok</html>`, 0},
		{400, "application/json", "", `{"error":"invalid_grant"}`, 1},
		{400, "application/json", "", `{"error":"invalid_grant","error_description":"token ` + fuzzRefreshToken + ` is invalid"}`, 1},
		{401, "application/json", "", `{"error":"invalid_client","error_description":"client secret ` + fuzzClientSecret + ` wrong","error_details":{"reason":"` + fuzzClientSecret + `"}}`, 0},
		{400, "application/json", "", `{"error":"invalid_request","error_details":{"reason":"Invalid refresh_token"}}`, 1},
		{403, "application/problem+json", "", `{"type":"https://docs.truelayer.com/#access_denied","title":"Forbidden","status":403,"detail":"` + fuzzAccessToken + `","errors":{"f":["` + fuzzCode + `"]}}`, 2},
		{429, "application/json", "120", `{"error":"provider_too_many_requests"}`, 1},
		{429, "application/json", "Wed, 21 Oct 2015 07:28:00 GMT", `{"error":"provider_request_limit_exceeded"}`, 2},
		{503, "application/json", "-1", `{"error":"provider_error"}`, 0},
		{504, "text/html", "", "<html><body>504 Gateway Time-out</body></html>", 1},
		{500, "", "", "", 2},
		{302, "text/html", "", "moved", 0},
		{200, "application/json", "", strings.Repeat(" ", fuzzMaxBody) + `{"access_token":"a"}`, 1},
		{502, "application/json", "", `{"error":"` + strings.Repeat("x", 3*fuzzMaxBody) + `"}`, 2},
		{200, "application/json", "", "\x00\xff\xfe{\"", 0},
		{200, "application/json", "", `{"access_token":"a","expires_in":9223372036854775807}`, 1},
		{200, "application/json", "", `null`, 2},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, s.ra, []byte(s.body), s.op)
	}

	answer := &providertest.Answer{}
	hs := httptest.NewServer(answer)
	f.Cleanup(hs.Close)
	client, err := truelayer.New(truelayer.Options{
		AuthURL: hs.URL, APIURL: hs.URL, HTTP: httpx.Options{MaxResponseBytes: fuzzMaxBody, MaxRetries: -1, Timeout: 5 * time.Second,
			RateLimit: httpx.RateLimit{PerSecond: -1},
			Now:       func() time.Time { return fuzzNow },
			Sleep:     func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	conn := provider.Connection{
		Namespace: "fuzz", Name: "conn", UID: "uid-1", Environment: "Sandbox", DataAPI: "V1", DataAccess: "Recurring",
		Credentials: provider.Credentials{ClientID: "fuzz-client", ClientSecret: fuzzClientSecret},
		Scopes:      []string{"info", "accounts", "offline_access"}, UserRef: "user-1", RedirectURI: "http://127.0.0.1/callback",
	}
	secrets := []string{fuzzClientSecret, fuzzRefreshToken, fuzzAccessToken, fuzzCode}

	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter string, body []byte, op uint8) {
		status = providertest.Status(status)
		if !providertest.ValidHeader(contentType) || !providertest.ValidHeader(retryAfter) {
			t.Skip("not a header value a server can send")
		}
		answer.Set(status, contentType, retryAfter, body)
		var err error
		ctx := context.Background()
		var tokens *provider.Tokens
		switch op % 3 {
		case 0:
			grant, err2 := client.CompleteAuthorization(ctx, conn, provider.Callback{Code: fuzzCode, Scope: "info accounts offline_access"})
			err, tokens = err2, grant.Tokens
		case 1:
			tok, err2 := client.Refresh(ctx, conn, fuzzRefreshToken)
			err, tokens = err2, &tok
		case 2:
			cons, err2 := client.Consent(ctx, conn, provider.Session{Tokens: &provider.Tokens{AccessToken: fuzzAccessToken, RefreshToken: fuzzRefreshToken}})
			err = err2
			if err == nil && cons.Status == "" {
				t.Fatalf("consent read without a status: %+v", cons)
			}
		}
		if err != nil {
			providertest.CheckError(t, err, secrets)
			return
		}
		providertest.CheckSuccess(t, status, body, fuzzMaxBody)
		if tokens != nil && (tokens.AccessToken == "" || !tokens.ExpiresAt.After(fuzzNow)) {
			t.Fatalf("success without a usable token: expires %s, access token set: %v", tokens.ExpiresAt, tokens.AccessToken != "")
		}
	})
}
