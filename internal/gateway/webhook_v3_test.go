package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
)

// TestV3WebhookHandler: the documented v3 webhook bodies reach notify with what they
// name; anything else is refused with 400 and reaches nothing.
func TestV3WebhookHandler(t *testing.T) {
	var got []V3Event
	notify := func(e V3Event) bool { got = append(got, e); return e.ConnectionID == "known" }
	var results []string
	srv := httptest.NewServer(V3WebhookHandler(notify, func(r string) { results = append(results, r) }, logr.Discard()))
	defer srv.Close()
	for _, tc := range []struct {
		name, body string
		status     int
		want       *V3Event
		result     string
	}{
		{"authorized", `{"type":"connection_authorized","event_version":1,"event_id":"e1","connection_id":"known","metadata":{"namespace":"ns","name":"bc"},"authorized_at":"2025-01-01T09:01:00.000Z"}`,
			200, &V3Event{Type: V3ConnectionAuthorized, EventID: "e1", ConnectionID: "known", Namespace: "ns", Name: "bc"}, "accepted"},
		{"failed", `{"type":"connection_failed","event_version":1,"event_id":"e2","connection_id":"other","failed_at":"2025-01-01T09:01:00.000Z","failure_stage":"authorizing","failure_reason":"provider_rejected"}`,
			200, &V3Event{Type: V3ConnectionFailed, EventID: "e2", ConnectionID: "other", FailureReason: "provider_rejected"}, "unknown"},
		{"transactions completed", `{"type":"transactions_request_completed","event_version":1,"event_id":"e3","connection_id":"known","account_id":"a","request_id":"r-1","completed_at":"2026-07-15T12:34:56.789Z"}`,
			200, &V3Event{Type: V3TransactionsRequestComplete, EventID: "e3", ConnectionID: "known", RequestID: "r-1"}, "accepted"},
		{"a reason that is not a slug is dropped", `{"type":"transactions_request_failed","event_version":1,"event_id":"e4","connection_id":"known","request_id":"r-2","failure_reason":"<script>"}`,
			200, &V3Event{Type: V3TransactionsRequestFailed, EventID: "e4", ConnectionID: "known", RequestID: "r-2"}, "accepted"},
		{"unknown type", `{"type":"payment_executed","event_id":"e5","connection_id":"known"}`, 400, nil, "malformed"},
		{"transactions without request id", `{"type":"transactions_request_completed","event_id":"e6","connection_id":"known"}`, 400, nil, "malformed"},
		{"id with a path", `{"type":"connection_authorized","event_id":"e7","connection_id":"../../x"}`, 400, nil, "malformed"},
		{"not JSON", `type=connection_authorized`, 400, nil, "malformed"},
		{"too large", `{"type":"connection_authorized","event_id":"e8","connection_id":"known","x":"` + strings.Repeat("a", maxWebhookBody) + `"}`, 400, nil, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, results = nil, nil
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.want == nil && len(got) != 0 || tc.want != nil && (len(got) != 1 || got[0] != *tc.want) {
				t.Fatalf("notified %+v, want %+v", got, tc.want)
			}
			if len(results) != 1 || results[0] != tc.result {
				t.Fatalf("counted %v, want %s", results, tc.result)
			}
		})
	}
}
