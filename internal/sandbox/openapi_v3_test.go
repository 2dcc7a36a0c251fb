package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/consent-operator/consent-operator/internal/sandbox"
)

func (e *env) clientToken(scope string) string {
	e.t.Helper()
	return e.postForm("/connect/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {testClient},
		"client_secret": {testSecret}, "scope": {scope}}).tokens(e.t).Access
}

func (e *env) v3(method, path, token, connID string, body any) response {
	e.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + token}
	if connID != "" {
		h["Connection-Id"] = connID
	}
	var rd *strings.Reader
	if body != nil {
		h["Content-Type"] = "application/json"
		rd = strings.NewReader(string(mustJSON(e.t, body)))
		return e.do(method, path, h, rd)
	}
	return e.do(method, path, h, nil)
}

func createBody(extra map[string]any) map[string]any {
	b := map[string]any{
		"scopes":             []string{"info", "accounts", "balance", "transactions"},
		"provider_selection": map[string]string{"type": "preselected", "provider_id": "mock"},
		"user":               map[string]string{"name": "John Doe", "email": "john@doe.com"},
		"user_consent":       map[string]string{"type": "authorization_flow_captured"},
		"hosted_page":        map[string]string{"type": "authorization_flow", "return_uri": testRedirect},
	}
	for k, v := range extra {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func TestOpenAPIDataV3(t *testing.T) {
	doc := loadOAS31(t, "data-api-v3.json")
	e := newEnv(t)
	tok := e.clientToken("data")

	r := e.v3("POST", "/v3/data-connections", tok, "", createBody(nil))
	mustf(t, r.status == 201, "create: %d %s", r.status, r.body)
	doc.check(t, "CreatedConnection", r.body)
	doc.check(t, "ConnectionCreatedAuthorizationRequired", r.body)
	id := r.json(t)["id"].(string)
	link := r.json(t)["hosted_page"].(map[string]any)["uri"].(string)

	r = e.v3("POST", "/v3/data-connections", tok, "", createBody(map[string]any{"hosted_page": nil,
		"authorization_flow": map[string]any{"redirect": map[string]string{"return_uri": testRedirect}}}))
	mustf(t, r.status == 201, "create authorizing: %d %s", r.status, r.body)
	doc.check(t, "ConnectionCreatedAuthorizing", r.body)

	// Not yet authorised: invalid_state.
	r = e.v3("GET", "/v3/connected-accounts", tok, id, nil)
	mustf(t, r.status == 400 && strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") && r.header.Get("Tl-Trace-Id") != "", "before auth: %d %s", r.status, r.body)
	doc.check(t, "ProblemDetailsInvalidState", r.body)

	// The user authorises on the hosted page (HTML, like a browser).
	b := newBrowser(t)
	p := b.open(link)
	p = b.submit(p, url.Values{"action": {"allow"}})
	p = b.submit(p, url.Values{"action": {"login"}, "username": {"john"}, "password": {"doe"}})
	mustf(t, p.status == http.StatusFound && strings.HasPrefix(p.location, testRedirect), "hosted page redirect %d %s", p.status, p.location)

	r = e.v3("GET", "/v3/data-connections/"+id+"/user-info", tok, "", nil)
	mustf(t, r.status == 200 && r.json(t)["name"] == "John Doe", "user-info: %d %s", r.status, r.body)
	doc.check(t, "GetUserInfo", r.body)

	r = e.v3("GET", "/v3/connected-accounts", tok, id, nil)
	mustf(t, r.status == 200, "accounts: %d %s", r.status, r.body)
	doc.check(t, "GetConnectedAccounts", r.body)
	items := r.json(t)["items"].([]any)
	acct := items[0].(map[string]any)["id"].(string)
	doc.check(t, "GetConnectedAccounts", e.v3("GET", "/v3/connected-accounts?type=card", tok, id, nil).body)

	// Cursor pages: every transaction exactly once, newest first.
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		body := map[string]any{"from": "2026-01-01", "to": "2026-03-02", "page_size": 40, "enrichment": map[string]bool{"transaction_category": true, "merchant_name": true}}
		if cursor != "" {
			body["cursor"] = cursor
		}
		r = e.v3("POST", "/v3/connected-accounts/"+acct+"/transactions/requests", tok, id, body)
		mustf(t, r.status == 202, "tx request: %d %s", r.status, r.body)
		doc.check(t, "TransactionsRequestPending", r.body)
		reqID := r.json(t)["id"].(string)
		r = e.v3("GET", "/v3/connected-accounts/"+acct+"/transactions/requests/"+reqID, tok, id, nil)
		mustf(t, r.status == 200, "get tx request: %d %s", r.status, r.body)
		doc.check(t, "GetTransactionsRequest", r.body)
		doc.check(t, "TransactionsRequestCompleted", r.body)
		res := r.json(t)["result"].(map[string]any)
		for _, it := range res["items"].([]any) {
			tid := it.(map[string]any)["id"].(string)
			mustf(t, !seen[tid], "transaction %s on two pages", tid)
			seen[tid] = true
		}
		pages++
		next, _ := res["pagination"].(map[string]any)["next_cursor"].(string)
		if next == "" || pages > 50 {
			break
		}
		cursor = next
	}
	mustf(t, pages > 1 && len(seen) > 40, "pages %d transactions %d", pages, len(seen))

	// Problems.
	for _, tc := range []struct {
		r         response
		component string
	}{
		{e.v3("GET", "/v3/connected-accounts", "bad", id, nil), "ProblemDetailsUnauthenticated"},
		{e.v3("GET", "/v3/connected-accounts", tok, "", nil), "ProblemDetailsInvalidParameters"},
		{e.v3("GET", "/v3/connected-accounts", tok, "unknown", nil), "ProblemDetailsNotFound"},
		{e.v3("GET", "/v3/connected-accounts", e.clientToken("signupplus"), id, nil), "ProblemDetailsForbidden"},
		{e.v3("POST", "/v3/data-connections", tok, "", createBody(map[string]any{"scopes": []string{}})), "ProblemDetailsInvalidParameters"},
	} {
		doc.check(t, tc.component, tc.r.body)
	}
	// Unattended limit on v3: the 5th first-page request is refused.
	var last response
	for i := 0; i < 5; i++ {
		last = e.v3("POST", "/v3/connected-accounts/"+acct+"/transactions/requests", tok, id, map[string]string{"from": "2026-02-01", "to": "2026-03-01"})
	}
	mustf(t, last.status == 429, "5th v3 request: %d", last.status)
	doc.check(t, "ProblemDetailsRateLimitExceeded", last.body)
	// Faults on v3 answer problems too.
	_, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_error", Endpoint: "/v3/", Count: 1})
	mustf(t, err == nil, "fault: %v", err)
	doc.check(t, "ProblemDetailsProviderError", e.v3("GET", "/v3/connected-accounts", tok, id, nil).body)
	_, _ = e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_timeout", Endpoint: "/v3/", Count: 1})
	doc.check(t, "ProblemDetailsGatewayTimeout", e.v3("GET", "/v3/connected-accounts", tok, id, nil).body)
	_, _ = e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "internal_server_error", Endpoint: "/v3/", Count: 1})
	doc.check(t, "ProblemDetailsUnknownError", e.v3("GET", "/v3/connected-accounts", tok, id, nil).body)

	// The sandbox serves only the document's paths: a data connection cannot be read
	// or deleted by id.
	for _, method := range []string{"GET", "DELETE"} {
		r = e.v3(method, "/v3/data-connections/"+id, tok, "", nil)
		mustf(t, r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed, "%s /v3/data-connections/{id}: %d", method, r.status)
	}
	// Revocation at the bank (the sandbox's control API) ends data access.
	mustf(t, e.srv.RevokeConnection(id) == nil, "revoke")
	r = e.v3("GET", "/v3/connected-accounts", tok, id, nil)
	mustf(t, r.status == 400, "after revocation: %d", r.status)
	doc.check(t, "ProblemDetailsInvalidState", r.body)
}

