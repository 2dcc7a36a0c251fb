package gateway

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/consent-operator/consent-operator/internal/webhooksig"
)

// signedWebhooks is a TrueLayer stand-in for webhook tests: a signing key whose
// JWKS is served on an allow-listed URL, and the Webhooks that trust it.
type signedWebhooks struct {
	signer  *webhooksig.Signer
	rogue   *webhooksig.Signer // a key TrueLayer never published
	wh      Webhooks
	results []string
}

func newSignedWebhooks(t *testing.T) *signedWebhooks {
	t.Helper()
	signer, err := webhooksig.NewSigner("")
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(signer.JWKS()) }))
	t.Cleanup(jwks.Close)
	jku := jwks.URL + "/.well-known/jwks"
	rogue, err := webhooksig.NewSigner(jku)
	if err != nil {
		t.Fatal(err)
	}
	sw := &signedWebhooks{signer: signer.WithJKU(jku), rogue: rogue}
	sw.wh = Webhooks{Keys: fuzzKeys(t), Clock: fuzzClock{}, Log: logr.Discard(),
		Signatures: &webhooksig.Verifier{Allowed: map[string]string{jku: "Sandbox"}},
		Observe:    func(r string) { sw.results = append(sw.results, r) }}
	return sw
}

// request builds a webhook POST to path, signed by s when s is not nil.
func signedPost(t *testing.T, s *webhooksig.Signer, path, body string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	stamp := now.Format(time.RFC3339)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tl-Webhook-Timestamp", stamp)
	if s != nil {
		sig, err := s.Sign(http.MethodPost, path, []webhooksig.SignedHeader{{Name: "X-Tl-Webhook-Timestamp", Value: stamp}}, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(webhooksig.Header, sig)
	}
	return req
}

func TestWebhookHandler(t *testing.T) {
	sw := newSignedWebhooks(t)
	var got []WebhookEvent
	notify := func(e WebhookEvent) bool { got = append(got, e); return e.TaskID == "known" }
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/truelayer/{token}", WebhookHandler(sw.wh, notify))
	gw := &Server{Journeys: sw.wh.Keys, PublicURL: "https://gw.example/"}
	// Names long enough that the token's random base64 cannot contain them by chance
	// (two-letter names did, now and then).
	url, err := gw.Links().WebhookURL("tenant-namespace", "nightly-job", "run-20260301", now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(url, "https://gw.example")
	if strings.Contains(path, "tenant-namespace") || strings.Contains(path, "nightly-job") || strings.Contains(path, "run-20260301") {
		t.Fatalf("webhook URL %s shows what it names", url)
	}
	expired, err := gw.Links().WebhookURL("tenant-namespace", "nightly-job", "run-20260301", now.Add(-WebhookTokenTTL))
	if err != nil {
		t.Fatal(err)
	}
	expiredPath := strings.TrimPrefix(expired, "https://gw.example")
	cases := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"known task, unsigned", signedPost(t, nil, path, `{"task_id":"known","status":"Succeeded"}`), http.StatusAccepted},
		{"known task, signed", signedPost(t, sw.signer, path, `{"task_id":"known","status":"Succeeded"}`), http.StatusAccepted},
		{"known task, bad signature", signedPost(t, sw.rogue, path, `{"task_id":"known","status":"Succeeded"}`), http.StatusUnauthorized},
		{"signed for another run's URL", signedPost(t, sw.signer, "/webhooks/truelayer/other", `{"task_id":"known"}`), http.StatusNotFound},
		{"unknown task", signedPost(t, nil, path, `{"task_id":"other"}`), http.StatusNotFound},
		{"forged token", signedPost(t, nil, "/webhooks/truelayer/Zm9v.YmFy", `{"task_id":"known"}`), http.StatusNotFound},
		{"the token of a run started a day ago", signedPost(t, nil, expiredPath, `{"task_id":"known"}`), http.StatusNotFound},
		{"malformed body", signedPost(t, nil, path, `{`), http.StatusBadRequest},
		{"no task id", signedPost(t, nil, path, `{}`), http.StatusBadRequest},
		{"oversized body", signedPost(t, nil, path, `{"task_id":"known","x":"`+strings.Repeat("a", maxWebhookBody)+`"}`), http.StatusBadRequest},
	}
	// A signature over one body does not cover another.
	replayed := signedPost(t, sw.signer, path, `{"task_id":"other"}`)
	replayed.Body = httptestBody(`{"task_id":"known"}`)
	cases = append(cases, struct {
		name string
		req  *http.Request
		want int
	}{"signature replayed with a modified body", replayed, http.StatusUnauthorized})
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, tc.req)
		if rec.Code != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, rec.Code, tc.want)
		}
	}
	if len(got) != 3 {
		t.Fatalf("notify called %d times, want 3 (only valid tokens, signatures and bodies)", len(got))
	}
	if got[0].Job.Namespace != "tenant-namespace" || got[0].Job.Name != "nightly-job" || got[0].RunID != "run-20260301" || got[0].TaskID != "known" {
		t.Fatalf("event %+v", got[0])
	}
}

func httptestBody(s string) *readCloser { return &readCloser{bytes.NewReader([]byte(s))} }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
