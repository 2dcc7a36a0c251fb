package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
)

func TestWebhookTokens(t *testing.T) {
	key := StateKey("0123456789abcdef0123456789abcdef")
	tok := key.WebhookToken("ns", "job", "run-1")
	job, run, ok := key.VerifyWebhookToken(tok)
	if !ok || job.Namespace != "ns" || job.Name != "job" || run != "run-1" {
		t.Fatalf("round trip: %v %v %v", job, run, ok)
	}
	for _, bad := range []string{"", "x", tok + "x", StateKey("another key of thirty-two bytes!").WebhookToken("ns", "job", "run-1")} {
		if _, _, ok := key.VerifyWebhookToken(bad); ok {
			t.Errorf("token %q accepted", bad)
		}
	}
}

func TestWebhookHandler(t *testing.T) {
	key := StateKey("0123456789abcdef0123456789abcdef")
	var got []WebhookEvent
	notify := func(e WebhookEvent) bool { got = append(got, e); return e.TaskID == "known" }
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/truelayer/{token}", WebhookHandler(key, notify, nil, logr.Discard()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(token, body string) int {
		resp, err := http.Post(srv.URL+"/webhooks/truelayer/"+token, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tok := key.WebhookToken("ns", "job", "run-1")
	cases := []struct {
		name, token, body string
		want              int
	}{
		{"known task", tok, `{"task_id":"known","status":"Succeeded"}`, http.StatusAccepted},
		{"unknown task", tok, `{"task_id":"other"}`, http.StatusNotFound},
		{"forged token", "Zm9v.YmFy", `{"task_id":"known"}`, http.StatusNotFound},
		{"malformed body", tok, `{`, http.StatusBadRequest},
		{"no task id", tok, `{}`, http.StatusBadRequest},
		{"oversized body", tok, `{"task_id":"known","x":"` + strings.Repeat("a", maxWebhookBody) + `"}`, http.StatusBadRequest},
	}
	for _, tc := range cases {
		if code := post(tc.token, tc.body); code != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, code, tc.want)
		}
	}
	if len(got) != 2 {
		t.Fatalf("notify called %d times, want 2 (only verified, well-formed webhooks)", len(got))
	}
}
