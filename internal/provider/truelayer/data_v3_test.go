package truelayer_test

import (
	"context"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/store"
)

const (
	endpointTxCreate = "POST /v3/connected-accounts/{account_id}/transactions/requests"
	endpointTxGet    = "GET /v3/connected-accounts/{account_id}/transactions/requests/{request_id}"
)

func mediumDataset(o *sandbox.Options) { o.DatasetSize = bankdata.SizeMedium }

// connectV3 creates and authorises a v3 data connection.
func (e *env) connectV3() (provider.Connection, string) {
	e.t.Helper()
	ctx := context.Background()
	conn := v3Conn(e)
	auth, err := e.client.BeginAuthorization(ctx, conn, "unused-state")
	if err != nil {
		e.t.Fatal(err)
	}
	conn.Refs = auth.Refs
	if err := e.srv.AuthorizeV3(auth.Refs.DataConnectionID, "john", "doe"); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{}); err != nil {
		e.t.Fatal(err)
	}
	return conn, auth.Refs.DataConnectionID
}

// wantV3Transactions compares fetched v3 transactions with the dataset's,
// in any order (the API pages newest first).
func wantV3Transactions(t *testing.T, got []store.Transaction, acct bankdata.Account, want []bankdata.Transaction) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("account %s: %d transactions, the dataset has %d", acct.ID, len(got), len(want))
	}
	byID := map[string]store.Transaction{}
	for _, g := range got {
		if _, dup := byID[g.NormalisedProviderTransactionID]; dup {
			t.Fatalf("duplicate transaction %s", g.NormalisedProviderTransactionID)
		}
		byID[g.NormalisedProviderTransactionID] = g
	}
	for _, w := range want {
		g, ok := byID[w.ID]
		typ := "CREDIT"
		if w.Amount < 0 {
			typ = "DEBIT"
		}
		if !ok || g.AccountID != acct.ID || !g.Timestamp.Equal(w.Timestamp) || minor(t, g.Amount) != w.Amount ||
			g.Currency != w.Currency || g.Type != typ || g.Description != w.Description || g.MerchantName != w.MerchantName ||
			g.Category != w.CategoryCode {
			t.Fatalf("transaction %s:\n got %+v\nwant %+v", w.ID, g, w)
		}
	}
}

func TestDataV3AccountsAndInfo(t *testing.T) {
	e := newEnv(t, nil, nil)
	conn, id := e.connectV3()
	ds := e.dataset(id)
	sess := provider.Session{Refs: conn.Refs}

	d := e.fetchData(conn, sess, provider.Fetch{Resource: provider.ResourceAccounts})
	accts := accountsOf(ds, false)
	sort.Slice(accts, func(i, j int) bool { return accts[i].ID < accts[j].ID }) // the API's order
	if len(d.Accounts) != len(accts) || len(d.Cards) != 0 {
		t.Fatalf("accounts %+v", d)
	}
	for i, a := range accts {
		g := d.Accounts[i]
		typ := "current"
		if a.Kind == bankdata.KindSavings {
			typ = "savings"
		}
		if g.AccountID != a.ID || g.Type != typ || g.Currency != a.Currency || g.Number.IBAN != a.IBAN ||
			g.Number.SortCode != a.SortCode || g.Number.Number != a.AccountNumber || g.Number.SwiftBIC == "" ||
			!g.FetchedAt.Equal(e.clk.Now()) || len(g.Meta) == 0 {
			t.Fatalf("account %d: %+v, dataset %+v", i, g, a)
		}
	}
	d = e.fetchData(conn, sess, provider.Fetch{Resource: provider.ResourceCards})
	cards := accountsOf(ds, true)
	if len(d.Cards) != len(cards) || d.Cards[0].AccountID != cards[0].ID || len(d.Accounts) != 0 {
		t.Fatalf("cards %+v", d)
	}
	d = e.fetchData(conn, sess, provider.Fetch{Resource: provider.ResourceInfo})
	if len(d.Identities) != 1 || d.Identities[0].FullName != ds.Identity().FullName {
		t.Fatalf("identities %+v", d.Identities)
	}

	// Resources v3 does not have are refused without a call.
	before := e.srv.CallTotal(sandbox.CallFilter{})
	for _, r := range []provider.Resource{provider.ResourceBalance, provider.ResourcePending, provider.ResourceStandingOrders, provider.ResourceDirectDebits} {
		_, err := e.client.Fetch(context.Background(), conn, sess, provider.Fetch{Resource: r, AccountID: accts[0].ID})
		wantErr(t, err, provider.ClassInvalidRequest, "")
	}
	if e.srv.CallTotal(sandbox.CallFilter{}) != before {
		t.Fatalf("an unsupported fetch called the provider")
	}
}

