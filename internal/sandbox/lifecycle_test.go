package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/webhooksig"
	"github.com/consent-operator/consent-operator/internal/webhooksig/nodecheck"
)

const day = 24 * time.Hour

// Day 89: refresh and data work; day 91: refresh invalid_grant, data 403.
func TestConsentLifecycleDay89And91(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	id := e.connID(tk)
	me := e.get("/data/v1/me", tk.Access).json(t)["results"].([]any)[0].(map[string]any)
	mustf(t, me["consent_expires_at"] == t0.Add(90*day).Format(time.RFC3339), "consent_expires_at %v", me["consent_expires_at"])

	e.clock.Set(t0.Add(89 * day))
	// The old access token expired long ago.
	r := e.get("/data/v1/accounts", tk.Access)
	mustf(t, r.status == 401 && r.json(t)["error"] == "invalid_token", "stale token day 89: %d %s", r.status, r.body)
	tk = e.refresh(tk.Refresh).tokens(t)
	r = e.get("/data/v1/accounts", tk.Access)
	mustf(t, r.status == 200, "data day 89: %d %s", r.status, r.body)

	e.clock.Set(t0.Add(91 * day))
	r = e.refresh(tk.Refresh)
	mustf(t, r.status == 400 && string(r.body) == `{"error":"invalid_grant"}`, "refresh day 91: %d %s", r.status, r.body)
	// A token issued just before expiry is still unexpired but the consent is over.
	e.clock.Set(t0.Add(90*day - 30*time.Minute))
	tk = e.refresh(tk.Refresh).tokens(t)
	e.clock.Set(t0.Add(90*day + time.Minute))
	r = e.get("/data/v1/accounts", tk.Access)
	mustf(t, r.status == 403 && r.json(t)["error"] == "access_denied", "data after expiry: %d %s", r.status, r.body)
	info, _ := e.srv.Connection(id)
	mustf(t, info.Status == sandbox.ConsentExpired, "status %s", info.Status)
}

func TestConsentDurationConfigurable(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.ConsentDuration = 7 * day })
	tk := e.consent("john", "doe")
	e.clock.Advance(7*day + time.Second)
	mustf(t, e.refresh(tk.Refresh).status == 400, "refresh after a 7-day consent should fail")
}

func TestRefreshTokenModes(t *testing.T) {
	for _, tc := range []struct {
		mode               sandbox.RefreshMode
		rotates, oldWorks  bool
		oldWorksAfterGrace bool
	}{
		{sandbox.RefreshRotateInvalidate, true, false, false},
		{sandbox.RefreshRotateGrace, true, true, false},
		{sandbox.RefreshKeep, false, true, true},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			e := newEnv(t, func(o *sandbox.Options) { o.RefreshMode = tc.mode; o.RefreshGrace = time.Minute })
			first := e.consent("john", "doe")
			second := e.refresh(first.Refresh).tokens(t)
			mustf(t, (second.Refresh != first.Refresh) == tc.rotates, "rotation: old %s new %s", first.Refresh[:8], second.Refresh[:8])
			r := e.refresh(first.Refresh)
			mustf(t, (r.status == 200) == tc.oldWorks, "old token right after rotation: %d %s", r.status, r.body)
			if tc.oldWorks && tc.rotates {
				mustf(t, r.tokens(t).Refresh == second.Refresh, "grace use must return the current refresh token")
			}
			e.clock.Advance(2 * time.Minute)
			r = e.refresh(first.Refresh)
			mustf(t, (r.status == 200) == tc.oldWorksAfterGrace, "old token after grace: %d %s", r.status, r.body)
			if !tc.oldWorksAfterGrace {
				mustf(t, string(r.body) == `{"error":"invalid_grant"}`, "old token body %s", r.body)
			}
			// The current one always works.
			e.refresh(second.Refresh).tokens(t)
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		error  string
	}{
		{"bad secret", url.Values{"grant_type": {"refresh_token"}, "client_id": {testClient}, "client_secret": {"nope"}, "refresh_token": {tk.Refresh}}, 401, "unauthorized_client"},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {testClient}, "client_secret": {testSecret}, "refresh_token": {"garbage"}}, 401, "invalid_request"},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "client_id": {testClient}, "client_secret": {testSecret}, "code": {"x"}, "redirect_uri": {testRedirect}}, 400, "invalid_grant"},
		{"unsupported grant", url.Values{"grant_type": {"password"}, "client_id": {testClient}, "client_secret": {testSecret}}, 400, "invalid_request"},
		{"client credentials without scope", url.Values{"grant_type": {"client_credentials"}, "client_id": {testClient}, "client_secret": {testSecret}}, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postForm("/connect/token", tc.form)
			mustf(t, r.status == tc.status && r.json(t)["error"] == tc.error, "%d %s", r.status, r.body)
		})
	}
	t.Run("code for another redirect uri", func(t *testing.T) {
		code, _ := e.srv.Authorize(sandbox.AuthorizeRequest{ClientID: testClient, RedirectURI: "http://localhost:8080/other", Scopes: fullScopes})
		r := e.exchange(code)
		mustf(t, r.status == 400, "%d %s", r.status, r.body)
	})
	t.Run("no refresh token without offline_access", func(t *testing.T) {
		tk := e.consent("john", "doe", "info", "accounts")
		mustf(t, tk.Refresh == "", "refresh token issued without offline_access")
	})
}

