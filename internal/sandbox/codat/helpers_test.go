package codat

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
)

const testAPIKey = "sandbox-test-key"

var testStart = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

// testEnv is an emulator served over a real socket with a manual clock.
type testEnv struct {
	t      testing.TB
	emu    *Emulator
	clock  *clock.Manual
	server *httptest.Server
	client *http.Client
}

func newTestEnv(t testing.TB, mutate func(*Options)) *testEnv {
	t.Helper()
	clk := clock.NewManual(testStart)
	opts := Options{
		APIKeys:      []string{testAPIKey},
		Clock:        clk,
		Seed:         42,
		DataSize:     "small",
		PullDuration: 10 * time.Second,
	}
	if mutate != nil {
		mutate(&opts)
	}
	emu, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	return &testEnv{t: t, emu: emu, clock: clk, server: srv, client: &http.Client{
		// The link journey's redirects are inspected, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// call makes an authenticated API request; body is marshalled to JSON unless
// it is a string (sent verbatim) or nil.
func (e *testEnv) call(method, path string, body any) response {
	e.t.Helper()
	return e.callWithAuth(method, path, body, AuthorizationHeader(testAPIKey))
}

func (e *testEnv) callWithAuth(method, path string, body any, auth string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.server.URL + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return e.do(req)
}

func (e *testEnv) do(req *http.Request) response {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("reading %s %s: %v", req.Method, req.URL, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// expect checks the status and validates the body against a schema of doc
// (no validation when schema is empty).
func (r response) expect(t testing.TB, status int, doc, schema string) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, truncate(r.body))
	}
	if schema != "" {
		assertSchema(t, doc, schema, r.body)
	}
	return r
}

func (r response) decode(t testing.TB, dst any) {
	t.Helper()
	if err := json.Unmarshal(r.body, dst); err != nil {
		t.Fatalf("decoding %s: %v", truncate(r.body), err)
	}
}

// createCompany creates a company and a connection to the mock bank.
func (e *testEnv) createCompanyWithConnection(name string) (companyJSON, connectionJSON) {
	e.t.Helper()
	var c companyJSON
	e.call("POST", "/companies", map[string]any{"name": name}).expect(e.t, 200, platformDoc, "Company").decode(e.t, &c)
	var conn connectionJSON
	e.call("POST", "/companies/"+c.ID+"/connections", map[string]any{"platformKey": "mock"}).
		expect(e.t, 200, platformDoc, "Connection").decode(e.t, &conn)
	return c, conn
}

// waitComplete advances the clock until every listed data type of the
// company is Complete, failing after a bounded number of steps.
func (e *testEnv) waitComplete(companyID string, dataTypes ...string) map[string]dataStatusJSON {
	e.t.Helper()
	for range 10 {
		var st map[string]dataStatusJSON
		e.call("GET", "/companies/"+companyID+"/dataStatus", nil).expect(e.t, 200, platformDoc, "DataStatuses").decode(e.t, &st)
		done := true
		for _, dt := range dataTypes {
			if st[dt].CurrentStatus != pullComplete {
				done = false
			}
		}
		if done {
			return st
		}
		e.clock.Advance(5 * time.Second)
	}
	e.t.Fatalf("data types %v of company %s did not complete", dataTypes, companyID)
	return nil
}
