package truelayer_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/sqlite"
)

func noLimit(o *sandbox.Options) { o.UnattendedLimit = -1 }

// TestDataV1Resources reads every v1 resource synchronously and compares it
// with the sandbox's dataset.
func TestDataV1Resources(t *testing.T) {
	e, conn, s, id := johnOnV1(t)
	ds := e.dataset(id)
	now := e.clk.Now()

	d := e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceInfo})
	who := ds.Identity()
	if len(d.Identities) != 1 {
		t.Fatalf("identities %+v", d.Identities)
	}
	if got := d.Identities[0]; got.FullName != who.FullName || got.DateOfBirth != who.DateOfBirth.Format("2006-01-02") ||
		!reflect.DeepEqual(got.Emails, []string{who.Email}) || !reflect.DeepEqual(got.Phones, []string{who.Phone}) ||
		len(got.Addresses) != 1 || got.Addresses[0].Zip != who.Address.Postcode || !got.UpdatedAt.Equal(now) {
		t.Fatalf("identity %+v, dataset %+v", got, who)
	}

	d = e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceAccounts})
	accts := accountsOf(ds, false)
	matchDataset(t, "accounts", d.Accounts, accts, func(g store.Account, a bankdata.Account) bool {
		return g.AccountID == a.ID && g.DisplayName == a.DisplayName && g.Currency == a.Currency && g.Number.IBAN == a.IBAN &&
			g.Number.Number == a.AccountNumber && g.Number.SwiftBIC == a.SwiftBIC && g.InstitutionID == "mock" &&
			g.FetchedAt.Equal(now) && g.UpdatedAt.Equal(now) && (g.Type == "TRANSACTION" || g.Type == "SAVINGS")
	})

	d = e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceCards})
	cards := accountsOf(ds, true)
	matchDataset(t, "cards", d.Cards, cards, func(g store.Card, c bankdata.Account) bool {
		return g.AccountID == c.ID && g.PartialCardNumber == c.PartialCardNumber && g.CardNetwork == c.CardNetwork &&
			g.ValidTo == c.ValidTo && g.NameOnCard == c.NameOnCard && g.FetchedAt.Equal(now)
	})

	for _, a := range ds.Accounts() {
		b, err := ds.BalanceAt(a.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		d = e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceBalance, AccountID: a.ID, Card: a.IsCard()})
		if len(d.Balances) != 1 {
			t.Fatalf("balances %+v", d.Balances)
		}
		g := d.Balances[0]
		cur := b.Current
		if a.IsCard() {
			cur = -cur // what is owed, as a positive amount
			if minor(t, g.CreditLimit) != b.CreditLimit || g.PaymentDueDate.IsZero() {
				t.Fatalf("card balance %+v, dataset %+v", g, b)
			}
		}
		if g.AccountID != a.ID || minor(t, g.Current) != cur || minor(t, g.Available) != b.Available ||
			!g.ObservedAt.Equal(b.AsOf) || !g.UpdatedAt.Equal(b.AsOf) || g.Currency != b.Currency {
			t.Fatalf("balance of %s: %+v, dataset %+v", a.ID, g, b)
		}
	}

	// Transactions of a window whose ends fall inside days holding other
	// transactions: the client asks for whole days and keeps [From, To).
	from, to := windowInsideDays(t, ds.Transactions(accts[0].ID, now.Add(-60*day), now))
	for _, a := range ds.Accounts() {
		f := provider.Fetch{Resource: provider.ResourceTransactions, AccountID: a.ID, Card: a.IsCard(), From: from, To: to}
		d = e.fetchData(conn, s, f)
		wantTransactions(t, d.Transactions, a, ds.Transactions(a.ID, from, to.Add(-time.Nanosecond)))
		if len(d.Pending) != 0 {
			t.Fatalf("booked fetch returned pending transactions")
		}

		f.Resource, f.From, f.To = provider.ResourcePending, time.Time{}, time.Time{}
		d = e.fetchData(conn, s, f)
		want := ds.Pending(a.ID, now)
		if len(d.Pending) != len(want) {
			t.Fatalf("account %s: %d pending, dataset %d", a.ID, len(d.Pending), len(want))
		}
		for i, w := range want {
			if g := d.Pending[i]; g.AccountID != a.ID || !g.Timestamp.Equal(w.Timestamp) || g.Description != w.Description {
				t.Fatalf("pending %d: %+v, dataset %+v", i, g, w)
			}
		}
	}

	main := accts[0]
	d = e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceStandingOrders, AccountID: main.ID})
	wantSO := ds.StandingOrders(main.ID, now)
	matchDataset(t, "standing orders", d.StandingOrders, wantSO, func(g store.StandingOrder, w bankdata.StandingOrder) bool {
		return g.AccountID == main.ID && g.Payee == w.Payee && g.Reference == w.Reference && g.Frequency == w.Frequency &&
			minor(t, g.NextPaymentAmount) == w.Amount && g.NextPaymentDate.Equal(w.NextPaymentDate) &&
			(w.FinalPaymentDate.IsZero() == g.FinalPaymentDate.IsZero()) && len(g.Meta) != 0
	})
	d = e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceDirectDebits, AccountID: main.ID})
	wantDD := ds.DirectDebits(main.ID, now)
	matchDataset(t, "direct debits", d.DirectDebits, wantDD, func(g store.DirectDebit, w bankdata.DirectDebit) bool {
		return g.AccountID == main.ID && g.DirectDebitID == w.ID && g.Name == w.Name && g.Status == w.Status &&
			(w.PreviousPaymentTime.IsZero() == (g.PreviousPaymentAmount == ""))
	})

	// Cards have no standing orders: refused before any call.
	before := e.calls(id, "")
	_, err := e.client.Fetch(context.Background(), conn, s, provider.Fetch{Resource: provider.ResourceStandingOrders, AccountID: cards[0].ID, Card: true})
	wantErr(t, err, provider.ClassInvalidRequest, "")
	if e.calls(id, "") != before {
		t.Fatalf("an invalid fetch called the provider")
	}
}

