package gateway

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
)

// FuzzWebhookHandler feeds arbitrary tokens and bodies to the webhook endpoint: it
// never panics, answers only 202/400/404, and wakes a run only for a token the
// operator issued and a body naming a task.
func FuzzWebhookHandler(f *testing.F) {
	keys := fuzzKeys(f)
	gw := &Server{Journeys: keys, PublicURL: "https://gw.example"}
	u, err := gw.Links().WebhookURL("ns", "job", "run-1", now)
	if err != nil {
		f.Fatal(err)
	}
	good := strings.TrimPrefix(u, "https://gw.example/webhooks/truelayer/")
	f.Add(good, []byte(`{"task_id":"t1","status":"Succeeded"}`))
	f.Add(good, []byte(`{"task_id":""}`))
	f.Add(good, []byte(`{`))
	f.Add("x.y", []byte(`{"task_id":"t1"}`))
	f.Add(good+"A", []byte(`{"task_id":"t1"}`))
	f.Add(good, bytes.Repeat([]byte("a"), maxWebhookBody+10))
	f.Fuzz(func(t *testing.T, token string, body []byte) {
		woke := false
		h := WebhookHandler(Webhooks{Keys: keys, Clock: fuzzClock{}, Log: logr.Discard()}, func(e WebhookEvent) bool {
			woke = true
			if e.Job.Namespace != "ns" || e.Job.Name != "job" || e.RunID != "run-1" || e.TaskID == "" {
				t.Fatalf("woke for an event the operator did not issue: %+v", e)
			}
			return true
		})
		req := httptest.NewRequest(http.MethodPost, "/webhooks/truelayer/x", bytes.NewReader(body))
		req.SetPathValue("token", token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusAccepted:
			// Seeds are sealed afresh in every fuzzing process: compare what opens.
			if tok, err := keys.OpenWebhookToken(token, now); !woke || err != nil || tok.RunID != "run-1" {
				t.Fatalf("202 without a verified token (woke=%v, %v)", woke, err)
			}
		case http.StatusBadRequest, http.StatusNotFound:
			if woke && rec.Code == http.StatusBadRequest {
				t.Fatal("woke on a malformed body")
			}
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
	})
}
