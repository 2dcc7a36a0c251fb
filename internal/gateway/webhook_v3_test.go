package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestV3WebhookHandler: documented v3 webhook bodies signed by an allow-listed key
// reach notify with what they name; unsigned, badly signed or modified ones get 401,
// malformed ones 400, and none of those reach anything.
func TestV3WebhookHandler(t *testing.T) {
	sw := newSignedWebhooks(t)
	var got []V3Event
	notify := func(e V3Event) bool { got = append(got, e); return e.ConnectionID == "known" }
	h := V3WebhookHandler(sw.wh, notify)
	authorized := `{"type":"connection_authorized","event_version":1,"event_id":"e1","connection_id":"known","metadata":{"namespace":"ns","name":"bc"},"authorized_at":"2025-01-01T09:01:00.000Z"}`
	signed := func(body string) *http.Request { return signedPost(t, sw.signer, V3WebhookPath, body) }
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		want   *V3Event
		result string
	}{
		{"authorized", signed(authorized),
			200, &V3Event{Type: V3ConnectionAuthorized, EventID: "e1", ConnectionID: "known", Namespace: "ns", Name: "bc", Environment: "Sandbox"}, "accepted"},
		{"failed", signed(`{"type":"connection_failed","event_version":1,"event_id":"e2","connection_id":"other","failed_at":"2025-01-01T09:01:00.000Z","failure_stage":"authorizing","failure_reason":"provider_rejected"}`),
			200, &V3Event{Type: V3ConnectionFailed, EventID: "e2", ConnectionID: "other", FailureReason: "provider_rejected", Environment: "Sandbox"}, "unknown"},
		{"transactions completed", signed(`{"type":"transactions_request_completed","event_version":1,"event_id":"e3","connection_id":"known","account_id":"a","request_id":"r-1","completed_at":"2026-07-15T12:34:56.789Z"}`),
			200, &V3Event{Type: V3TransactionsRequestComplete, EventID: "e3", ConnectionID: "known", RequestID: "r-1", Environment: "Sandbox"}, "accepted"},
		{"a reason that is not a slug is dropped", signed(`{"type":"transactions_request_failed","event_version":1,"event_id":"e4","connection_id":"known","request_id":"r-2","failure_reason":"<script>"}`),
			200, &V3Event{Type: V3TransactionsRequestFailed, EventID: "e4", ConnectionID: "known", RequestID: "r-2", Environment: "Sandbox"}, "accepted"},
		{"unsigned", signedPost(t, nil, V3WebhookPath, authorized), 401, nil, "unauthenticated"},
		{"signed by a key TrueLayer never published", signedPost(t, sw.rogue, V3WebhookPath, authorized), 401, nil, "unauthenticated"},
		{"signed for another path", func() *http.Request {
			r := signedPost(t, sw.signer, "/elsewhere", authorized)
			r.URL.Path = V3WebhookPath
			return r
		}(), 401, nil, "unauthenticated"},
		{"replayed with a modified body", func() *http.Request {
			r := signed(authorized)
			r.Body = httptestBody(strings.Replace(authorized, `"known"`, `"victim"`, 1))
			return r
		}(), 401, nil, "unauthenticated"},
		{"unknown type", signed(`{"type":"payment_executed","event_id":"e5","connection_id":"known"}`), 400, nil, "malformed"},
		{"transactions without request id", signed(`{"type":"transactions_request_completed","event_id":"e6","connection_id":"known"}`), 400, nil, "malformed"},
		{"id with a path", signed(`{"type":"connection_authorized","event_id":"e7","connection_id":"../../x"}`), 400, nil, "malformed"},
		{"not JSON", signed(`type=connection_authorized`), 400, nil, "malformed"},
		{"too large", signed(`{"type":"connection_authorized","event_id":"e8","connection_id":"known","x":"` + strings.Repeat("a", maxWebhookBody) + `"}`), 400, nil, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, sw.results = nil, nil
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tc.req)
			if rec.Code != tc.status {
				t.Fatalf("HTTP %d, want %d", rec.Code, tc.status)
			}
			if tc.want == nil && len(got) != 0 || tc.want != nil && (len(got) != 1 || got[0] != *tc.want) {
				t.Fatalf("notified %+v, want %+v", got, tc.want)
			}
			if len(sw.results) != 1 || sw.results[0] != tc.result {
				t.Fatalf("counted %v, want %s", sw.results, tc.result)
			}
		})
	}
}

// TestV3WebhooksNeedAVerifier: without signature verification configured, every v3
// webhook is refused.
func TestV3WebhooksNeedAVerifier(t *testing.T) {
	sw := newSignedWebhooks(t)
	sw.wh.Signatures = nil
	rec := httptest.NewRecorder()
	V3WebhookHandler(sw.wh, func(V3Event) bool { t.Fatal("notified"); return true }).
		ServeHTTP(rec, signedPost(t, sw.signer, V3WebhookPath, `{"type":"connection_authorized","event_id":"e1","connection_id":"c"}`))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("HTTP %d, want 401", rec.Code)
	}
}