// TestDataV1TransactionsStoreWithoutDuplicates fetches one window twice,
// and overlapping windows, and stores everything in a real SQLite store:
// the rows equal the dataset's window, the ids are stable.
func TestDataV1TransactionsStoreWithoutDuplicates(t *testing.T) {
	e, conn, s, id := johnOnV1(t)
	ds := e.dataset(id)
	now := e.clk.Now()
	acct := accountsOf(ds, false)[0]

	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir()+"/data.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	owner := store.Owner{Namespace: conn.Namespace, Connection: conn.Name, UID: "uid-" + conn.Name, UserRef: conn.UserRef, Provider: "truelayer"}

	start := now.Add(-60 * day).Truncate(day)
	f := provider.Fetch{Resource: provider.ResourceTransactions, AccountID: acct.ID, From: start, To: now}
	first := e.fetchData(conn, s, f).Transactions
	second := e.fetchData(conn, s, f).Transactions
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("two fetches of one window differ")
	}
	res, err := st.UpsertTransactions(ctx, owner, first)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != len(first) || len(first) == 0 {
		t.Fatalf("first store %+v of %d", res, len(first))
	}
	// Overlapping windows (a later run from the watermark minus an overlap).
	for _, w := range [][2]time.Time{{start, start.Add(25 * day)}, {start.Add(20*day + 7*time.Hour), now}} {
		part := e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceTransactions, AccountID: acct.ID, From: w[0], To: w[1]})
		res, err := st.UpsertTransactions(ctx, owner, part.Transactions)
		if err != nil {
			t.Fatal(err)
		}
		if res.Inserted != 0 || res.Unchanged != len(part.Transactions) {
			t.Fatalf("re-storing an overlapping window changed rows: %+v of %d", res, len(part.Transactions))
		}
	}
	stored, err := st.ListTransactions(ctx, store.TransactionQuery{Key: owner.Key(), AccountID: acct.ID})
	if err != nil {
		t.Fatal(err)
	}
	wantTransactions(t, stored, acct, ds.Transactions(acct.ID, start, now.Add(-time.Nanosecond)))
}

