package codat_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/codat"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/provider/providertest"
	emu "github.com/consent-operator/consent-operator/internal/sandbox/codat"
)

// codatError is a Codat ErrorMessage body.
func codatError(status int, message, canBeRetried string) string {
	return fmt.Sprintf(`{"statusCode":%d,"service":"PublicApi","error":%q,"correlationId":"c0ffee00c0ffee00c0ffee00c0ffee00","canBeRetried":%q,"detailedErrorCode":0}`,
		status, message, canBeRetried)
}

// TestErrorClassification drives each documented error answer through a
// client operation against a small Codat stand-in that answers every request
// with the case's status, headers and body.
func TestErrorClassification(t *testing.T) {
	linked := testConn()
	linked.Refs = provider.Refs{CodatCompanyID: "co-1", CodatConnectionID: "cn-1"}
	sess := provider.Session{Refs: linked.Refs}
	consent := func(c *codat.Client) error {
		_, err := c.Consent(context.Background(), linked, sess)
		return err
	}
	sources := func(c *codat.Client) error {
		_, err := c.BankingSources(context.Background(), linked)
		return err
	}
	begin := func(c *codat.Client) error {
		conn := testConn()
		conn.ProviderID = "" // straight to POST /companies
		_, err := c.BeginAuthorization(context.Background(), conn, "")
		return err
	}
	fetch := func(c *codat.Client) error {
		_, err := c.Fetch(context.Background(), linked, sess, provider.Fetch{Resource: provider.ResourceAccounts})
		return err
	}
	tests := []struct {
		name     string
		op       func(*codat.Client) error
		status   int
		header   map[string]string
		body     string
		class    provider.Class
		reason   string
		attempts int32
		retryIn  time.Duration
		descHas  string
	}{
		{name: "401 unauthorized", op: consent, status: 401, body: codatError(401, "Unauthorized", "False"),
			class: provider.ClassNeedsHuman, reason: provider.ReasonInvalidClientCredentials, attempts: 1},
		{name: "403 forbidden", op: sources, status: 403, body: codatError(403, "You are not allowed to do that", "False"),
			class: provider.ClassNeedsHuman, reason: provider.ReasonInvalidClientCredentials, attempts: 1},
		{name: "404 on the data connection", op: consent, status: 404, body: codatError(404, "Data connection cn-1 not found", "False"),
			class: provider.ClassNeedsHuman, reason: provider.ReasonConsentRevoked, attempts: 1, descHas: "cn-1 not found"},
		{name: "404 elsewhere", op: sources, status: 404, body: codatError(404, "The requested resource was not found.", "False"),
			class: provider.ClassInvalidRequest, attempts: 1},
		{name: "409 data set not requested", op: fetch, status: 409, body: codatError(409, "The data set has not been requested.", "False"),
			class: provider.ClassInvalidRequest, attempts: 1},
		{name: "409 first pull running", op: fetch, status: 409, body: codatError(409, "The data set has not been completed: the latest pull is Fetching.", "False"),
			class: provider.ClassRetryLater, attempts: 1},
		{name: "429 with Retry-After", op: consent, status: 429, header: map[string]string{"Retry-After": "30"},
			body: codatError(429, "Too many requests", "True"), class: provider.ClassRateLimited, attempts: 1, retryIn: 30 * time.Second},
		{name: "500 retried then RetryLater", op: consent, status: 500, body: codatError(500, "There is a problem with our server.", "Unknown"),
			class: provider.ClassRetryLater, attempts: 3, descHas: "trace id c0ffee00"},
		{name: "503 on POST /companies is not repeated", op: begin, status: 503, body: codatError(503, "Service unavailable", "True"),
			class: provider.ClassRetryLater, attempts: 1},
		{name: "400 that can be retried", op: consent, status: 400, body: codatError(400, "Transient failure", "True"),
			class: provider.ClassRetryLater, attempts: 1},
		{name: "400 validation", op: begin, status: 400,
			body:  `{"statusCode":400,"service":"PublicApi","error":"Error processing request - not valid.","correlationId":"x","canBeRetried":"False","validation":{"errors":[{"message":"name: required"}]}}`,
			class: provider.ClassInvalidRequest, attempts: 1, descHas: "name: required"},
		{name: "402 plan limit", op: begin, status: 402, body: codatError(402, "You have exceeded the 50-company limit", "False"),
			class: provider.ClassInvalidRequest, attempts: 1, descHas: "plan limit"},
		{name: "502 gateway page", op: consent, status: 502, header: map[string]string{"Content-Type": "text/html"},
			body: "<html>Bad gateway</html>", class: provider.ClassRetryLater, attempts: 3, descHas: "not a Codat error"},
		{name: "malformed success", op: consent, status: 200, body: `{"id": 12`,
			class: provider.ClassRetryLater, attempts: 1, descHas: "not the expected JSON"},
		{name: "error echoing the key", op: consent, status: 400,
			body:  codatError(400, "bad key "+testAPIKey+" / "+base64.StdEncoding.EncodeToString([]byte(testAPIKey)), "False"),
			class: provider.ClassInvalidRequest, attempts: 1, descHas: "[redacted]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if got := r.Header.Get("Authorization"); got != emu.AuthorizationHeader(testAPIKey) {
					t.Errorf("Authorization %q", got)
				}
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				if w.Header().Get("Content-Type") == "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer hs.Close()
			sleeps := &providertest.Sleeps{}
			c, err := codat.New(codat.Options{BaseURL: hs.URL, HTTP: httpx.Options{MaxRetries: 2, Sleep: sleeps.Sleep,
				RateLimit: httpx.RateLimit{PerSecond: -1}, Backoff: httpx.Backoff{Max: time.Second}}})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.op(c)
			pe := mustProviderError(t, err, tc.class, tc.reason)
			if n := hits.Load(); n != tc.attempts {
				t.Fatalf("%d attempts, want %d", n, tc.attempts)
			}
			if n := sleeps.Count(); n != int(tc.attempts)-1 {
				t.Fatalf("%d waits between %d attempts", n, tc.attempts)
			}
			if pe.RetryAfter != tc.retryIn {
				t.Fatalf("RetryAfter %v, want %v", pe.RetryAfter, tc.retryIn)
			}
			if tc.descHas != "" && !strings.Contains(err.Error(), tc.descHas) {
				t.Fatalf("error %q does not mention %q", err, tc.descHas)
			}
		})
	}
}

