package codat_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/codat"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	emu "github.com/consent-operator/consent-operator/internal/sandbox/codat"
)

// TestJourney is the whole story against the emulator: begin, link like a
// user, confirm, pull and read accounts, balances and transactions, then a
// revocation at the bank and the delete.
func TestJourney(t *testing.T) {
	e := newEnv(t, nil, func(o *codat.Options) { o.PageSize = 40 })
	ctx := context.Background()
	conn := testConn()

	// Begin: a company with a PendingAuth connection to the mock bank.
	auth, err := e.client.BeginAuthorization(ctx, conn, "signed-state-1")
	if err != nil {
		t.Fatalf("BeginAuthorization: %v", err)
	}
	if auth.Refs.CodatCompanyID == "" || auth.Refs.CodatConnectionID == "" {
		t.Fatalf("refs = %+v, want company and connection ids", auth.Refs)
	}
	co, err := e.emu.Company(auth.Refs.CodatCompanyID)
	if err != nil {
		t.Fatalf("emulator company: %v", err)
	}
	if len(co.Connections) != 1 || co.Connections[0].ID != auth.Refs.CodatConnectionID ||
		co.Connections[0].PlatformKey != "mock" || co.Connections[0].Status != "PendingAuth" {
		t.Fatalf("emulator connections = %+v", co.Connections)
	}
	// The company is named by spec.companyName, not by the user's id.
	if co.Name != "Acme Current Ltd" || !strings.Contains(co.Description, "team-a/acme-current") || !strings.Contains(co.Description, "user_42") {
		t.Fatalf("company name %q description %q", co.Name, co.Description)
	}
	link, err := url.Parse(auth.URL)
	if err != nil {
		t.Fatal(err)
	}
	if link.Query().Get("state") != "signed-state-1" ||
		!strings.HasSuffix(link.Path, "/companies/"+co.ID+"/connections/"+auth.Refs.CodatConnectionID+"/start") {
		t.Fatalf("authorization URL %s: want the connection's linkUrl with the state", auth.URL)
	}
	conn.Refs = auth.Refs

	// Before the user acts: awaiting authorization.
	_, err = e.client.CompleteAuthorization(ctx, conn, provider.Callback{})
	if pe := mustProviderError(t, err, provider.ClassRetryLater, ""); pe.Code != "PendingAuth" {
		t.Fatalf("code %q, want PendingAuth", pe.Code)
	}
	cons, err := e.client.Consent(ctx, conn, provider.Session{Refs: conn.Refs})
	if err != nil || cons.Status != "Pending" {
		t.Fatalf("Consent = %+v, %v; want Pending", cons, err)
	}

	// Begin again (the link is renewed): same company, same connection.
	again, err := e.client.BeginAuthorization(ctx, conn, "signed-state-2")
	if err != nil {
		t.Fatalf("BeginAuthorization again: %v", err)
	}
	if again.Refs != auth.Refs || strings.Replace(again.URL, "signed-state-2", "signed-state-1", 1) != auth.URL {
		t.Fatalf("second BeginAuthorization = %+v, want the same connection as %+v", again, auth)
	}
	if n := len(e.emu.Companies()); n != 1 {
		t.Fatalf("%d companies after two BeginAuthorization calls, want 1", n)
	}

	// The user follows the link and authorises.
	if page := authorizeLink(t, again.URL, "authorize"); !strings.Contains(page, "Your bank is connected") {
		t.Fatalf("final page: %s", page)
	}
	grant, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{})
	if err != nil {
		t.Fatalf("CompleteAuthorization: %v", err)
	}
	if grant.Tokens != nil || grant.Refs != auth.Refs {
		t.Fatalf("grant = %+v, want refs %+v and no tokens", grant, auth.Refs)
	}
	sess := provider.Session{Refs: grant.Refs}
	cons, err = e.client.Consent(ctx, conn, sess)
	if err != nil {
		t.Fatalf("Consent: %v", err)
	}
	want := provider.Consent{CreatedAt: t0, ProviderID: "mock", ProviderName: "Mock Bank", Status: "Active"}
	if cons != want {
		t.Fatalf("Consent = %+v, want %+v", cons, want)
	}

	// Data: accounts, balances, transactions.
	e.clk.Advance(time.Hour)
	ds, err := e.emu.Dataset(conn.Refs.CodatCompanyID, conn.Refs.CodatConnectionID)
	if err != nil {
		t.Fatal(err)
	}
	accounts := checkAccounts(t, e, conn, sess, ds)
	checkTransactions(t, e, conn, sess, ds, accounts)
	checkBalances(t, e, conn, sess, ds, accounts)

	// The user revokes at the bank.
	if err := e.emu.Deauthorize(conn.Refs.CodatCompanyID, conn.Refs.CodatConnectionID); err != nil {
		t.Fatal(err)
	}
	cons, err = e.client.Consent(ctx, conn, sess)
	if err != nil || cons.Status != "Revoked" {
		t.Fatalf("Consent after deauthorization = %+v, %v; want Revoked", cons, err)
	}
	_, err = e.client.CompleteAuthorization(ctx, conn, provider.Callback{})
	mustProviderError(t, err, provider.ClassNeedsHuman, provider.ReasonConsentRevoked)
	_, err = e.client.Fetch(ctx, conn, sess, provider.Fetch{Resource: provider.ResourceTransactions})
	mustProviderError(t, err, provider.ClassNeedsHuman, provider.ReasonConsentRevoked)

	// Delete: the data connection goes, the company stays; twice is fine.
	for i := range 2 {
		if err := e.client.Revoke(ctx, conn, sess); err != nil {
			t.Fatalf("Revoke #%d: %v", i+1, err)
		}
	}
	co, err = e.emu.Company(conn.Refs.CodatCompanyID)
	if err != nil || len(co.Connections) != 0 {
		t.Fatalf("company after Revoke = %+v, %v; want it without connections", co, err)
	}
	_, err = e.client.Consent(ctx, conn, sess)
	mustProviderError(t, err, provider.ClassNeedsHuman, provider.ReasonConsentRevoked)
}