func TestAccessTokenIsRS256JWTWithJWKS(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	parts := strings.Split(tk.Access, ".")
	mustf(t, len(parts) == 3, "not a compact JWS")
	var hdr, claims map[string]any
	for i, dst := range []*map[string]any{&hdr, &claims} {
		b, err := base64URLDecode(parts[i])
		mustf(t, err == nil && json.Unmarshal(b, dst) == nil, "decode part %d: %v", i, err)
	}
	mustf(t, hdr["alg"] == "RS256" && hdr["typ"] == "at+jwt" && hdr["kid"] != "", "header %v", hdr)
	for _, c := range []string{"nbf", "exp", "iss", "aud", "client_id", "sub", "auth_time", "idp", "jti", "sid", "iat", "connector_id", "credentials_key", "privacy_policy", "consent_id", "scope", "amr"} {
		mustf(t, claims[c] != nil, "claim %s missing: %v", c, claims)
	}
	mustf(t, claims["exp"].(float64)-claims["nbf"].(float64) == 3600 && claims["aud"] == "data_api" && claims["connector_id"] == "mock", "claims %v", claims)
	jwks := e.get("/.well-known/jwks.json", "").json(t)
	key := jwks["keys"].([]any)[0].(map[string]any)
	mustf(t, key["kid"] == hdr["kid"] && key["kty"] == "RSA", "jwks %v", jwks)
	mustf(t, verifyWithJWKS(t, tk.Access, e.get("/.well-known/jwks.json", "").body), "signature does not verify with the published JWKS")
}

func TestRevocation(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	r := e.do(http.MethodDelete, "/api/delete", map[string]string{"Authorization": "Bearer " + tk.Access}, nil)
	mustf(t, r.status == 200 && len(r.body) == 0, "delete: %d %s", r.status, r.body)
	r = e.get("/data/v1/accounts", tk.Access)
	mustf(t, r.status == 403 && r.json(t)["error"] == "access_denied", "data after revoke: %d %s", r.status, r.body)
	mustf(t, e.refresh(tk.Refresh).status == 400, "refresh after revoke must be invalid_grant")

	tk2 := e.consent("john", "doe")
	mustf(t, e.srv.RevokeConnection(e.connID(tk2)) == nil, "admin revoke failed")
	mustf(t, e.get("/data/v1/me", tk2.Access).status == 403, "admin revoke not effective")
}

func TestUnattendedCallLimit(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	accts, _ := e.accountIDs(tk) // attended: not counted
	id := e.connID(tk)
	path := "/data/v1/accounts/" + accts[0] + "/balance"
	for i := 1; i <= 4; i++ {
		r := e.get(path, tk.Access)
		mustf(t, r.status == 200, "unattended call %d: %d %s", i, r.status, r.body)
	}
	r := e.get(path, tk.Access)
	mustf(t, r.status == 429 && r.json(t)["error"] == "provider_request_limit_exceeded", "5th unattended call: %d %s", r.status, r.body)
	// Another account and another endpoint have their own budget.
	mustf(t, e.get("/data/v1/accounts/"+accts[1]+"/balance", tk.Access).status == 200, "other account limited")
	mustf(t, e.get("/data/v1/accounts/"+accts[0], tk.Access).status == 200, "other endpoint limited")
	// The user being present lifts the limit.
	mustf(t, e.get(path, tk.Access, "X-PSU-IP", "203.0.113.9").status == 200, "attended call limited")
	// 24 hours after the first call, the window has room again.
	e.clock.Advance(24*time.Hour + time.Second)
	tk = e.refresh(tk.Refresh).tokens(t)
	mustf(t, e.get(path, tk.Access).status == 200, "limit not lifted after 24h")

	no, yes := false, true
	ep := "GET /data/v1/accounts/{account_id}/balance"
	// 4 admitted + 1 refused on the first account, 1 on the second, 1 a day later.
	mustf(t, e.srv.CallTotal(sandbox.CallFilter{Connection: id, Endpoint: ep, Attended: &no}) == 7, "unattended count %d", e.srv.CallTotal(sandbox.CallFilter{Connection: id, Endpoint: ep, Attended: &no}))
	mustf(t, e.srv.CallTotal(sandbox.CallFilter{Connection: id, Endpoint: ep, Attended: &yes}) == 1, "attended count")
	mustf(t, e.srv.ErrorTotal(sandbox.CallFilter{Connection: id, Error: "provider_request_limit_exceeded"}) == 1, "429 not recorded")
}

