package sandbox_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
)

// Every error code of providers-api.md §3.13 with its HTTP status.
var errorTable = []struct {
	code   string
	status int
}{
	{"validation_error", 400}, {"invalid_date_range", 400}, {"deprecated_provider", 400}, {"invalid_grant", 400},
	{"invalid_client", 400}, {"invalid_authorization_code", 400}, {"unauthorized", 401}, {"invalid_token", 401},
	{"unauthorized_client", 401}, {"wrong_credentials", 401}, {"access_denied", 403}, {"invalid_credentials_key", 403},
	{"sca_exceeded", 403}, {"account_temporarily_locked", 403}, {"account_permanently_locked", 403}, {"mfa_required", 403},
	{"user_input_required", 403}, {"account_not_found", 404}, {"request_conflict", 409}, {"wrong_bank", 410},
	{"provider_too_many_requests", 429}, {"provider_request_limit_exceeded", 429}, {"internal_server_error", 500},
	{"internal_error", 500}, {"endpoint_not_supported", 501}, {"provider_error", 503}, {"temporarily_unavailable", 503},
	{"connector_overload", 503}, {"provider_timeout", 504}, {"connector_timeout", 504},
}

func TestErrorTableComplete(t *testing.T) {
	mustf(t, len(errorTable) == len(sandbox.ErrorCatalogue), "table has %d codes, catalogue %d", len(errorTable), len(sandbox.ErrorCatalogue))
	for _, tc := range errorTable {
		e, ok := sandbox.ErrorCatalogue[tc.code]
		mustf(t, ok && e.Status == tc.status, "%s: catalogue %+v", tc.code, e)
	}
}

// Each code injected as a fault on a Data API call answers its status and a
// {"error": code} body; each error.<code> mock user makes the data calls fail
// with it (after a successful login).
func TestErrorCodesByFaultAndMockUser(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	for _, tc := range errorTable {
		t.Run(tc.code, func(t *testing.T) {
			_, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: tc.code, Endpoint: "GET /data/v1/info", Count: 1})
			mustf(t, err == nil, "inject: %v", err)
			r := e.get("/data/v1/info", tk.Access, "X-PSU-IP", "1.1.1.1")
			mustf(t, r.status == tc.status && r.json(t)["error"] == tc.code, "fault: %d %s", r.status, r.body)
			mustf(t, e.get("/data/v1/info", tk.Access, "X-PSU-IP", "1.1.1.1").status == 200, "fault outlived its count")

			user := e.consent("error."+tc.code, "error")
			r = e.get("/data/v1/accounts", user.Access, "X-PSU-IP", "1.1.1.1")
			mustf(t, r.status == tc.status && r.json(t)["error"] == tc.code, "mock user: %d %s", r.status, r.body)
		})
	}
	_, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "no_such_code"})
	mustf(t, err != nil, "unknown fault code accepted")
}

func TestFaultKinds(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	id := e.connID(tk)
	other := e.consent("john2", "doe")

	t.Run("html504", func(t *testing.T) {
		_, _ = e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultHTML504, Endpoint: "/data/v1/", Count: 1})
		r := e.get("/data/v1/me", tk.Access)
		mustf(t, r.status == 504 && strings.HasPrefix(r.header.Get("Content-Type"), "text/html") && strings.Contains(string(r.body), "Gateway"), "%d %s", r.status, r.body)
	})
	t.Run("drop", func(t *testing.T) {
		_, _ = e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultDrop, Endpoint: "POST /connect/token", Count: 1})
		req, _ := http.NewRequest(http.MethodPost, e.base+"/connect/token", strings.NewReader("grant_type=refresh_token"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		mustf(t, err != nil, "dropped connection answered")
		mustf(t, !errors.Is(err, http.ErrHandlerTimeout), "unexpected error kind %v", err)
	})
	t.Run("latency", func(t *testing.T) {
		_, _ = e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultLatency, Latency: 150 * time.Millisecond, Endpoint: "GET /data/v1/me", Count: 1})
		start := time.Now()
		r := e.get("/data/v1/me", tk.Access)
		mustf(t, r.status == 200 && time.Since(start) >= 150*time.Millisecond, "latency fault: %d after %v", r.status, time.Since(start))
	})
	t.Run("per connection", func(t *testing.T) {
		fid, _ := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_error", Connection: id})
		mustf(t, e.get("/data/v1/me", other.Access).status == 200, "fault hit another connection")
		mustf(t, e.get("/data/v1/me", tk.Access).status == 503, "fault missed its connection")
		mustf(t, e.get("/data/v1/me", tk.Access).status == 503, "unlimited fault stopped")
		mustf(t, e.srv.RemoveFault(fid), "remove")
		mustf(t, e.get("/data/v1/me", tk.Access).status == 200, "removed fault still active")
	})
	t.Run("per connection on refresh", func(t *testing.T) {
		_, _ = e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "temporarily_unavailable", Endpoint: "POST /connect/token", Connection: id, Count: 1})
		mustf(t, e.refresh(other.Refresh).status == 200, "refresh of another connection faulted")
		mustf(t, e.refresh(tk.Refresh).status == 503, "refresh fault missed")
	})
	t.Run("fraction", func(t *testing.T) {
		_, _ = e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_error", Endpoint: "GET /data/v1/me", Fraction: 0.5})
		failed := 0
		for i := 0; i < 200; i++ {
			if e.get("/data/v1/me", other.Access).status == 503 {
				failed++
			}
		}
		e.srv.ClearFaults()
		mustf(t, failed > 50 && failed < 150, "fraction 0.5 failed %d of 200", failed)
	})
}

func TestMountedHandlerSharesMiddleware(t *testing.T) {
	codat := http.NewServeMux()
	codat.HandleFunc("GET /integrations", func(w http.ResponseWriter, r *http.Request) {
		sandbox.Annotate(r, "codat-key", "")
		w.Write([]byte(`{"results":[]}`))
	})
	codat.HandleFunc("GET /companies/{id}/dataStatus", func(w http.ResponseWriter, r *http.Request) {
		sandbox.Annotate(r, "codat-key", r.PathValue("id"))
		w.Write([]byte(`{}`))
	})
	e := newEnv(t, func(o *sandbox.Options) {
		o.Extra = map[string]http.Handler{"/integrations": codat, "/companies/": codat}
	})
	mustf(t, e.get("/integrations", "").status == 200, "mounted handler not served")
	mustf(t, e.get("/companies/c1/dataStatus", "").status == 200, "mounted prefix not served")
	mustf(t, e.srv.CallTotal(sandbox.CallFilter{Client: "codat-key", Endpoint: "GET /integrations"}) == 1, "mounted call not counted: %+v", e.srv.Calls(sandbox.CallFilter{}))
	mustf(t, e.srv.CallTotal(sandbox.CallFilter{Connection: "c1", Endpoint: "GET /companies/{id}/dataStatus"}) == 1, "inner pattern not used: %+v", e.srv.Calls(sandbox.CallFilter{}))
	_, _ = e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_error", Endpoint: "/integrations", Count: 1})
	r := e.get("/integrations", "")
	mustf(t, r.status == 503 && r.json(t)["statusCode"] == float64(503), "fault on mounted handler: %d %s", r.status, r.body)
}