// checkAccounts pulls the accounts and compares them with the dataset.
func checkAccounts(t *testing.T, e *env, conn provider.Connection, s provider.Session, ds *bankdata.Dataset) map[string]bankdata.Account {
	t.Helper()
	f := provider.Fetch{Resource: provider.ResourceAccounts}
	res, err := e.client.Fetch(context.Background(), conn, s, f)
	if err != nil {
		t.Fatalf("Fetch accounts: %v", err)
	}
	asOf := e.clk.Now().Add(pullDuration)
	data := e.collect(conn, s, res.Task, f)
	want := map[string]bankdata.Account{}
	for _, a := range ds.Accounts() {
		if !a.Created.After(asOf) {
			want[a.ID] = a
		}
	}
	if len(data.Accounts) != len(want) || len(want) == 0 {
		t.Fatalf("%d accounts, want %d", len(data.Accounts), len(want))
	}
	for _, got := range data.Accounts {
		a, ok := want[got.AccountID]
		if !ok {
			t.Fatalf("unexpected account %s", got.AccountID)
		}
		if got.DisplayName != a.DisplayName || got.Currency != a.Currency || got.InstitutionID != "mock" ||
			got.Number.IBAN != a.IBAN || got.Number.SortCode != a.SortCode || got.Number.Number != a.AccountNumber ||
			!got.FetchedAt.Equal(asOf) || !got.UpdatedAt.Equal(asOf) {
			t.Fatalf("account %+v does not match %+v", got, a)
		}
		if wantType := map[bool]string{true: "Card", false: "Depository"}[a.IsCard()]; got.Type != wantType {
			t.Fatalf("account %s type %q, want %q", got.AccountID, got.Type, wantType)
		}
	}
	return want
}

