package codat

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestLinkCancelKeepsPendingAuth(t *testing.T) {
	env := newTestEnv(t, nil)
	company, conn := env.createCompanyWithConnection("Cancel Ltd")
	loc := env.followLink(conn.LinkURL, "cancel")
	if q := loc.Query(); q.Get("statusCode") != "403" || q.Get("errorMessage") != "User cancelled" {
		t.Fatalf("redirect after cancel = %s", loc)
	}
	if !strings.Contains(loc.RawQuery, "errorMessage=User%20cancelled") {
		t.Fatalf("spaces must be encoded as %%20, like Codat: %s", loc.RawQuery)
	}
	var got connectionJSON
	env.call("GET", "/companies/"+company.ID+"/connections/"+conn.ID, nil).expect(t, 200, platformDoc, "Connection").decode(t, &got)
	if got.Status != StatusPendingAuth {
		t.Fatalf("status after cancel = %s", got.Status)
	}
}

func TestLinkRedirectTemplate(t *testing.T) {
	env := newTestEnv(t, nil)
	env.emu.SetRedirectURL("https://app.example/{sourceType}/done?company={companyId}&conn={connectionId}&code={statusCode}&msg={errorMessage}&ref={ref}&keep={unknown}")
	company, conn := env.createCompanyWithConnection("Redirect Ltd")
	loc := env.followLink(conn.LinkURL+"?ref=order%2017", "authorize")
	want := "https://app.example/banking/done?company=" + company.ID + "&conn=" + conn.ID +
		"&code=200&msg=&ref=order%2017&keep={unknown}"
	if loc.String() != want {
		t.Fatalf("redirect = %s\nwant       %s", loc, want)
	}
}