func TestDateRangeAndSCA(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	accts, _ := e.accountIDs(tk)
	tx := "/data/v1/accounts/" + accts[0] + "/transactions"
	today := t0.Format("2006-01-02")
	for _, tc := range []struct {
		query string
		code  string
	}{
		{"?from=2026-03-01&to=2026-02-01", "invalid_date_range"},
		{"?from=2026-02-01&to=" + t0.Add(day).Format("2006-01-02"), "invalid_date_range"},
		{"?from=not-a-date", "invalid_date_range"},
		{"?from=2019-01-01&to=" + today, "invalid_date_range"},
	} {
		r := e.get(tx+tc.query, tk.Access, "X-PSU-IP", "1.2.3.4")
		mustf(t, r.status == 400 && r.json(t)["error"] == tc.code, "%s: %d %s", tc.query, r.status, r.body)
	}
	deep := tx + "?from=" + t0.AddDate(0, -6, 0).Format("2006-01-02") + "&to=" + today
	mustf(t, e.get(deep, tk.Access, "X-PSU-IP", "1.2.3.4").status == 200, "deep history inside SCA window refused")
	e.clock.Advance(6 * time.Minute)
	r := e.get(deep, tk.Access, "X-PSU-IP", "1.2.3.4")
	mustf(t, r.status == 403 && r.json(t)["error"] == "sca_exceeded", "deep history after SCA window: %d %s", r.status, r.body)
	recent := tx + "?from=" + t0.AddDate(0, 0, -80).Format("2006-01-02") + "&to=" + today
	mustf(t, e.get(recent, tk.Access, "X-PSU-IP", "1.2.3.4").status == 200, "80-day window refused")
}

// The served transactions equal the dataset's for the window.
func TestTransactionsMatchDataset(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	accts, _ := e.accountIDs(tk)
	from, to := t0.AddDate(0, 0, -30), t0
	r := e.get("/data/v1/accounts/"+accts[0]+"/transactions?from="+from.Format("2006-01-02")+"&to="+to.Format("2006-01-02"), tk.Access)
	var env struct {
		Results []struct {
			ID      string  `json:"normalised_provider_transaction_id"`
			Amount  float64 `json:"amount"`
			Running struct {
				Amount float64 `json:"amount"`
			} `json:"running_balance"`
		} `json:"results"`
	}
	mustf(t, json.Unmarshal(r.body, &env) == nil, "decode")
	want := e.srv.Dataset("john").Transactions(accts[0], from, t0)
	mustf(t, len(env.Results) == len(want) && len(want) > 10, "served %d, dataset %d", len(env.Results), len(want))
	for i, got := range env.Results {
		mustf(t, got.ID == want[i].NormalisedID && got.Amount == float64(want[i].Amount)/100 && got.Running.Amount == float64(want[i].RunningBalance)/100,
			"row %d differs: %+v vs %+v", i, got, want[i])
	}
	// The clock moving on makes new transactions appear.
	e.clock.Advance(3 * day)
	tk = e.refresh(tk.Refresh).tokens(t)
	r = e.get("/data/v1/accounts/"+accts[0]+"/transactions?from="+t0.Format("2006-01-02"), tk.Access)
	mustf(t, r.status == 200 && len(r.json(t)["results"].([]any)) > 0, "no new transactions after 3 days: %s", r.body)
}