// TestDataV1Async: every resource fetched with async=true is collected from
// results_uri and equals the synchronous answer.
func TestDataV1Async(t *testing.T) {
	e, conn, s, id := johnOnV1(t)
	ds := e.dataset(id)
	now := e.clk.Now()
	acct, card := accountsOf(ds, false)[0], accountsOf(ds, true)[0]
	ctx := context.Background()

	fetches := []provider.Fetch{
		{Resource: provider.ResourceInfo},
		{Resource: provider.ResourceAccounts},
		{Resource: provider.ResourceCards},
		{Resource: provider.ResourceBalance, AccountID: acct.ID},
		{Resource: provider.ResourceBalance, AccountID: card.ID, Card: true},
		{Resource: provider.ResourceTransactions, AccountID: acct.ID, From: now.Add(-30 * day), To: now},
		{Resource: provider.ResourceTransactions, AccountID: card.ID, Card: true, From: now.Add(-30 * day), To: now},
		{Resource: provider.ResourcePending, AccountID: acct.ID},
		{Resource: provider.ResourceStandingOrders, AccountID: acct.ID},
		{Resource: provider.ResourceDirectDebits, AccountID: acct.ID},
	}
	for _, f := range fetches {
		t.Run(string(f.Resource)+"/"+f.AccountID, func(t *testing.T) {
			want := e.fetchData(conn, s, f)
			f.Async = true
			res, err := e.client.Fetch(ctx, conn, s, f)
			if err != nil {
				t.Fatal(err)
			}
			if res.Task == nil || res.Data != nil || res.Task.ID == "" || res.Task.ResultsURI != e.hs.URL+"/data/v1/results/"+res.Task.ID {
				t.Fatalf("async fetch answered %+v", res)
			}
			got, err := e.client.Collect(ctx, conn, s, *res.Task, f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("async results differ from the synchronous answer:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestDataV1AsyncWebhook: with a webhook URI the sandbox posts the webhook
// to a real receiver; its results_uri is then collected.
func TestDataV1AsyncWebhook(t *testing.T) {
	e, conn, s, id := johnOnV1(t)
	hook := newWebhookReceiver(t)
	ds := e.dataset(id)
	now := e.clk.Now()
	acct := accountsOf(ds, false)[0]
	ctx := context.Background()

	f := provider.Fetch{Resource: provider.ResourceTransactions, AccountID: acct.ID, From: now.Add(-20 * day), To: now, WebhookURI: hook.uri}
	res, err := e.client.Fetch(ctx, conn, s, f)
	if err != nil {
		t.Fatal(err)
	}
	if res.Task == nil {
		t.Fatalf("want a task, got %+v", res)
	}
	wh := hook.next(t)
	if wh["task_id"] != res.Task.ID || wh["status"] != "Succeeded" || wh["results_uri"] != res.Task.ResultsURI || wh["credentials_id"] != id {
		t.Fatalf("webhook %v for task %+v", wh, res.Task)
	}
	got, err := e.client.Collect(ctx, conn, s, provider.Task{ID: wh["task_id"], ResultsURI: wh["results_uri"]}, f)
	if err != nil {
		t.Fatal(err)
	}
	wantTransactions(t, got.Transactions, acct, ds.Transactions(acct.ID, f.From, now.Add(-time.Nanosecond)))
}

// TestDataV1AsyncNotReady: Collect answers (nil, nil) while the task runs,
// and never sends the user's token to a results URI on another host.
func TestDataV1AsyncNotReady(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.AsyncDelay = time.Hour }, nil)
	var stolen atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { stolen.Add(1) }))
	t.Cleanup(evil.Close)
	conn := dataConn(e, truelayer.DataAPIV1)
	s, _ := e.connectAs(conn, "john", "doe")
	ctx := context.Background()

	f := provider.Fetch{Resource: provider.ResourceAccounts, Async: true}
	res, err := e.client.Fetch(ctx, conn, s, f)
	if err != nil || res.Task == nil {
		t.Fatalf("fetch: %+v %v", res, err)
	}
	for _, task := range []provider.Task{*res.Task, {ID: res.Task.ID, ResultsURI: evil.URL + "/data/v1/results/" + res.Task.ID}} {
		d, err := e.client.Collect(ctx, conn, s, task, f)
		if err != nil || d != nil {
			t.Fatalf("collect of a running task: %+v %v", d, err)
		}
	}
	if stolen.Load() != 0 {
		t.Fatalf("the client followed a results URI on another host")
	}
	_, err = e.client.Collect(ctx, conn, s, provider.Task{ID: "00000000-0000-0000-0000-000000000000"}, f)
	wantErr(t, err, provider.ClassInvalidRequest, "")
}

// TestDataV1AsyncFailed: a task that fails is classified like a
// synchronous answer with the same error.
func TestDataV1AsyncFailed(t *testing.T) {
	for _, tc := range []struct {
		code   string
		class  provider.Class
		reason string
	}{
		{"sca_exceeded", provider.ClassInvalidRequest, provider.ReasonSCAExceeded},
		{"provider_error", provider.ClassRetryLater, ""},
		{"provider_request_limit_exceeded", provider.ClassRateLimited, ""},
	} {
		t.Run(tc.code, func(t *testing.T) {
			e := newEnv(t, noLimit, nil)
			conn := dataConn(e, truelayer.DataAPIV1)
			s, _ := e.connectAs(conn, "error."+tc.code, "error")
			f := provider.Fetch{Resource: provider.ResourceAccounts, Async: true}
			res, err := e.client.Fetch(context.Background(), conn, s, f)
			if err != nil || res.Task == nil {
				t.Fatalf("fetch: %+v %v", res, err)
			}
			_, err = e.client.Collect(context.Background(), conn, s, *res.Task, f)
			if pe := wantErr(t, err, tc.class, tc.reason); pe.Code != tc.code {
				t.Fatalf("code %q", pe.Code)
			}
			noSecrets(t, err, s.Tokens.AccessToken)
		})
	}
}

// TestDataV1UnattendedLimit: the sandbox refuses the 5th unattended call to
// one account's endpoint in 24 h; calls with the user's IP are attended and
// not limited.
func TestDataV1UnattendedLimit(t *testing.T) {
	e := newEnv(t, nil, nil)
	conn := dataConn(e, truelayer.DataAPIV1)
	s, id := e.connectAs(conn, "john", "doe")
	ds := e.dataset(id)
	accts := accountsOf(ds, false)
	ctx := context.Background()
	endpoint := "GET /data/v1/accounts/{account_id}/balance"

	unattended := provider.Fetch{Resource: provider.ResourceBalance, AccountID: accts[0].ID}
	for i := 1; i <= 5; i++ {
		_, err := e.client.Fetch(ctx, conn, s, unattended)
		if i < 5 && err != nil {
			t.Fatalf("unattended call %d: %v", i, err)
		}
		if i == 5 {
			if pe := wantErr(t, err, provider.ClassRateLimited, ""); pe.Code != "provider_request_limit_exceeded" || pe.Status != 429 {
				t.Fatalf("5th call: %v", pe)
			}
		}
	}
	attended := provider.Fetch{Resource: provider.ResourceBalance, AccountID: accts[1].ID, PSUIP: "203.0.113.7"}
	for i := 1; i <= 5; i++ {
		if _, err := e.client.Fetch(ctx, conn, s, attended); err != nil {
			t.Fatalf("attended call %d: %v", i, err)
		}
	}
	yes, no := true, false
	if n := e.srv.CallTotal(sandbox.CallFilter{Connection: id, Endpoint: endpoint, Attended: &no}); n != 5 {
		t.Fatalf("%d unattended calls, want 5", n)
	}
	if n := e.srv.CallTotal(sandbox.CallFilter{Connection: id, Endpoint: endpoint, Attended: &yes}); n != 5 {
		t.Fatalf("%d attended calls, want 5", n)
	}
	// A day later the unattended allowance is back.
	e.clk.Advance(24*time.Hour + time.Second)
	s = e.refreshed(conn, s)
	if _, err := e.client.Fetch(ctx, conn, s, unattended); err != nil {
		t.Fatalf("after 24 h: %v", err)
	}
}

// refreshed returns a session with a fresh access token.
func (e *env) refreshed(conn provider.Connection, s provider.Session) provider.Session {
	e.t.Helper()
	tok, err := e.client.Refresh(context.Background(), conn, s.Tokens.RefreshToken)
	if err != nil {
		e.t.Fatalf("refresh: %v", err)
	}
	return provider.Session{Tokens: &tok}
}

// TestDataV1UnattendedNotRetried: a 5xx answer to an unattended call is not
// repeated by the client (the bank counts failed calls too); an attended
// call is.
func TestDataV1UnattendedNotRetried(t *testing.T) {
	e, conn, s, id := johnOnV1(t)
	acct := accountsOf(e.dataset(id), false)[0]
	ctx := context.Background()
	endpoint := "GET /data/v1/accounts/{account_id}/balance"

	if _, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_error", Endpoint: endpoint, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Fetch(ctx, conn, s, provider.Fetch{Resource: provider.ResourceBalance, AccountID: acct.ID})
	wantErr(t, err, provider.ClassRetryLater, "")
	if n := e.calls(id, endpoint); n != 1 {
		t.Fatalf("unattended call sent %d times", n)
	}

	e.srv.ResetCalls()
	if _, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_error", Endpoint: endpoint, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Fetch(ctx, conn, s, provider.Fetch{Resource: provider.ResourceBalance, AccountID: acct.ID, PSUIP: "2001:db8::7"}); err != nil {
		t.Fatalf("attended call after one 503: %v", err)
	}
	if n := e.calls(id, endpoint); n != 2 {
		t.Fatalf("attended call sent %d times, want 2 (one retry)", n)
	}
}

// TestDataV1Errors: injected and real error answers of data calls.
func TestDataV1Errors(t *testing.T) {
	const endpoint = "GET /data/v1/accounts/{account_id}/transactions"
	for _, tc := range []struct {
		code   string
		class  provider.Class
		reason string
	}{
		{"provider_request_limit_exceeded", provider.ClassRateLimited, ""},
		{"provider_too_many_requests", provider.ClassRateLimited, ""},
		{"sca_exceeded", provider.ClassInvalidRequest, provider.ReasonSCAExceeded},
		{"access_denied", provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired},
		{"invalid_date_range", provider.ClassInvalidRequest, ""},
		{"account_not_found", provider.ClassInvalidRequest, ""},
		{"endpoint_not_supported", provider.ClassInvalidRequest, ""},
		{"provider_error", provider.ClassRetryLater, ""},
		{"connector_timeout", provider.ClassRetryLater, ""},
		{"invalid_token", provider.ClassRetryLater, provider.ReasonAccessTokenRejected},
	} {
		t.Run(tc.code, func(t *testing.T) {
			e := newEnv(t, noLimit, func(o *truelayer.Options) { o.HTTP.MaxRetries = -1 })
			conn := dataConn(e, truelayer.DataAPIV1)
			s, id := e.connectAs(conn, "john", "doe")
			acct := accountsOf(e.dataset(id), false)[0]
			if _, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: tc.code, Endpoint: endpoint, Connection: id}); err != nil {
				t.Fatal(err)
			}
			now := e.clk.Now()
			_, err := e.client.Fetch(context.Background(), conn, s,
				provider.Fetch{Resource: provider.ResourceTransactions, AccountID: acct.ID, From: now.Add(-day), To: now})
			if pe := wantErr(t, err, tc.class, tc.reason); pe.Code != tc.code || pe.Op != "fetch transactions" {
				t.Fatalf("error %v", pe)
			}
			noSecrets(t, err, s.Tokens.AccessToken)
		})
	}

	t.Run("real", func(t *testing.T) {
		e, conn, s, id := johnOnV1(t)
		acct := accountsOf(e.dataset(id), false)[0]
		ctx := context.Background()
		now := e.clk.Now()
		fetch := func(from time.Time) error {
			_, err := e.client.Fetch(ctx, conn, s, provider.Fetch{Resource: provider.ResourceTransactions, AccountID: acct.ID, From: from, To: now})
			return err
		}
		// Older than 60 months: invalid_date_range.
		if pe := wantErr(t, fetch(now.AddDate(-6, 0, 0)), provider.ClassInvalidRequest, ""); pe.Code != "invalid_date_range" {
			t.Fatalf("%v", pe)
		}
		// Deep history right after the consent works; after the SCA window
		// it is sca_exceeded.
		if err := fetch(now.Add(-200 * day)); err != nil {
			t.Fatalf("within the SCA window: %v", err)
		}
		e.clk.Advance(10 * time.Minute)
		now = e.clk.Now()
		if pe := wantErr(t, fetch(now.Add(-200*day)), provider.ClassInvalidRequest, provider.ReasonSCAExceeded); pe.Code != "sca_exceeded" {
			t.Fatalf("%v", pe)
		}
		// A window starting at a UTC midnight within 90 days stays allowed.
		if err := fetch(now.Add(-89 * day).Truncate(day)); err != nil {
			t.Fatalf("89 days: %v", err)
		}
		// A revoked consent.
		conn.ConsentExpiresAt = t0.Add(90 * day)
		if err := e.srv.RevokeConnection(id); err != nil {
			t.Fatal(err)
		}
		if pe := wantErr(t, fetch(now.Add(-day)), provider.ClassNeedsHuman, provider.ReasonConsentRevoked); pe.Code != "access_denied" {
			t.Fatalf("%v", pe)
		}
	})
}