func TestLinkThroughCompanyPage(t *testing.T) {
	env := newTestEnv(t, nil)
	var company companyJSON
	env.call("POST", "/companies", map[string]any{"name": "Hosted Ltd"}).expect(t, 200, platformDoc, "Company").decode(t, &company)
	if company.Redirect != env.server.URL+"/link/company/"+company.ID {
		t.Fatalf("redirect = %s", company.Redirect)
	}
	page := env.call("GET", company.Redirect, nil).expect(t, 200, "", "")
	if strings.Contains(string(page.body), "Old Bank") || !strings.Contains(string(page.body), "Demo Bank") {
		t.Fatalf("the company page must offer the enabled banks only: %s", page.body)
	}
	action := regexp.MustCompile(`action="([^"]+/select)"`).FindSubmatch(page.body)
	if action == nil {
		t.Fatalf("no bank selection form: %s", page.body)
	}
	req, _ := http.NewRequest("POST", env.server.URL+string(action[1]), strings.NewReader(url.Values{"platformKey": {"dmbk"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := env.do(req)
	if resp.status != http.StatusSeeOther {
		t.Fatalf("select: %d %s", resp.status, resp.body)
	}
	var conns pageJSON[connectionJSON]
	env.call("GET", "/companies/"+company.ID+"/connections", nil).expect(t, 200, platformDoc, "Connections").decode(t, &conns)
	if len(conns.Results) != 1 || conns.Results[0].IntegrationKey != "dmbk" || conns.Results[0].Status != StatusPendingAuth {
		t.Fatalf("connections after choosing a bank = %+v", conns.Results)
	}
	if resp.header.Get("Location") != conns.Results[0].LinkURL {
		t.Fatalf("select redirected to %s, want the connection's linkUrl %s", resp.header.Get("Location"), conns.Results[0].LinkURL)
	}
	env.followLink(conns.Results[0].LinkURL, "authorize")
	info, err := env.emu.Company(company.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.Connections[0].Status != StatusLinked || !info.Connections[0].LinkedAt.Equal(testStart) {
		t.Fatalf("connection after the journey = %+v", info.Connections[0])
	}
}

func TestLinkPageErrorsAreHTML(t *testing.T) {
	env := newTestEnv(t, nil)
	for _, path := range []string{
		"/link/companies/846ed55c-974b-4392-a1f1-87b6fdbf3c5e/connections/846ed55c-974b-4392-a1f1-87b6fdbf3c5e/start",
		"/link/company/846ed55c-974b-4392-a1f1-87b6fdbf3c5e",
		"/link/nowhere",
	} {
		r := env.callWithAuth("GET", path, nil, "")
		if r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || r.header.Get("Location") != "" {
			t.Errorf("%s: %d %q", path, r.status, r.header.Get("Content-Type"))
		}
	}
}

func TestCreateCompanyWithPlatformType(t *testing.T) {
	env := newTestEnv(t, nil)
	var company companyJSON
	env.call("POST", "/companies", map[string]any{"name": "Legacy & Co!", "platformType": "mock", "tags": map[string]string{"region": "uk"}}).
		expect(t, 200, platformDoc, "Company").decode(t, &company)
	if len(company.DataConnections) != 1 || company.Platform != "Mock Bank" || company.Tags["region"] != "uk" {
		t.Fatalf("company = %+v", company)
	}
	conn := company.DataConnections[0]
	if company.Redirect != conn.LinkURL || conn.Status != StatusPendingAuth {
		t.Fatalf("a platformType company links straight to its connection: redirect %s, connection %+v", company.Redirect, conn)
	}
	if company.Name != "Legacy & Co!" {
		t.Fatalf("name = %q", company.Name)
	}
	var stripped companyJSON
	env.call("POST", "/companies", map[string]any{"name": "Acme <Ltd>"}).expect(t, 200, platformDoc, "Company").decode(t, &stripped)
	if stripped.Name != "Acme Ltd" {
		t.Fatalf("forbidden characters must be stripped: %q", stripped.Name)
	}
	var list pageJSON[companyJSON]
	env.call("GET", "/companies?query="+url.QueryEscape("name~legacy"), nil).expect(t, 200, platformDoc, "Companies").decode(t, &list)
	if list.TotalResults != 1 || list.Results[0].ID != company.ID {
		t.Fatalf("query name~legacy = %+v", list)
	}
}

func TestConsentExpiry(t *testing.T) {
	env := newTestEnv(t, func(o *Options) { o.ConsentTTL = 90 * 24 * time.Hour })
	company, conn := env.createCompanyWithConnection("Expiry Ltd")
	env.followLink(conn.LinkURL, "authorize")
	path := "/companies/" + company.ID + "/connections/" + conn.ID
	for _, tc := range []struct {
		day    int
		status string
		pull   string
	}{
		{89, StatusLinked, pullInitial},
		{91, StatusDeauthorized, pullAuthError},
	} {
		env.clock.Set(testStart.Add(time.Duration(tc.day) * 24 * time.Hour))
		var got connectionJSON
		env.call("GET", path, nil).expect(t, 200, platformDoc, "Connection").decode(t, &got)
		if got.Status != tc.status || (tc.status == StatusDeauthorized) != (len(got.DataConnectionErrors) == 1) {
			t.Fatalf("day %d: connection %+v, want status %s (with an error when deauthorized)", tc.day, got, tc.status)
		}
		var p pullJSON
		env.call("POST", "/companies/"+company.ID+"/data/queue/banking-accounts", nil).
			expect(t, 200, platformDoc, "PullOperation").decode(t, &p)
		if p.Status != tc.pull {
			t.Fatalf("day %d: pull status %s, want %s", tc.day, p.Status, tc.pull)
		}
	}
	// Authorising again starts a new consent.
	env.followLink(conn.LinkURL, "authorize")
	var got connectionJSON
	env.call("GET", path, nil).expect(t, 200, platformDoc, "Connection").decode(t, &got)
	if got.Status != StatusLinked || len(got.DataConnectionErrors) != 1 || got.DataConnectionErrors[0].Status != "Resolved" {
		t.Fatalf("after re-authorising: %+v", got)
	}
}

func TestFetchOnFirstLink(t *testing.T) {
	env := newTestEnv(t, func(o *Options) { o.FetchOnFirstLink = []string{dataTypeAccounts, dataTypeTransactions} })
	company, conn := env.createCompanyWithConnection("Auto Ltd")
	env.followLink(conn.LinkURL, "authorize")
	// Codat queued the pulls itself, so queuing one again is refused while it runs.
	env.call("POST", "/companies/"+company.ID+"/data/queue/banking-accounts", nil).expect(t, 400, platformDoc, "ErrorMessage")
	st := env.waitComplete(company.ID, dataTypeAccounts, dataTypeTransactions)
	if _, ok := st[dataTypeBalances]; ok {
		t.Fatal("balances were not configured to be fetched on first link")
	}
}

func TestControlErrors(t *testing.T) {
	env := newTestEnv(t, nil)
	company, conn := env.createCompanyWithConnection("Control Ltd")
	if err := env.emu.Deauthorize(company.ID, conn.ID); err == nil {
		t.Fatal("deauthorizing a PendingAuth connection must fail")
	}
	if err := env.emu.CompleteLink(company.ID, "nope"); err == nil {
		t.Fatal("linking an unknown connection must fail")
	}
	if _, err := env.emu.Company("nope"); err == nil {
		t.Fatal("an unknown company must not be found")
	}
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without API keys must fail")
	}
	if _, err := New(Options{APIKeys: []string{"k"}, FetchOnFirstLink: []string{"invoices"}}); err == nil {
		t.Fatal("New with a non-banking fetch-on-first-link type must fail")
	}
}