// TestWrongAPIKey: the emulator refuses an unknown key; the error never
// shows the key.
func TestWrongAPIKey(t *testing.T) {
	e := newEnv(t, nil, nil)
	conn := testConn()
	conn.Credentials.APIKey = "wrong-key-0123456789"
	_, err := e.client.BeginAuthorization(context.Background(), conn, "s")
	mustProviderError(t, err, provider.ClassNeedsHuman, provider.ReasonInvalidClientCredentials)
	if strings.Contains(err.Error(), "wrong-key-0123456789") ||
		strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte("wrong-key-0123456789"))) {
		t.Fatalf("error %q shows the key", err)
	}
	conn.Credentials.APIKey = ""
	_, err = e.client.BeginAuthorization(context.Background(), conn, "s")
	mustProviderError(t, err, provider.ClassNeedsHuman, provider.ReasonInvalidClientCredentials)
}

// TestDailyQuota: once the emulator's daily quota is spent, calls are
// RateLimited until midnight UTC.
func TestDailyQuota(t *testing.T) {
	e := newEnv(t, func(o *emu.Options) { o.DailyRequestQuota = emu.Quota{Base: 3} }, nil)
	ctx := context.Background()
	conn := testConn()
	var err error
	for i := 0; i < 4 && err == nil; i++ {
		_, err = e.client.BankingSources(ctx, conn)
	}
	pe := mustProviderError(t, err, provider.ClassRateLimited, "")
	if want := 14 * time.Hour; pe.RetryAfter != want { // t0 is 10:00 UTC
		t.Fatalf("RetryAfter %v, want %v", pe.RetryAfter, want)
	}
}

// TestPullFailures: a pull Codat fails maps to the class its status says.
func TestPullFailures(t *testing.T) {
	linked := testConn()
	linked.Refs = provider.Refs{CodatCompanyID: "co-1", CodatConnectionID: "cn-1"}
	sess := provider.Session{Refs: linked.Refs}
	tests := []struct {
		status string
		class  provider.Class
		reason string
	}{
		{"AuthError", provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired}, // connection still Linked
		{"PermissionsError", provider.ClassNeedsHuman, provider.ReasonAccessDenied},
		{"RateLimitError", provider.ClassRateLimited, ""},
		{"NotSupported", provider.ClassInvalidRequest, ""},
		{"FetchError", provider.ClassRetryLater, ""},
		{"InternalError", provider.ClassRetryLater, ""},
		{"Cancelled", provider.ClassRetryLater, ""},
	}
	for _, tc := range tests {
		t.Run(tc.status, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case strings.HasSuffix(r.URL.Path, "/dataStatus"):
					fmt.Fprintf(w, `{"banking-accounts":{"dataType":"banking-accounts","currentStatus":%q,"latestSyncId":"p-1"}}`, tc.status)
				case strings.HasSuffix(r.URL.Path, "/data/history/p-1"):
					fmt.Fprintf(w, `{"id":"p-1","companyId":"co-1","connectionId":"cn-1","dataType":"banking-accounts","status":%q,"errorMessage":"it failed","requested":"2026-03-02T10:00:00Z"}`, tc.status)
				case strings.HasSuffix(r.URL.Path, "/connections/cn-1"):
					fmt.Fprint(w, `{"id":"cn-1","integrationKey":"mock","status":"Linked","created":"2026-03-01T10:00:00Z"}`)
				default:
					w.WriteHeader(http.StatusNotFound)
					fmt.Fprint(w, codatError(404, "not found", "False"))
				}
			}))
			defer hs.Close()
			c, err := codat.New(codat.Options{BaseURL: hs.URL, HTTP: httpx.Options{RateLimit: httpx.RateLimit{PerSecond: -1}}})
			if err != nil {
				t.Fatal(err)
			}
			f := provider.Fetch{Resource: provider.ResourceAccounts}
			d, err := c.Collect(context.Background(), linked, sess, provider.Task{ID: "p-1"}, f)
			if d != nil {
				t.Fatalf("data %+v from a failed pull", d)
			}
			pe := mustProviderError(t, err, tc.class, tc.reason)
			if !strings.Contains(pe.Description, "it failed") {
				t.Fatalf("description %q lacks Codat's message", pe.Description)
			}
		})
	}
}
