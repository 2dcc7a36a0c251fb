package codat_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/codat"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

const (
	// fuzzAPIKey is what the fuzzed client authenticates with; an answer may echo
	// it, an error must not (neither it nor its Basic encoding).
	fuzzAPIKey = "fuzz-codat-api-key-4e9b71"
	// fuzzMaxBody is the client's response bound; seeds go over it.
	fuzzMaxBody = 4096
)

// fuzzAnswer is what the fake Codat answers to every request.
type fuzzAnswer struct {
	mu          sync.Mutex
	status      int
	contentType string
	body        []byte
}

func (a *fuzzAnswer) set(status int, contentType string, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status, a.contentType, a.body = status, contentType, body
}

func (a *fuzzAnswer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	status, ct, body := a.status, a.contentType, a.body
	a.mu.Unlock()
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may hang up on an oversized body
}

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
	answer := &fuzzAnswer{}
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
		if status < 0 {
			status = -(status + 1)
		}
		status = 200 + status%400 // net/http refuses codes outside [100, 999]; 1xx are not answers
		for i := 0; i < len(contentType); i++ {
			if c := contentType[i]; c < 0x20 && c != '\t' || c == 0x7f {
				t.Skip("not a header value a server can send")
			}
		}
		answer.set(status, contentType, body)
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
			pe, ok := provider.AsError(err)
			if !ok {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
			switch pe.Class {
			case provider.ClassNeedsHuman, provider.ClassRetryLater, provider.ClassRateLimited, provider.ClassInvalidRequest:
			default:
				t.Fatalf("error with unknown class %q: %v", pe.Class, err)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error text carries the API key: %v", err)
				}
			}
			return
		}
		if status > 299 {
			t.Fatalf("HTTP %d accepted as a success", status)
		}
		if len(body) > fuzzMaxBody {
			t.Fatalf("a %d-byte body was read past the %d-byte bound", len(body), fuzzMaxBody)
		}
	})
}
