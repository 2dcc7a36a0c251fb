package codat_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/codat"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/provider/providertest"
)

const (
	// fuzzAPIKey is what the fuzzed client authenticates with; an answer may echo
	// it, an error must not (neither it nor its Basic encoding).
	fuzzAPIKey = "fuzz-codat-api-key-4e9b71"
	// fuzzMaxBody is the client's response bound; seeds go over it.
	fuzzMaxBody = 4096
)

// FuzzProviderResponse feeds arbitrary answers (status, content type, body,
// including malformed and oversized bodies) to the Codat client's authorization
// start, completion and consent read over a real socket: no panic, every failure a
// classified *provider.Error without the API key in its text, no success from a
// non-2xx answer or from a body past the bound.
func FuzzProviderResponse(f *testing.F) {
	seeds := []struct {
		status int
		ct     string
		body   string
		op     uint8
	}{
		{200, "application/json", `{"id":"c1","name":"x","dataConnections":[{"id":"d1","integrationId":"i","sourceId":"s","platformName":"p","linkUrl":"https://link.codat.io/c1/d1","status":"PendingAuth","created":"2026-03-01T10:00:00Z"}]}`, 0},
		{200, "application/json", `{"id":"d1","status":"Linked","created":"2026-03-01T10:00:00Z","linkUrl":"https://link"}`, 1},
		{200, "application/json", `{"id":"d1","status":"Deauthorized","created":"not a time"}`, 2},
		{200, "application/json", `{"id":"d1","status":"Mystery"}`, 2},
		{200, "application/json", `{"id":""}`, 0},
		{200, "application/json", `{"id":"c1","dataConnections":[{"id":"d1","linkUrl":"::not a url"}]}`, 0},
		{200, "application/json", `{"id":`, 1},
		{401, "application/json", `{"statusCode":401,"service":"x","error":"Unauthorized: key ` + fuzzAPIKey + ` Basic ` + base64.StdEncoding.EncodeToString([]byte(fuzzAPIKey)) + `","canBeRetried":"False"}`, 0},
		{404, "application/json", `{"statusCode":404,"error":"Company not found","canBeRetried":"False"}`, 2},
		{429, "application/json", `{"statusCode":429,"error":"Too many requests","canBeRetried":"Unknown"}`, 1},
		{500, "text/html", `<html>500</html>`, 0},
		{503, "", ``, 2},
		{200, "application/json", strings.Repeat(" ", fuzzMaxBody) + `{"id":"d1","status":"Linked"}`, 2},
		{400, "application/json", `{"statusCode":400,"error":"` + strings.Repeat("y", 2*fuzzMaxBody) + `"}`, 1},
		{200, "application/json", "\xff\xfe\x00", 1},
		{200, "application/json", `null`, 0},
		{204, "", "", 2},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, []byte(s.body), s.op)
	}
	answer := &providertest.Answer{}
	hs := httptest.NewServer(answer)
	f.Cleanup(hs.Close)
	client, err := codat.New(codat.Options{
		BaseURL: hs.URL, HTTP: httpx.Options{MaxResponseBytes: fuzzMaxBody, MaxRetries: -1, Timeout: 5 * time.Second,
			RateLimit: httpx.RateLimit{PerSecond: -1},
			Sleep:     func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	conn := provider.Connection{
		Namespace: "fuzz", Name: "conn", UID: "uid-1", Credentials: provider.Credentials{APIKey: fuzzAPIKey},
		ProviderID: "mock", DataAccess: "Recurring", UserRef: "user-1",
	}
	linked := conn
	linked.Refs = provider.Refs{CodatCompanyID: "c1", CodatConnectionID: "d1"}
	secrets := []string{fuzzAPIKey, base64.StdEncoding.EncodeToString([]byte(fuzzAPIKey))}

	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte, op uint8) {
		status = providertest.Status(status)
		if !providertest.ValidHeader(contentType) {
			t.Skip("not a header value a server can send")
		}
		answer.Set(status, contentType, "", body)
		var err error
		ctx := context.Background()
		switch op % 3 {
		case 0:
			auth, err2 := client.BeginAuthorization(ctx, conn, "signed-state")
			err = err2
			if err == nil && auth.URL == "" {
				t.Fatalf("authorization without a link: %+v", auth)
			}
		case 1:
			_, err = client.CompleteAuthorization(ctx, linked, provider.Callback{})
		case 2:
			cons, err2 := client.Consent(ctx, linked, provider.Session{Refs: linked.Refs})
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
	})
}