// TestDataFetchValidation: requests that cannot be sent are refused without
// calling TrueLayer.
func TestDataFetchValidation(t *testing.T) {
	e := newEnv(t, nil, nil)
	conn := dataConn(e, truelayer.DataAPIV1)
	s, _ := e.connectAs(conn, "john", "doe")
	now := e.clk.Now()
	for name, f := range map[string]provider.Fetch{
		"no account":       {Resource: provider.ResourceBalance},
		"unknown resource": {Resource: "loans"},
		"bad PSU IP":       {Resource: provider.ResourceAccounts, PSUIP: "203.0.113.7\r\nX-Evil: 1"},
		"bad webhook":      {Resource: provider.ResourceAccounts, WebhookURI: "ftp://example.test/hook"},
		"empty window":     {Resource: provider.ResourceTransactions, AccountID: "a", From: now, To: now},
	} {
		t.Run(name, func(t *testing.T) {
			before := e.srv.CallTotal(sandbox.CallFilter{})
			_, err := e.client.Fetch(context.Background(), conn, s, f)
			wantErr(t, err, provider.ClassInvalidRequest, "")
			if e.srv.CallTotal(sandbox.CallFilter{}) != before {
				t.Fatalf("the provider was called")
			}
		})
	}
	t.Run("future window", func(t *testing.T) {
		before := e.srv.CallTotal(sandbox.CallFilter{})
		d := e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceTransactions, AccountID: "a", From: now.Add(2 * day), To: now.Add(3 * day)})
		if len(d.Transactions) != 0 || e.srv.CallTotal(sandbox.CallFilter{}) != before {
			t.Fatalf("a window in the future: %+v", d)
		}
	})
	t.Run("no token", func(t *testing.T) {
		_, err := e.client.Fetch(context.Background(), conn, provider.Session{}, provider.Fetch{Resource: provider.ResourceAccounts})
		wantErr(t, err, provider.ClassInvalidRequest, "")
	})
}