func TestAsyncAndWebhook(t *testing.T) {
	type delivery struct {
		req  *http.Request
		body []byte
	}
	got := make(chan delivery, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r, b}
	}))
	defer hook.Close()
	e := newEnv(t)
	tk := e.consent("john", "doe")
	accts, _ := e.accountIDs(tk)
	r := e.get("/data/v1/accounts/"+accts[0]+"/transactions?async=true&webhook_uri="+url.QueryEscape(hook.URL+"/hooks/run-1"), tk.Access)
	mustf(t, r.status == 202, "async: %d %s", r.status, r.body)
	acc := r.json(t)
	mustf(t, acc["status"] == "Queued" && acc["task_id"] != "", "202 body %v", acc)
	var d delivery
	select {
	case d = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("webhook not delivered")
	}
	var wh map[string]any
	mustf(t, json.Unmarshal(d.body, &wh) == nil, "webhook body %s", d.body)
	// Signed as TrueLayer signs: the key is at the jku the sandbox serves, and
	// TrueLayer's own library accepts it.
	req := webhooksig.Request{Method: d.req.Method, Path: d.req.URL.EscapedPath(), Header: d.req.Header, Body: d.body}
	v := &webhooksig.Verifier{Allowed: map[string]string{e.base + sandbox.WebhookJWKSPath: "Sandbox"}}
	_, err := v.Verify(context.Background(), req)
	mustf(t, err == nil && req.Path == "/hooks/run-1", "webhook signature: %v", err)
	jwks := e.get(sandbox.WebhookJWKSPath, "")
	mustf(t, jwks.status == 200 && string(jwks.body) == string(e.srv.WebhookJWKS()), "webhook JWKS: %d", jwks.status)
	jku, err := nodecheck.Verify(t, jwks.body, nodecheck.Request{Method: req.Method, Path: req.Path, Header: req.Header, Body: req.Body})
	mustf(t, err == nil && jku == e.base+sandbox.WebhookJWKSPath, "truelayer-signing: jku %q, %v", jku, err)
	mustf(t, wh["task_id"] == acc["task_id"] && wh["status"] == "Succeeded" && wh["results_uri"] == acc["results_uri"], "webhook %v", wh)
	res := e.get(strings.TrimPrefix(acc["results_uri"].(string), e.base), tk.Access)
	mustf(t, res.status == 200 && res.json(t)["status"] == "Succeeded" && len(res.json(t)["results"].([]any)) > 0, "results: %d %s", res.status, res.body)
	// Another connection cannot read the task.
	other := e.consent("john2", "doe")
	mustf(t, e.get(strings.TrimPrefix(acc["results_uri"].(string), e.base), other.Access).status == 404, "foreign task readable")
}