// TestDataV3TransactionPages: a window larger than one page is collected
// across cursor pages and equals the dataset; only the first page counts
// against the unattended allowance.
func TestDataV3TransactionPages(t *testing.T) {
	e := newEnv(t, mediumDataset, nil)
	conn, id := e.connectV3()
	ds := e.dataset(id)
	sess := provider.Session{Refs: conn.Refs}
	now := e.clk.Now()
	acct := accountsOf(ds, false)[0]
	ctx := context.Background()

	from, to := windowInsideDays(t, ds.Transactions(acct.ID, now.Add(-900*day), now.Add(-10*day)))
	f := provider.Fetch{Resource: provider.ResourceTransactions, AccountID: acct.ID, From: from, To: to}
	want := ds.Transactions(acct.ID, from, to.Add(-time.Nanosecond))
	pages := len(want)/500 + 1
	if pages < 3 {
		t.Fatalf("the window holds %d transactions: too few to need 3 pages", len(want))
	}

	first := e.fetchData(conn, sess, f)
	wantV3Transactions(t, first.Transactions, acct, want)
	pending := ds.Pending(acct.ID, now)
	if len(first.Pending) != len(pending) || len(pending) == 0 {
		t.Fatalf("%d pending, dataset %d", len(first.Pending), len(pending))
	}
	for _, p := range first.Pending {
		if p.AccountID != acct.ID || p.NormalisedProviderTransactionID == "" {
			t.Fatalf("pending %+v", p)
		}
	}
	if n := e.calls(id, endpointTxCreate); n < int64(pages) {
		t.Fatalf("%d transaction requests for %d+ pages", n, pages)
	}

	// Async: the request is a Task; Collect follows the pages.
	f.Async = true
	res, err := e.client.Fetch(ctx, conn, sess, f)
	if err != nil || res.Task == nil || res.Data != nil {
		t.Fatalf("async fetch: %+v %v", res, err)
	}
	got, err := e.client.Collect(ctx, conn, sess, *res.Task, f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Fatalf("async collection differs from the synchronous fetch")
	}
	// Collecting again reads the same pages again.
	again, err := e.client.Collect(ctx, conn, sess, *res.Task, f)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("second collect: %v", err)
	}

	// Two windows fetched so far, each with several pages: the cursor pages
	// did not use the allowance, so two more full windows pass and the
	// fifth first page is refused.
	f.Async = false
	for i := 3; i <= 5; i++ {
		_, err := e.client.Fetch(ctx, conn, sess, f)
		if i < 5 && err != nil {
			t.Fatalf("window %d: %v", i, err)
		}
		if i == 5 {
			if pe := wantErr(t, err, provider.ClassRateLimited, ""); pe.Code != "rate-limit-exceeded" {
				t.Fatalf("%v", pe)
			}
		}
	}
	f.PSUIP = "198.51.100.4"
	d := e.fetchData(conn, sess, f)
	wantV3Transactions(t, d.Transactions, acct, want)
}

func TestDataV3Errors(t *testing.T) {
	for _, tc := range []struct {
		code   string
		class  provider.Class
		reason string
	}{
		{"provider_request_limit_exceeded", provider.ClassRateLimited, ""},
		{"provider_error", provider.ClassRetryLater, ""},
		{"access_denied", provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired},
		{"validation_error", provider.ClassInvalidRequest, ""},
	} {
		t.Run(tc.code, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			conn, id := e.connectV3()
			acct := accountsOf(e.dataset(id), false)[0]
			if _, err := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: tc.code, Endpoint: endpointTxCreate}); err != nil {
				t.Fatal(err)
			}
			now := e.clk.Now()
			_, err := e.client.Fetch(context.Background(), conn, provider.Session{Refs: conn.Refs},
				provider.Fetch{Resource: provider.ResourceTransactions, AccountID: acct.ID, From: now.Add(-day), To: now})
			wantErr(t, err, tc.class, tc.reason)
			noSecrets(t, err, testSecret)
		})
	}
	t.Run("revoked", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		conn, id := e.connectV3()
		if err := e.srv.RevokeConnection(id); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.Fetch(context.Background(), conn, provider.Session{Refs: conn.Refs}, provider.Fetch{Resource: provider.ResourceAccounts})
		// invalid_state does not say why the connection ended.
		if pe := wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired); pe.Code != "invalid_state" {
			t.Fatalf("%v", pe)
		}
	})
	t.Run("no window start", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		conn, _ := e.connectV3()
		_, err := e.client.Fetch(context.Background(), conn, provider.Session{Refs: conn.Refs},
			provider.Fetch{Resource: provider.ResourceTransactions, AccountID: "a"})
		wantErr(t, err, provider.ClassInvalidRequest, "")
	})
	t.Run("no data connection", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		_, err := e.client.Fetch(context.Background(), v3Conn(e), provider.Session{}, provider.Fetch{Resource: provider.ResourceAccounts})
		wantErr(t, err, provider.ClassInvalidRequest, "")
	})
}