func TestOpenAPISignupPlus(t *testing.T) {
	doc := loadOAS31(t, "signup.json")
	// The spec's 200 schema is oneOf{User, MultipleAccountsLinked}, but both
	// accept any object, so the oneOf can never hold; each answer is validated
	// against the branch its shape selects.
	e := newEnv(t)
	tk := e.consent("john", "doe", "info", "accounts", "signupplus", "offline_access")
	r := e.get("/signup-plus/accounts", tk.Access)
	mustf(t, r.status == 200 && r.json(t)["first_name"] == "John", "signup user: %d %s", r.status, r.body)
	doc.check(t, "User", r.body)

	large := newEnv(t, func(o *sandbox.Options) { o.DatasetSize = "large" })
	tk = large.consent("john", "doe", "info", "accounts", "signupplus")
	r = large.get("/signup-plus/accounts", tk.Access)
	m := r.json(t)
	mustf(t, r.status == 200 && m["result"] == "multiple_accounts_linked", "multiple: %d %s", r.status, r.body)
	doc.check(t, "MultipleAccountsLinked", r.body)
	acct := m["accounts"].([]any)[1].(map[string]any)["account_id"].(string)
	r = large.get("/signup-plus/accounts?account_id="+acct, tk.Access)
	mustf(t, r.status == 200 && r.json(t)["account_details"] != nil, "with account_id: %d %s", r.status, r.body)
	doc.check(t, "User", r.body)

	for _, bad := range []response{
		e.get("/signup-plus/accounts", "nope"),
		e.get("/signup-plus/accounts?account_id=unknown", tk.Access),
		large.get("/signup-plus/accounts?account_id=unknown", tk.Access),
	} {
		// The document gives application/json for every Signup+ answer.
		mustf(t, bad.status >= 400 && strings.HasPrefix(bad.header.Get("Content-Type"), "application/json"), "signup error %d %s: %s", bad.status, bad.header.Get("Content-Type"), bad.body)
		mustf(t, bad.json(t)["trace_id"] != nil, "signup error without trace_id: %s", bad.body)
		doc.check(t, "Problem", bad.body)
	}
}
