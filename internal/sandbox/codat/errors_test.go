package codat

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestErrorCases(t *testing.T) {
	env := newTestEnv(t, nil)
	company, conn := env.createCompanyWithConnection("Errors Ltd")
	if err := env.emu.CompleteLink(company.ID, conn.ID); err != nil {
		t.Fatal(err)
	}
	pendingCo, pending := env.createCompanyWithConnection("Pending Ltd")
	empty := companyJSON{}
	env.call("POST", "/companies", map[string]any{"name": "No connections"}).decode(t, &empty)

	cPath := "/companies/" + company.ID
	connPath := cPath + "/connections/" + conn.ID
	// A pull still running, for the in-progress cases.
	env.call("POST", cPath+"/data/queue/banking-transactions", nil).expect(t, 200, platformDoc, "PullOperation")
	const unknownID = "846ed55c-974b-4392-a1f1-87b6fdbf3c5e"

	cases := []struct {
		name    string
		method  string
		path    string
		body    any
		auth    string // "" means the valid key; "-" means no header
		status  int
		service string
		message string // substring of the error field
	}{
		{"no auth header", "GET", "/companies", nil, "-", 401, "PublicApi", "Unauthorized"},
		{"wrong key", "GET", "/companies", nil, AuthorizationHeader("other-key"), 401, "PublicApi", "Unauthorized"},
		{"raw key without base64", "GET", "/companies", nil, "Basic " + testAPIKey, 401, "PublicApi", "Unauthorized"},
		{"user:password form", "GET", "/companies", nil, "Basic " + base64.StdEncoding.EncodeToString([]byte(testAPIKey+":")), 401, "PublicApi", "Unauthorized"},
		{"bearer scheme", "GET", "/companies", nil, "Bearer " + encodeAPIKey(testAPIKey), 401, "PublicApi", "Unauthorized"},
		{"unauthenticated unknown company", "GET", "/companies/" + unknownID, nil, "-", 401, "PublicApi", "Unauthorized"},
		{"unknown company", "GET", "/companies/" + unknownID, nil, "", 404, "ClientsApi", "No company was found with ID " + unknownID},
		{"delete unknown company", "DELETE", "/companies/" + unknownID, nil, "", 404, "ClientsApi", "No company was found"},
		{"unknown connection", "GET", cPath + "/connections/" + unknownID, nil, "", 404, "PublicApi", "Data connection " + unknownID + " not found"},
		{"connection of another company", "GET", cPath + "/connections/" + pending.ID, nil, "", 404, "PublicApi", "Data connection " + pending.ID + " not found"},
		{"unknown path", "GET", cPath + "/unknown", nil, "", 404, "PublicApi", "not found"},
		{"unsupported method", "PUT", cPath, map[string]any{"name": "x"}, "", 404, "PublicApi", "not found"},
		{"company without name", "POST", "/companies", map[string]any{"description": "x"}, "", 400, "PublicApi", "not valid"},
		{"company name of forbidden characters only", "POST", "/companies", map[string]any{"name": "<>#"}, "", 400, "PublicApi", "not valid"},
		{"company body not JSON", "POST", "/companies", "{name:", "", 400, "PublicApi", "not valid"},
		{"company name not a string", "POST", "/companies", map[string]any{"name": 5}, "", 400, "PublicApi", "not valid"},
		{"too many tags", "POST", "/companies", map[string]any{"name": "x", "tags": manyTags(11)}, "", 400, "PublicApi", "not valid"},
		{"unknown platformType", "POST", "/companies", map[string]any{"name": "x", "platformType": "zzzz"}, "", 400, "PublicApi", "The specified PlatformKey (zzzz) is not valid"},
		{"disabled platformType", "POST", "/companies", map[string]any{"name": "x", "platformType": "oldb"}, "", 400, "PublicApi", "not enabled"},
		{"unknown platformKey", "POST", cPath + "/connections", map[string]any{"platformKey": "zzzz"}, "", 404, "PublicApi", "No integration was found with key zzzz"},
		{"disabled platformKey", "POST", cPath + "/connections", map[string]any{"platformKey": "oldb"}, "", 404, "PublicApi", "not enabled"},
		{"connection for unknown company", "POST", "/companies/" + unknownID + "/connections", map[string]any{"platformKey": "mock"}, "", 404, "ClientsApi", "No company was found"},
		{"unknown integration", "GET", "/integrations/zzzz", nil, "", 404, "PublicApi", "No integration was found with key zzzz"},
		{"unknown data type", "POST", cPath + "/data/queue/banking-things", nil, "", 400, "PublicApi", "not valid"},
		{"pull already in progress", "POST", cPath + "/data/queue/banking-transactions", nil, "", 400, "PublicApi", "Cannot queue banking-transactions sync for " + company.ID + " as previous sync"},
		{"queue on unknown connection", "POST", cPath + "/data/queue/banking-accounts?connectionId=" + unknownID, nil, "", 404, "PublicApi", "Data connection " + unknownID + " not found"},
		{"queue without connections", "POST", "/companies/" + empty.ID + "/data/queue/banking-accounts", nil, "", 400, "PublicApi", "has no data connections"},
		{"dataStatus of unknown company", "GET", "/companies/" + unknownID + "/dataStatus", nil, "", 404, "ClientsApi", "No company was found"},
		{"unknown dataset", "GET", cPath + "/data/history/" + unknownID, nil, "", 404, "PullApi", "Dataset " + unknownID + " not found"},
		{"data never requested", "GET", connPath + "/data/banking-accounts", nil, "", 409, "PublicApi", "The data set has not been requested."},
		{"data still being pulled", "GET", connPath + "/data/banking-transactions", nil, "", 409, "PublicApi", "has not been completed"},
		{"malformed query", "GET", "/companies?query=" + url.QueryEscape("name=a&&"), nil, "", 400, "ClientsApi", "Error parsing query - Malformed query."},
		{"query on an unknown property", "GET", "/integrations?query=" + url.QueryEscape("colour=red"), nil, "", 400, "PublicApi", "Could not resolve property colour on Integration"},
		{"isCompleted is not queryable", "GET", cPath + "/data/history?query=" + url.QueryEscape("isCompleted=true"), nil, "", 400, "PullApi", "Error parsing query - Could not resolve property isCompleted on Dataset"},
		{"orderBy an unknown property", "GET", cPath + "/connections?orderBy=-colour", nil, "", 400, "PublicApi", "Could not resolve property colour on Connection"},
		{"page 0", "GET", "/integrations?page=0", nil, "", 400, "PublicApi", "not valid"},
		{"page not a number", "GET", "/integrations?page=one", nil, "", 400, "PublicApi", "not valid"},
		{"pageSize above 5000", "GET", "/integrations?pageSize=5001", nil, "", 400, "PublicApi", "not valid"},
		{"unlink with another status", "PATCH", connPath, map[string]any{"status": "Linked"}, "", 400, "PublicApi", "not valid"},
		{"unlink without a body", "PATCH", connPath, nil, "", 400, "PublicApi", "not valid"},
		{"unlink a pending connection", "PATCH", "/companies/" + pendingCo.ID + "/connections/" + pending.ID, map[string]any{"status": "Unlinked"}, "", 400, "PublicApi", "Only a Linked connection can be unlinked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth := AuthorizationHeader(testAPIKey)
			switch tc.auth {
			case "":
			case "-":
				auth = ""
			default:
				auth = tc.auth
			}
			r := env.callWithAuth(tc.method, tc.path, tc.body, auth).expect(t, tc.status, platformDoc, "ErrorMessage")
			var body apiError
			r.decode(t, &body)
			if body.StatusCode != tc.status || body.Service != tc.service || !strings.Contains(body.Error, tc.message) ||
				len(body.CorrelationID) != 32 || body.CanBeRetried == "" {
				t.Fatalf("error body = %+v, want status %d service %s message containing %q", body, tc.status, tc.service, tc.message)
			}
			if tc.message == "not valid" && (body.Validation == nil || len(body.Validation.Errors) == 0) {
				t.Fatalf("validation failures must be listed: %s", r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
	// The failed unlink left the data status untouched.
	env.clock.Advance(10 * time.Second)
	env.waitComplete(company.ID, dataTypeTransactions)
}

func manyTags(n int) map[string]string {
	tags := map[string]string{}
	for i := range n {
		tags["k"+strconv.Itoa(i)] = "v"
	}
	return tags
}

func TestDailyQuota(t *testing.T) {
	env := newTestEnv(t, func(o *Options) { o.DailyRequestQuota = Quota{Base: 3, PerLinkedCompany: 2} })
	env.clock.Set(time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC))
	company, conn := env.createCompanyWithConnection("Quota Ltd") // 2 requests
	env.call("GET", "/integrations", nil).expect(t, 200, platformDoc, "Integrations")
	r := env.call("GET", "/integrations", nil).expect(t, 429, platformDoc, "ErrorMessage")
	if got := r.header.Get("Retry-After"); got != "3600" {
		t.Fatalf("Retry-After = %q, want 3600 (seconds to midnight UTC)", got)
	}
	// A linked company raises the quota.
	if err := env.emu.CompleteLink(company.ID, conn.ID); err != nil {
		t.Fatal(err)
	}
	env.call("GET", "/integrations", nil).expect(t, 200, platformDoc, "Integrations")
	env.call("GET", "/integrations", nil).expect(t, 200, platformDoc, "Integrations")
	env.call("GET", "/integrations", nil).expect(t, 429, platformDoc, "ErrorMessage")
	// The quota resets at midnight UTC.
	env.clock.Advance(time.Hour)
	env.call("GET", "/integrations", nil).expect(t, 200, platformDoc, "Integrations")
	// Unauthenticated requests are refused before they count.
	env.callWithAuth("GET", "/integrations", nil, "").expect(t, 401, platformDoc, "ErrorMessage")
}

func TestCompanyLimit(t *testing.T) {
	env := newTestEnv(t, func(o *Options) { o.MaxCompanies = 1 })
	env.call("POST", "/companies", map[string]any{"name": "One"}).expect(t, 200, platformDoc, "Company")
	r := env.call("POST", "/companies", map[string]any{"name": "Two"}).expect(t, 402, platformDoc, "ErrorMessage")
	if !strings.Contains(string(r.body), "1-company limit") {
		t.Fatalf("402 body: %s", r.body)
	}
}