// checkTransactions pulls transactions for a window and compares them with
// the dataset's booked transactions in it; two per-account fetches while the
// pull runs share it.
func checkTransactions(t *testing.T, e *env, conn provider.Connection, s provider.Session, ds *bankdata.Dataset, accounts map[string]bankdata.Account) {
	t.Helper()
	ctx := context.Background()
	asOf := e.clk.Now().Add(pullDuration)
	from, to := asOf.Add(-45*day).Add(7*time.Hour+13*time.Minute), asOf.Add(-2*day)
	f := provider.Fetch{Resource: provider.ResourceTransactions, From: from, To: to}
	res, err := e.client.Fetch(ctx, conn, s, f)
	if err != nil {
		t.Fatalf("Fetch transactions: %v", err)
	}
	var ids []string
	for id := range accounts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	per := f
	per.AccountID = ids[0]
	res2, err := e.client.Fetch(ctx, conn, s, per)
	if err != nil {
		t.Fatalf("Fetch transactions of one account: %v", err)
	}
	if res2.Task == nil || res2.Task.ID != res.Task.ID {
		t.Fatalf("a second fetch while the pull runs got task %+v, want %+v", res2.Task, res.Task)
	}
	before := e.obs.Count("GET /companies/{companyId}/connections/{connectionId}/data/banking-transactions")
	data := e.collect(conn, s, res.Task, f)
	pages := e.obs.Count("GET /companies/{companyId}/connections/{connectionId}/data/banking-transactions") - before
	if pages < 2 {
		t.Fatalf("read transactions in %d page(s); the test wants several", pages)
	}

	want := map[string]bankdata.Transaction{}
	for id := range accounts {
		for _, tx := range ds.Transactions(id, from, asOf) {
			if !tx.Timestamp.Before(from) && tx.Timestamp.Before(to) {
				want[tx.ID] = tx
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("the window holds no transactions; pick another")
	}
	seen := map[string]bool{}
	for _, got := range data.Transactions {
		if seen[got.NormalisedProviderTransactionID] {
			t.Fatalf("duplicate transaction %s", got.NormalisedProviderTransactionID)
		}
		seen[got.NormalisedProviderTransactionID] = true
		w, ok := want[got.NormalisedProviderTransactionID]
		if !ok {
			t.Fatalf("unexpected transaction %+v (window %s – %s)", got, from, to)
		}
		if got.AccountID != w.AccountID || !got.Timestamp.Equal(w.Timestamp) || minor(t, string(got.Amount)) != w.Amount ||
			got.Currency != w.Currency || got.Description != w.Description || got.Type != string(w.Type) {
			t.Fatalf("transaction %+v does not match %+v", got, w)
		}
		if err := got.Amount.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d transactions, want %d", len(seen), len(want))
	}
	t.Logf("%d transactions of %d accounts in %d pages", len(seen), len(accounts), pages)

	// The per-account fetch reads only that account from the same pull.
	one, err := e.client.Collect(ctx, conn, s, *res2.Task, per)
	if err != nil {
		t.Fatalf("Collect one account: %v", err)
	}
	n := 0
	for _, w := range want {
		if w.AccountID == per.AccountID {
			n++
		}
	}
	if len(one.Transactions) != n {
		t.Fatalf("%d transactions of account %s, want %d", len(one.Transactions), per.AccountID, n)
	}
	for _, tx := range one.Transactions {
		if tx.AccountID != per.AccountID {
			t.Fatalf("transaction of account %s in a fetch of %s", tx.AccountID, per.AccountID)
		}
	}
}

// checkBalances pulls balances for a window and compares them with the
// dataset's balance at each observation time.
func checkBalances(t *testing.T, e *env, conn provider.Connection, s provider.Session, ds *bankdata.Dataset, accounts map[string]bankdata.Account) {
	t.Helper()
	asOf := e.clk.Now().Add(pullDuration)
	from, to := asOf.Add(-10*day), asOf.Add(time.Minute)
	f := provider.Fetch{Resource: provider.ResourceBalance, From: from, To: to}
	res, err := e.client.Fetch(context.Background(), conn, s, f)
	if err != nil {
		t.Fatalf("Fetch balance: %v", err)
	}
	data := e.collect(conn, s, res.Task, f)

	type key struct {
		account string
		at      time.Time
	}
	want := map[key]bool{}
	for id := range accounts {
		for d := from.Truncate(day).Add(-day); !d.After(asOf); d = d.Add(day) {
			at := d.Add(day)
			if at.After(asOf) {
				at = asOf
			}
			if !at.Before(from) && at.Before(to) {
				want[key{id, at}] = true
			}
		}
	}
	got := map[key]bool{}
	for _, b := range data.Balances {
		k := key{b.AccountID, b.ObservedAt}
		if got[k] {
			t.Fatalf("duplicate balance %+v", b)
		}
		got[k] = true
		if !want[k] {
			t.Fatalf("unexpected balance %+v", b)
		}
		a := accounts[b.AccountID]
		wb, err := ds.BalanceAt(b.AccountID, b.ObservedAt)
		if err != nil {
			t.Fatal(err)
		}
		if minor(t, string(b.Current)) != wb.Current || b.Currency != a.Currency {
			t.Fatalf("balance %+v, want current %d %s", b, wb.Current, a.Currency)
		}
		if b.ObservedAt.Equal(asOf) {
			if b.Available == "" || minor(t, string(b.Available)) != wb.Available {
				t.Fatalf("latest balance %+v, want available %d", b, wb.Available)
			}
			if a.IsCard() && minor(t, string(b.CreditLimit)) != a.CreditLimit {
				t.Fatalf("card balance %+v, want credit limit %d", b, a.CreditLimit)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d balances, want %d", len(got), len(want))
	}
	t.Logf("%d balances of %d accounts", len(got), len(accounts))
}

// TestReconsentAfterDeauthorization: BeginAuthorization on a deauthorized
// connection returns its link again, and following it makes it Active.
func TestReconsentAfterDeauthorization(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	conn, auth := e.begin(testConn(), "s1")
	if err := e.emu.CompleteLink(auth.Refs.CodatCompanyID, auth.Refs.CodatConnectionID); err != nil {
		t.Fatal(err)
	}
	if err := e.emu.Deauthorize(auth.Refs.CodatCompanyID, auth.Refs.CodatConnectionID); err != nil {
		t.Fatal(err)
	}
	again, err := e.client.BeginAuthorization(ctx, conn, "s2")
	if err != nil {
		t.Fatal(err)
	}
	if again.Refs != auth.Refs {
		t.Fatalf("re-consent refs %+v, want %+v", again.Refs, auth.Refs)
	}
	authorizeLink(t, again.URL, "authorize")
	if _, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{}); err != nil {
		t.Fatalf("CompleteAuthorization after re-consent: %v", err)
	}
	cons, err := e.client.Consent(ctx, conn, provider.Session{Refs: conn.Refs})
	if err != nil || cons.Status != "Active" {
		t.Fatalf("Consent = %+v, %v; want Active", cons, err)
	}
}

// TestCancelledLinkStaysPending: a user who cancels leaves the connection
// PendingAuth, so the caller keeps waiting.
func TestCancelledLinkStaysPending(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	conn, auth := e.begin(testConn(), "s1")
	if page := authorizeLink(t, auth.URL, "cancel"); !strings.Contains(page, "User cancelled") {
		t.Fatalf("final page: %s", page)
	}
	_, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{})
	mustProviderError(t, err, provider.ClassRetryLater, "")
}

// TestConsentExpiry: a bank consent that ran out is Expired, and a pull
// fails NeedsHuman ConsentExpired.
func TestConsentExpiry(t *testing.T) {
	e2 := newEnvWithTTL(t, 90*day)
	ctx := context.Background()
	conn := linkedConn(t, e2)
	e2.clk.Advance(90 * day)
	sess := provider.Session{Refs: conn.Refs}
	cons, err := e2.client.Consent(ctx, conn, sess)
	if err != nil || cons.Status != "Expired" {
		t.Fatalf("Consent = %+v, %v; want Expired", cons, err)
	}
	_, err = e2.client.Fetch(ctx, conn, sess, provider.Fetch{Resource: provider.ResourceAccounts})
	mustProviderError(t, err, provider.ClassNeedsHuman, provider.ReasonConsentExpired)
	_, err = e2.client.CompleteAuthorization(ctx, conn, provider.Callback{})
	mustProviderError(t, err, provider.ClassNeedsHuman, provider.ReasonConsentExpired)
}

func newEnvWithTTL(t *testing.T, ttl time.Duration) *env {
	return newEnv(t, func(o *emu.Options) { o.ConsentTTL = ttl }, nil)
}

// TestConcurrentFetches: many goroutines fetching the same data type share
// one pull and all read the same data (run with -race).
func TestConcurrentFetches(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	conn := linkedConn(t, e)
	sess := provider.Session{Refs: conn.Refs}
	f := provider.Fetch{Resource: provider.ResourceAccounts}
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.client.Fetch(ctx, conn, sess, f)
			if err != nil {
				errs <- err
				return
			}
			ids[i] = res.Task.ID
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Fetch: %v", err)
	}
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("tasks %v: want one shared pull", ids)
		}
	}
	e.clk.Advance(pullDuration)
	var mu sync.Mutex
	counts := map[int]int{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := e.client.Collect(ctx, conn, sess, provider.Task{ID: ids[0]}, f)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || d == nil {
				counts[-1]++
				return
			}
			counts[len(d.Accounts)]++
		}()
	}
	wg.Wait()
	if len(counts) != 1 || counts[-1] != 0 {
		t.Fatalf("collect results by account count: %v; want all equal and no failure", counts)
	}
}

// linkedConn starts a journey and completes the link at the emulator.
func linkedConn(t *testing.T, e *env) provider.Connection {
	t.Helper()
	conn, auth := e.begin(testConn(), "")
	if err := e.emu.CompleteLink(auth.Refs.CodatCompanyID, auth.Refs.CodatConnectionID); err != nil {
		t.Fatal(err)
	}
	return conn
}