func TestExtendOutcomes(t *testing.T) {
	e := newEnv(t)
	body := func(rt string) map[string]any {
		return map[string]any{"user_has_reconfirmed_consent": true, "client_id": testClient, "client_secret": testSecret,
			"user": map[string]string{"name": "John Doe", "email": "john@doe.com"}, "refresh_token": rt, "redirect_uri": testRedirect, "state": "s1"}
	}
	t.Run("no_action_needed renews the consent", func(t *testing.T) {
		tk := e.consent("john", "eternal")
		e.clock.Advance(85 * day)
		r := e.postJSON("/connections/extend", "", body(tk.Refresh))
		m := r.json(t)
		mustf(t, r.status == 200 && m["action_needed"] == "no_action_needed" && m["access_token"] != "", "extend: %d %s", r.status, r.body)
		me := e.get("/data/v1/me", m["access_token"].(string)).json(t)["results"].([]any)[0].(map[string]any)
		mustf(t, me["consent_expires_at"] == e.clock.Now().Add(90*day).Format(time.RFC3339), "consent not renewed: %v", me["consent_expires_at"])
		e.clock.Set(t0)
	})
	t.Run("authentication_needed via the dialog", func(t *testing.T) {
		tk := e.consent("john", "doe")
		id := e.connID(tk)
		r := e.postJSON("/connections/extend", "", body(tk.Refresh))
		m := r.json(t)
		mustf(t, r.status == 200 && m["action_needed"] == "authentication_needed", "extend: %d %s", r.status, r.body)
		b := newBrowser(t)
		p := b.open(m["user_input_link"].(string))
		p = b.submit(p, url.Values{"action": {"allow"}})
		p = b.submit(p, url.Values{"action": {"login"}, "username": {"john"}, "password": {"doe"}})
		code, state := codeFrom(t, p)
		mustf(t, state == "s1", "state %q", state)
		tk2 := e.exchange(code).tokens(t)
		mustf(t, e.connID(tk2) == id, "re-authentication created a new connection")
		mustf(t, e.refresh(tk.Refresh).status == 400, "old refresh token still valid after re-authentication")
		// The link is single-use.
		mustf(t, b.open(m["user_input_link"].(string)).status == 400, "user_input_link reusable")
	})
	t.Run("reconfirmation_of_consent_needed", func(t *testing.T) {
		tk := e.consent("john", "reconfirm")
		r := e.postJSON("/connections/extend", "", body(tk.Refresh))
		m := r.json(t)
		mustf(t, m["action_needed"] == "reconfirmation_of_consent_needed", "extend: %s", r.body)
		b := newBrowser(t)
		p := b.submit(b.open(m["user_input_link"].(string)), url.Values{"action": {"allow"}})
		code, _ := codeFrom(t, p) // no bank login needed
		e.exchange(code).tokens(t)
	})
	t.Run("errors", func(t *testing.T) {
		tk := e.consent("john", "doe")
		bad := body(tk.Refresh)
		delete(bad, "client_id")
		r := e.postJSON("/connections/extend", "", bad)
		mustf(t, r.status == 400 && strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") && r.json(t)["trace_id"] != "", "400: %d %s", r.status, r.body)
		r = e.postJSON("/connections/extend", "", body("garbage"))
		mustf(t, r.status == 401 && r.json(t)["detail"] == "Refresh token missing or invalid.", "401: %d %s", r.status, r.body)
		mustf(t, e.srv.RevokeConnection(e.connID(tk)) == nil, "revoke")
		r = e.postJSON("/connections/extend", "", body(tk.Refresh))
		mustf(t, r.status == 422 && r.json(t)["title"] == "No way to extend this connection", "422: %d %s", r.status, r.body)
	})
}

func TestReauthURI(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe")
	e.clock.Advance(95 * day) // consent expired; reauth stays possible
	tk2 := reconsent(t, e, tk)
	mustf(t, e.get("/data/v1/accounts", tk2.Access).status == 200, "data after re-authentication")
}

func TestScopesAndCapabilities(t *testing.T) {
	e := newEnv(t)
	tk := e.consent("john", "doe", "info", "accounts", "offline_access")
	accts, _ := e.accountIDs(tk)
	r := e.get("/data/v1/accounts/"+accts[0]+"/balance", tk.Access)
	mustf(t, r.status == 403 && r.json(t)["error"] == "access_denied", "balance without scope: %d %s", r.status, r.body)
	mustf(t, e.get("/data/v1/cards", tk.Access).status == 403, "cards without scope")
	mustf(t, e.get("/data/v1/accounts/nope", tk.Access, "X-PSU-IP", "1.1.1.1").status == 404, "unknown account")

	code, err := e.srv.Authorize(sandbox.AuthorizeRequest{ClientID: testClient, RedirectURI: testRedirect, ProviderID: "ob-mock",
		Scopes: []string{"accounts", "standing_orders", "direct_debits", "offline_access"}})
	mustf(t, err == nil, "authorize ob-mock: %v", err)
	ob := e.exchange(code).tokens(t)
	r = e.get("/data/v1/cards", ob.Access)
	mustf(t, r.status == 403, "cards scope not granted: %d", r.status)
	accts, _ = func() ([]string, []string) {
		r := e.get("/data/v1/accounts", ob.Access, "X-PSU-IP", "1.1.1.1")
		var out []string
		for _, x := range r.json(t)["results"].([]any) {
			out = append(out, x.(map[string]any)["account_id"].(string))
		}
		return out, nil
	}()
	so := e.get("/data/v1/accounts/"+accts[0]+"/standing_orders", ob.Access).json(t)["results"].([]any)
	dd := e.get("/data/v1/accounts/"+accts[0]+"/direct_debits", ob.Access).json(t)["results"].([]any)
	mustf(t, len(so) == 2 && len(dd) == 4, "standing orders %d direct debits %d", len(so), len(dd))
}

func TestProvidersEndpoint(t *testing.T) {
	e := newEnv(t)
	var list []map[string]any
	mustf(t, json.Unmarshal(e.get("/api/providers", "").body, &list) == nil && len(list) == 3, "providers %d", len(list))
	mustf(t, json.Unmarshal(e.get("/api/providers?country=de", "").body, &list) == nil && len(list) == 1 && list[0]["provider_id"] == "xs2a-mock", "country filter %v", list)
	mustf(t, json.Unmarshal(e.get("/api/providers?scopes=cards", "").body, &list) == nil && len(list) == 1 && list[0]["provider_id"] == "mock", "scope filter %v", list)
	mustf(t, json.Unmarshal(e.get("/api/providers?clientId=unknown", "").body, &list) == nil && len(list) == 0, "unknown client %v", list)
}
