package truelayer

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/provider/providertest"
)

// The bank sandbox completes every v3 transaction request at once, so the
// pending and failed states of a request (data-api-v3.json
// GetTransactionsRequest) are played here by a scripted server on a real
// socket.

type scriptedV3 struct {
	mu sync.Mutex
	// pendingReads is how many reads of each request answer pending first
	// (-1: pending for ever).
	pendingReads map[string]int
	failed       map[string]bool
	reads        map[string]int
	creates      []string // the cursors of the POSTs, in order
}

func (s *scriptedV3) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /connect/token", func(w http.ResponseWriter, r *http.Request) {
		writeTestJSON(w, 200, map[string]any{"access_token": "client-token-1234", "expires_in": 3600, "token_type": "Bearer"})
	})
	mux.HandleFunc("POST /v3/connected-accounts/{account_id}/transactions/requests", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Cursor string `json:"cursor"`
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		s.mu.Lock()
		s.creates = append(s.creates, body.Cursor)
		s.mu.Unlock()
		id := "req-first"
		if body.Cursor != "" {
			id = "req-" + body.Cursor
		}
		writeTestJSON(w, http.StatusAccepted, map[string]string{"id": id, "status": "pending"})
	})
	mux.HandleFunc("GET /v3/connected-accounts/{account_id}/transactions/requests/{request_id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("request_id")
		s.mu.Lock()
		s.reads[id]++
		n, limit, failed := s.reads[id], s.pendingReads[id], s.failed[id]
		s.mu.Unlock()
		switch {
		case failed:
			writeTestJSON(w, 200, map[string]string{"id": id, "status": "failed", "failure_reason": "provider_error"})
		case limit < 0 || n <= limit:
			writeTestJSON(w, 200, map[string]string{"id": id, "status": "pending"})
		case id == "req-first":
			writeTestJSON(w, 200, map[string]any{"id": id, "status": "completed", "result": map[string]any{
				"items": []map[string]any{
					{"id": "p1", "timestamp": "2026-03-02T08:00:00Z", "description": "PENDING CARD", "currency": "GBP", "amount_in_minor": -500, "status": "pending"},
					{"id": "t2", "timestamp": "2026-02-10T12:00:00Z", "description": "SALARY", "currency": "GBP", "amount_in_minor": 250000, "status": "settled",
						"enrichment": map[string]any{"transaction_category": map[string]string{"category_code": "C_IN_00", "category_name": "Income"}}},
				},
				"pagination": map[string]string{"next_cursor": "c2"}}})
		default:
			writeTestJSON(w, 200, map[string]any{"id": id, "status": "completed", "result": map[string]any{
				"items": []map[string]any{
					{"id": "t1", "timestamp": "2026-02-01T09:00:00Z", "description": "RENT", "currency": "GBP", "amount_in_minor": -120000, "status": "settled"},
					// Before the window: the bank may send it, the client drops it.
					{"id": "t0", "timestamp": "2026-01-31T23:00:00Z", "description": "OLD", "currency": "GBP", "amount_in_minor": -1, "status": "settled"},
				},
				"pagination": map[string]any{}}})
		}
	})
	return mux
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestV3TransactionRequestPolling(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	f := provider.Fetch{Resource: provider.ResourceTransactions, AccountID: "acc-1",
		From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), To: now}
	conn := provider.Connection{Environment: "Sandbox", DataAPI: DataAPIV3,
		Credentials: provider.Credentials{ClientID: "client", ClientSecret: "secret-value"},
		Refs:        provider.Refs{DataConnectionID: "conn-1"}}

	for _, tc := range []struct {
		name       string
		pending    map[string]int
		failed     map[string]bool
		wantTask   bool
		wantSleeps []time.Duration
		wantErr    string // Code of the error Collect returns after a Task
	}{
		{name: "pages ready after polls", pending: map[string]int{"req-first": 2, "req-c2": 1},
			wantSleeps: []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 100 * time.Millisecond}},
		{name: "first page never ready", pending: map[string]int{"req-first": -1},
			wantTask: true, wantSleeps: v3PollDelays},
		{name: "second page never ready", pending: map[string]int{"req-c2": -1},
			wantTask: true, wantSleeps: v3PollDelays, wantErr: codePagePending},
		{name: "request failed", failed: map[string]bool{"req-first": true}, wantErr: "provider_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &scriptedV3{pendingReads: tc.pending, failed: tc.failed, reads: map[string]int{}}
			if sc.pendingReads == nil {
				sc.pendingReads = map[string]int{}
			}
			hs := httptest.NewServer(sc.handler())
			t.Cleanup(hs.Close)
			sleeps := &providertest.Sleeps{}
			c, err := New(Options{AuthURL: hs.URL, APIURL: hs.URL, HTTP: httpx.Options{Now: func() time.Time { return now },
				RateLimit: httpx.RateLimit{PerSecond: -1}, Sleep: sleeps.Sleep}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			res, err := c.Fetch(ctx, conn, provider.Session{Refs: conn.Refs}, f)
			if tc.wantErr == "provider_error" {
				if pe, ok := provider.AsError(err); !ok || pe.Class != provider.ClassRetryLater || pe.Code != tc.wantErr {
					t.Fatalf("want RetryLater %s, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := sleeps.List(); !reflect.DeepEqual(got, tc.wantSleeps) {
				t.Fatalf("sleeps %v, want %v", got, tc.wantSleeps)
			}
			if tc.wantTask {
				if res.Task == nil || res.Task.ID != "req-first" || res.Data != nil {
					t.Fatalf("want the first request as a task, got %+v", res)
				}
				d, err := c.Collect(ctx, conn, provider.Session{Refs: conn.Refs}, *res.Task, f)
				if tc.wantErr == "" {
					if d != nil || err != nil {
						t.Fatalf("collect of a pending request: %+v %v", d, err)
					}
					return
				}
				if pe, ok := provider.AsError(err); !ok || pe.Class != provider.ClassRetryLater || pe.Code != tc.wantErr || d != nil {
					t.Fatalf("collect: %+v %v", d, err)
				}
				return
			}
			d := res.Data
			if d == nil || len(d.Transactions) != 2 || len(d.Pending) != 1 {
				t.Fatalf("data %+v", d)
			}
			salary, rent, pend := d.Transactions[0], d.Transactions[1], d.Pending[0]
			if salary.NormalisedProviderTransactionID != "t2" || salary.Amount != "2500.00" || salary.Type != "CREDIT" ||
				salary.Category != "C_IN_00" || len(salary.Meta) == 0 ||
				rent.NormalisedProviderTransactionID != "t1" || rent.Amount != "-1200.00" || rent.Type != "DEBIT" ||
				pend.NormalisedProviderTransactionID != "p1" || pend.Amount != "-5.00" {
				t.Fatalf("data %+v", d)
			}
			if !reflect.DeepEqual(sc.creates, []string{"", "c2"}) {
				t.Fatalf("requests created with cursors %q", sc.creates)
			}
		})
	}
}
