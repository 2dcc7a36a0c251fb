package codat

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

var formActionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// followLink plays the user's browser on a linkUrl: it opens the consent page
// and submits decision ("authorize" or "cancel"), returning the redirect.
func (e *testEnv) followLink(linkURL, decision string) *url.URL {
	e.t.Helper()
	req, _ := http.NewRequest("GET", linkURL, nil)
	page := e.do(req)
	if page.status != 200 || !strings.Contains(page.header.Get("Content-Type"), "text/html") {
		e.t.Fatalf("link page: status %d, type %q", page.status, page.header.Get("Content-Type"))
	}
	if strings.Contains(string(page.body), "<script") {
		e.t.Fatal("the link page must work without JavaScript")
	}
	m := formActionRE.FindSubmatch(page.body)
	if m == nil {
		e.t.Fatalf("no form on the link page: %s", page.body)
	}
	action, err := url.Parse(strings.ReplaceAll(string(m[1]), "&amp;", "&"))
	if err != nil {
		e.t.Fatal(err)
	}
	target := e.server.URL + action.String()
	req, _ = http.NewRequest("POST", target, strings.NewReader(url.Values{"decision": {decision}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := e.do(req)
	if resp.status != http.StatusSeeOther {
		e.t.Fatalf("authorize: status %d, want 303; body %s", resp.status, resp.body)
	}
	loc, err := url.Parse(resp.header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return loc
}

func TestJourney(t *testing.T) {
	env := newTestEnv(t, nil)

	// Banking sources.
	var integrations pageJSON[integrationJSON]
	env.call("GET", "/integrations?query="+url.QueryEscape("sourceType=Banking&&enabled=true"), nil).
		expect(t, 200, platformDoc, "Integrations").decode(t, &integrations)
	keys := []string{}
	for _, i := range integrations.Results {
		keys = append(keys, i.Key)
	}
	if strings.Join(keys, ",") != "mock,dmbk" || integrations.TotalResults != 2 {
		t.Fatalf("enabled banking sources = %v (total %d), want mock,dmbk", keys, integrations.TotalResults)
	}
	env.call("GET", "/integrations/mock", nil).expect(t, 200, platformDoc, "Integration")

	// Company and connection.
	var company companyJSON
	env.call("POST", "/companies", map[string]any{"name": "Toft stores", "description": "customer 17"}).
		expect(t, 200, platformDoc, "Company").decode(t, &company)
	var conn connectionJSON
	env.call("POST", "/companies/"+company.ID+"/connections", map[string]any{"platformKey": "mock"}).
		expect(t, 200, platformDoc, "Connection").decode(t, &conn)
	if conn.Status != StatusPendingAuth || conn.IntegrationKey != "mock" || conn.SourceType != "Banking" {
		t.Fatalf("new connection = %+v", conn)
	}
	wantLink := env.server.URL + "/link/companies/" + company.ID + "/connections/" + conn.ID + "/start"
	if conn.LinkURL != wantLink {
		t.Fatalf("linkUrl = %s, want %s", conn.LinkURL, wantLink)
	}
	connPath := "/companies/" + company.ID + "/connections/" + conn.ID

	// Reads before anything was pulled: 409.
	env.call("GET", connPath+"/data/banking-accounts", nil).expect(t, 409, platformDoc, "ErrorMessage")

	// The link journey.
	loc := env.followLink(conn.LinkURL, "authorize")
	if loc.Path != "/link/complete" || loc.Query().Get("statusCode") != "200" ||
		loc.Query().Get("companyId") != company.ID || loc.Query().Get("connectionId") != conn.ID {
		t.Fatalf("redirect after authorising = %s", loc)
	}
	env.call("GET", loc.String(), nil).expect(t, 200, "", "")
	env.call("GET", connPath, nil).expect(t, 200, platformDoc, "Connection").decode(t, &conn)
	if conn.Status != StatusLinked {
		t.Fatalf("status after the link journey = %s, want Linked", conn.Status)
	}

	// Queue the banking data types.
	queued := map[string]pullJSON{}
	for _, dt := range []string{dataTypeAccounts, dataTypeBalances, dataTypeTransactions, dataTypeCategories} {
		var p pullJSON
		env.call("POST", "/companies/"+company.ID+"/data/queue/"+dt, nil).
			expect(t, 200, platformDoc, "PullOperation").decode(t, &p)
		if p.Status != pullInitial || p.IsCompleted || p.ConnectionID != conn.ID {
			t.Fatalf("queued %s = %+v", dt, p)
		}
		queued[dt] = p
	}
	requestedAt := env.clock.Now()

	// Not complete yet: dataStatus says so and reads answer 409.
	env.clock.Advance(6 * time.Second)
	var statuses map[string]dataStatusJSON
	env.call("GET", "/companies/"+company.ID+"/dataStatus", nil).
		expect(t, 200, platformDoc, "DataStatuses").decode(t, &statuses)
	if st := statuses[dataTypeTransactions]; st.CurrentStatus != pullFetching || st.LastSuccessfulSync != "" {
		t.Fatalf("transactions status mid-pull = %+v", st)
	}
	env.call("GET", connPath+"/data/banking-transactions", nil).expect(t, 409, platformDoc, "ErrorMessage")

	// Complete after the pull duration.
	env.clock.Advance(4 * time.Second)
	asOf := requestedAt.Add(10 * time.Second)
	statuses = env.waitComplete(company.ID, dataTypeAccounts, dataTypeBalances, dataTypeTransactions, dataTypeCategories)
	if st := statuses[dataTypeTransactions]; st.LatestSuccessfulSyncID != queued[dataTypeTransactions].ID ||
		st.LastSuccessfulSync != formatTime(asOf) {
		t.Fatalf("transactions status after completion = %+v", st)
	}
	env.call("GET", "/companies/"+company.ID+"/data/history", nil).expect(t, 200, platformDoc, "PullOperations")
	var done pullJSON
	env.call("GET", "/companies/"+company.ID+"/data/history/"+queued[dataTypeAccounts].ID, nil).
		expect(t, 200, platformDoc, "PullOperation").decode(t, &done)
	if done.Status != pullComplete || !done.IsCompleted || done.Progress != 100 || done.Completed != formatTime(asOf) {
		t.Fatalf("completed pull = %+v", done)
	}
	env.call("GET", connPath, nil).expect(t, 200, platformDoc, "Connection").decode(t, &conn)
	if conn.LastSync != formatTime(asOf) {
		t.Fatalf("connection lastSync = %q, want %s", conn.LastSync, formatTime(asOf))
	}

	ds, err := env.emu.Dataset(company.ID, conn.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkAccounts(t, env, connPath, ds, asOf)
	checkTransactions(t, env, connPath, ds, asOf)
	checkBalances(t, env, connPath, ds, asOf)
	var cats pageJSON[categoryJSON]
	env.call("GET", connPath+"/data/banking-transactionCategories", nil).
		expect(t, 200, bankingDoc, "TransactionCategories").decode(t, &cats)
	if len(cats.Results) == 0 {
		t.Fatal("no transaction categories")
	}
	env.call("GET", connPath+"/data/banking-transactionCategories/"+cats.Results[0].ID, nil).
		expect(t, 200, bankingDoc, "TransactionCategory")

	// Deauthorized at the bank: the connection says so, new pulls fail with
	// AuthError, data already pulled stays readable (Codat keeps it).
	if err := env.emu.Deauthorize(company.ID, conn.ID); err != nil {
		t.Fatal(err)
	}
	env.call("GET", connPath, nil).expect(t, 200, platformDoc, "Connection").decode(t, &conn)
	if conn.Status != StatusDeauthorized || len(conn.DataConnectionErrors) != 1 || conn.DataConnectionErrors[0].Status != "Active" {
		t.Fatalf("connection after deauthorization = %+v", conn)
	}
	var failed pullJSON
	env.call("POST", "/companies/"+company.ID+"/data/queue/"+dataTypeTransactions, nil).
		expect(t, 200, platformDoc, "PullOperation").decode(t, &failed)
	if failed.Status != pullAuthError || !failed.IsErrored || failed.IsCompleted {
		t.Fatalf("pull on a deauthorized connection = %+v", failed)
	}
	env.call("GET", "/companies/"+company.ID+"/dataStatus", nil).
		expect(t, 200, platformDoc, "DataStatuses").decode(t, &statuses)
	if st := statuses[dataTypeTransactions]; st.CurrentStatus != pullAuthError || st.LatestSuccessfulSyncID != queued[dataTypeTransactions].ID {
		t.Fatalf("transactions status after a failed pull = %+v", st)
	}
	env.call("GET", connPath+"/data/banking-accounts", nil).expect(t, 200, bankingDoc, "Accounts")
	env.call("PATCH", connPath, map[string]any{"status": "Unlinked"}).expect(t, 400, platformDoc, "ErrorMessage")

	// Re-authorising through the same link, then unlinking by the client.
	if loc := env.followLink(conn.LinkURL, "authorize"); loc.Query().Get("statusCode") != "200" {
		t.Fatalf("re-authorisation redirect = %s", loc)
	}
	env.call("PATCH", connPath, map[string]any{"status": "Unlinked"}).
		expect(t, 200, platformDoc, "Connection").decode(t, &conn)
	if conn.Status != StatusUnlinked || len(conn.DataConnectionErrors) != 1 || conn.DataConnectionErrors[0].Status != "Resolved" {
		t.Fatalf("connection after re-authorising and unlinking = %+v", conn)
	}

	// Deleting the connection removes its data; deleting the company removes it.
	if r := env.call("DELETE", connPath, nil); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("delete connection: %d %s", r.status, r.body)
	}
	r := env.call("GET", connPath+"/data/banking-transactions", nil).expect(t, 404, platformDoc, "ErrorMessage")
	if !strings.Contains(string(r.body), "Data connection "+conn.ID+" not found") {
		t.Fatalf("read after delete: %s", r.body)
	}
	if r := env.call("DELETE", "/companies/"+company.ID, nil); r.status != 204 {
		t.Fatalf("delete company: %d %s", r.status, r.body)
	}
	env.call("GET", "/companies/"+company.ID, nil).expect(t, 404, platformDoc, "ErrorMessage")
	if n := len(env.emu.Companies()); n != 0 {
		t.Fatalf("%d companies left", n)
	}
}

func checkAccounts(t *testing.T, env *testEnv, connPath string, ds *bankdata.Dataset, asOf time.Time) {
	t.Helper()
	var accounts pageJSON[accountJSON]
	env.call("GET", connPath+"/data/banking-accounts", nil).expect(t, 200, bankingDoc, "Accounts").decode(t, &accounts)
	want := ds.Accounts()
	if len(accounts.Results) != len(want) || accounts.TotalResults != len(want) {
		t.Fatalf("%d accounts, want %d", len(accounts.Results), len(want))
	}
	for i, a := range accounts.Results {
		b, err := ds.BalanceAt(want[i].ID, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != want[i].ID || a.Balance.Current != bankdata.MinorToMajor(b.Current) || a.Currency != want[i].Currency {
			t.Errorf("account %d = %+v, want id %s current %v", i, a, want[i].ID, bankdata.MinorToMajor(b.Current))
		}
		env.call("GET", connPath+"/data/banking-accounts/"+a.ID, nil).expect(t, 200, bankingDoc, "Account")
	}
}

// checkTransactions pages through the transactions and compares them with
// bankdata's for the pulled window.
func checkTransactions(t *testing.T, env *testEnv, connPath string, ds *bankdata.Dataset, asOf time.Time) {
	t.Helper()
	want := map[string]bankdata.Transaction{}
	for _, a := range ds.Accounts() {
		for _, tx := range ds.Transactions(a.ID, ds.HistoryStart(), asOf) {
			want[tx.ID] = tx
		}
	}
	if len(want) < 500 {
		t.Fatalf("only %d transactions in the dataset; the paging check needs more", len(want))
	}
	seen := map[string]bool{}
	next := connPath + "/data/banking-transactions?page=1&pageSize=250"
	var last time.Time
	pages := 0
	for next != "" {
		pages++
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		var page pageJSON[transactionJSON]
		env.call("GET", next, nil).expect(t, 200, bankingDoc, "Transactions").decode(t, &page)
		if page.TotalResults != len(want) || page.PageSize != 250 || page.PageNumber != pages {
			t.Fatalf("page %d: total %d size %d number %d, want total %d", pages, page.TotalResults, page.PageSize, page.PageNumber, len(want))
		}
		for _, tx := range page.Results {
			if seen[tx.ID] {
				t.Fatalf("transaction %s served twice", tx.ID)
			}
			seen[tx.ID] = true
			w, ok := want[tx.ID]
			if !ok {
				t.Fatalf("transaction %s is not in bankdata's window", tx.ID)
			}
			posted, _ := time.Parse(timeFormat, tx.PostedDate)
			if tx.Amount != bankdata.MinorToMajor(w.Amount) || tx.AccountID != w.AccountID || !posted.Equal(w.Timestamp.Truncate(time.Second)) {
				t.Fatalf("transaction %s = %+v, want %+v", tx.ID, tx, w)
			}
			if posted.Before(last) {
				t.Fatalf("transactions out of posting order at %s", tx.ID)
			}
			last = posted
		}
		next = ""
		if page.Links.Next != nil {
			next = page.Links.Next.Href
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("paged through %d transactions, want %d", len(seen), len(want))
	}
	// A single transaction, and a query with ordering.
	for id := range want {
		env.call("GET", connPath+"/data/banking-transactions/"+id, nil).expect(t, 200, bankingDoc, "Transaction")
		break
	}
	var credits pageJSON[transactionJSON]
	q := url.Values{"query": {"amount>0&&currency=GBP"}, "orderBy": {"-amount"}, "pageSize": {"5"}}
	env.call("GET", connPath+"/data/banking-transactions?"+q.Encode(), nil).
		expect(t, 200, bankingDoc, "Transactions").decode(t, &credits)
	wantCredits := 0
	for _, w := range want {
		if w.Amount > 0 {
			wantCredits++
		}
	}
	if credits.TotalResults != wantCredits || len(credits.Results) != 5 {
		t.Fatalf("credits: total %d (want %d), page of %d", credits.TotalResults, wantCredits, len(credits.Results))
	}
	for i := 1; i < len(credits.Results); i++ {
		if credits.Results[i].Amount > credits.Results[i-1].Amount {
			t.Fatalf("orderBy=-amount not descending: %v then %v", credits.Results[i-1].Amount, credits.Results[i].Amount)
		}
	}
}

func checkBalances(t *testing.T, env *testEnv, connPath string, ds *bankdata.Dataset, asOf time.Time) {
	t.Helper()
	days := int(asOf.Truncate(24*time.Hour).Sub(ds.HistoryStart())/(24*time.Hour)) + 1
	for _, a := range ds.Accounts() {
		q := url.Values{"query": {"accountId=" + a.ID}, "orderBy": {"-date"}, "pageSize": {"1"}}
		var page pageJSON[accountBalanceJSON]
		env.call("GET", connPath+"/data/banking-accountBalances?"+q.Encode(), nil).
			expect(t, 200, bankingDoc, "AccountBalances").decode(t, &page)
		b, err := ds.BalanceAt(a.ID, asOf)
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalResults != days || len(page.Results) != 1 {
			t.Fatalf("account %s: %d daily balances, want %d", a.ID, page.TotalResults, days)
		}
		got := page.Results[0]
		if got.Balance.Current != bankdata.MinorToMajor(b.Current) || got.Balance.Available == nil ||
			*got.Balance.Available != bankdata.MinorToMajor(b.Available) {
			t.Errorf("account %s latest balance = %+v, want current %d available %d", a.ID, got.Balance, b.Current, b.Available)
		}
		if got.Date != formatTime(asOf.Truncate(24*time.Hour)) {
			t.Errorf("latest balance date %s, want %s", got.Date, fmt.Sprint(asOf.Truncate(24*time.Hour)))
		}
	}
}
