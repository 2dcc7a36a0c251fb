package sandboxadmin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
	"github.com/consent-operator/consent-operator/internal/sandbox/sandboxadmin"
)

const redirect = "http://localhost/cb"

func TestAdminAPIOverHTTP(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	srv, err := sandbox.New(sandbox.Options{
		Clients: []sandbox.Client{{ID: "c1", Secret: "s1", RedirectURIs: []string{redirect}}},
		Clock:   clock.NewManual(t0), DatasetSize: "small",
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	defer srv.Close()
	admin := sandboxadmin.New(hs.URL, nil)

	if now, err := admin.Now(ctx); err != nil || !now.Equal(t0) {
		t.Fatalf("Now = %v, %v", now, err)
	}
	if now, err := admin.Advance(ctx, 48*time.Hour); err != nil || !now.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("Advance = %v, %v", now, err)
	}
	if now, err := admin.SetTime(ctx, t0); err != nil || !now.Equal(t0) {
		t.Fatalf("SetTime = %v, %v", now, err)
	}

	code, err := admin.Authorize(ctx, sandbox.AuthorizeRequest{ClientID: "c1", RedirectURI: redirect, Scopes: []string{"info", "accounts", "transactions", "offline_access"}})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {"c1"}, "client_secret": {"s1"}, "code": {code}, "redirect_uri": {redirect}}
	resp, err := http.PostForm(hs.URL+"/connect/token", form)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("exchange: %v %v", resp, err)
	}
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tk)
	resp.Body.Close()

	conns, err := admin.Connections(ctx)
	if err != nil || len(conns) != 1 || conns[0].User != "john" || conns[0].Status != sandbox.ConsentAuthorised {
		t.Fatalf("Connections = %+v, %v", conns, err)
	}
	id := conns[0].ID

	// Data calls are counted per client, connection, endpoint and attendance.
	ds, err := admin.Dataset(ctx, "john")
	if err != nil || len(ds.Accounts) != 3 {
		t.Fatalf("Dataset = %+v, %v", ds, err)
	}
	acct := ds.Accounts[0].ID
	get := func(path string, attended bool) int {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
		if attended {
			req.Header.Set("X-PSU-IP", "198.51.100.7")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		// Read the whole answer: the sandbox records a call when it is complete.
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	from := t0.AddDate(0, 0, -20)
	txPath := "/data/v1/accounts/" + acct + "/transactions?from=" + from.Format("2006-01-02")
	if st := get(txPath, false); st != 200 {
		t.Fatalf("unattended transactions: %d", st)
	}
	if st := get(txPath, true); st != 200 {
		t.Fatalf("attended transactions: %d", st)
	}
	no := false
	calls, err := admin.Calls(ctx, sandbox.CallFilter{Connection: id, Endpoint: "GET /data/v1/accounts/{account_id}/transactions", Attended: &no})
	if err != nil || calls.Total != 1 || calls.Calls[0].Client != "c1" {
		t.Fatalf("Calls = %+v, %v", calls, err)
	}
	all, _ := admin.Calls(ctx, sandbox.CallFilter{Connection: id})
	if all.Total != 3 { // the code exchange and the two reads
		t.Fatalf("all calls = %+v", all)
	}

	// The dataset's transactions for the window are what the API served.
	txs, err := admin.Transactions(ctx, "john", acct, from, t0)
	if err != nil || len(txs) == 0 {
		t.Fatalf("Transactions = %d, %v", len(txs), err)
	}
	if want := srv.Dataset("john").Transactions(acct, from, t0); len(want) != len(txs) || want[0].NormalisedID != txs[0].NormalisedID {
		t.Fatalf("admin transactions differ from dataset: %d vs %d", len(txs), len(want))
	}

	// Faults.
	fid, err := admin.InjectFault(ctx, sandbox.FaultSpec{Kind: sandbox.FaultLatency, Latency: "10ms", Endpoint: "/data/v1/", Count: 2})
	if err != nil || fid == "" {
		t.Fatalf("InjectFault: %v", err)
	}
	if fs, _ := admin.Faults(ctx); len(fs) != 1 || fs[0].Latency != "10ms" || fs[0].Remaining != 2 {
		t.Fatalf("Faults = %+v", fs)
	}
	if err := admin.RemoveFault(ctx, fid); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.InjectFault(ctx, sandbox.FaultSpec{Kind: "bogus"}); err == nil {
		t.Fatal("bogus fault accepted")
	}
	_, _ = admin.InjectFault(ctx, sandbox.FaultSpec{Kind: sandbox.FaultError, Error: "provider_error", Endpoint: "GET /data/v1/me"})
	if get("/data/v1/me", true) != 503 {
		t.Fatal("fault not applied")
	}
	if err := admin.ClearFaults(ctx); err != nil || get("/data/v1/me", true) != 200 {
		t.Fatalf("ClearFaults: %v", err)
	}
	errs, err := admin.Errors(ctx, sandbox.CallFilter{Error: "provider_error"})
	if err != nil || errs.Total != 1 {
		t.Fatalf("Errors = %+v, %v", errs, err)
	}

	// Consent operations.
	if err := admin.SetExtendOutcome(ctx, id, sandbox.ExtendNoActionNeeded); err != nil {
		t.Fatal(err)
	}
	if err := admin.SetExtendOutcome(ctx, id, "maybe"); err == nil {
		t.Fatal("bad outcome accepted")
	}
	if err := admin.Expire(ctx, id); err != nil {
		t.Fatal(err)
	}
	if c, _ := admin.Connection(ctx, id); c.Status != sandbox.ConsentExpired || c.ExtendOutcome != sandbox.ExtendNoActionNeeded {
		t.Fatalf("after expire: %+v", c)
	}
	if get("/data/v1/me", true) != 403 {
		t.Fatal("data after expiry")
	}
	if err := admin.Revoke(ctx, id); err != nil {
		t.Fatal(err)
	}
	var apiErr *sandboxadmin.Error
	if err := admin.Revoke(ctx, "nope"); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Fatalf("revoke unknown: %v", err)
	}
	if err := admin.ResetCalls(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := admin.Calls(ctx, sandbox.CallFilter{}); c.Total != 0 {
		t.Fatalf("calls after reset: %+v", c)
	}

	// A v3 connection authorised through the admin API.
	cc, _ := http.PostForm(hs.URL+"/connect/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"c1"}, "client_secret": {"s1"}, "scope": {"data"}})
	var ctk struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(cc.Body).Decode(&ctk)
	cc.Body.Close()
	req, _ := http.NewRequest(http.MethodPost, hs.URL+"/v3/data-connections", strings.NewReader(`{"scopes":["info","accounts","transactions"],
		"provider_selection":{"type":"preselected","provider_id":"mock"},"user":{"name":"John Doe","email":"j@d.com"},
		"user_consent":{"type":"authorization_flow_captured"}}`))
	req.Header.Set("Authorization", "Bearer "+ctk.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	cr, err := http.DefaultClient.Do(req)
	if err != nil || cr.StatusCode != 201 {
		t.Fatalf("v3 create: %v %v", cr, err)
	}
	var created struct{ ID string }
	_ = json.NewDecoder(cr.Body).Decode(&created)
	cr.Body.Close()
	if err := admin.AuthorizeV3(ctx, created.ID, "john", "doe"); err != nil {
		t.Fatalf("AuthorizeV3: %v", err)
	}
	if c, err := admin.Connection(ctx, created.ID); err != nil || c.API != "v3" || c.Status != sandbox.ConsentAuthorised {
		t.Fatalf("v3 connection: %+v %v", c, err)
	}
}
