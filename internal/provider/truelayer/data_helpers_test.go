package truelayer_test

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/store"
)

// dataConn is a V1 connection asking for every v1 data scope.
func dataConn(e *env, api string) provider.Connection {
	c := e.conn(api)
	c.Scopes = []string{"info", "accounts", "balance", "transactions", "cards", "standing_orders", "direct_debits"}
	if api == truelayer.DataAPISignupPlus {
		c.Scopes = append(c.Scopes, "signupplus")
	}
	return c
}

// johnOnV1 is the setup of most v1 data tests: the sandbox user john
// connected over Data API v1, on a sandbox without rate limits; id is his
// credentials id (the key of his dataset).
func johnOnV1(t *testing.T) (e *env, conn provider.Connection, s provider.Session, id string) {
	t.Helper()
	e = newEnv(t, noLimit, nil)
	conn = dataConn(e, truelayer.DataAPIV1)
	s, id = e.connectAs(conn, "john", "doe")
	return e, conn, s, id
}

// connectAs completes a V1/SignupPlus journey as a given mock-bank user.
func (e *env) connectAs(conn provider.Connection, user, password string) (provider.Session, string) {
	e.t.Helper()
	ctx := context.Background()
	code, err := e.srv.Authorize(sandbox.AuthorizeRequest{
		ClientID: testClientID, RedirectURI: testRedirect, Scopes: append(conn.Scopes, "offline_access"),
		Username: user, Password: password,
	})
	if err != nil {
		e.t.Fatalf("sandbox Authorize: %v", err)
	}
	g, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{Code: code})
	if err != nil {
		e.t.Fatalf("CompleteAuthorization: %v", err)
	}
	info, ok := e.srv.ConnectionByRefreshToken(g.Tokens.RefreshToken)
	if !ok {
		e.t.Fatalf("the sandbox does not know the refresh token")
	}
	return provider.Session{Tokens: g.Tokens}, info.ID
}

// dataset returns the sandbox's data behind a connection.
func (e *env) dataset(id string) *bankdata.Dataset {
	e.t.Helper()
	ds, ok := e.srv.ConnectionDataset(id)
	if !ok {
		e.t.Fatalf("no dataset for connection %s", id)
	}
	return ds
}

func accountsOf(ds *bankdata.Dataset, cards bool) []bankdata.Account {
	var out []bankdata.Account
	for _, a := range ds.Accounts() {
		if a.IsCard() == cards {
			out = append(out, a)
		}
	}
	return out
}

// fetchData makes a synchronous fetch and fails unless it answered Data.
func (e *env) fetchData(conn provider.Connection, s provider.Session, f provider.Fetch) *provider.Data {
	e.t.Helper()
	res, err := e.client.Fetch(context.Background(), conn, s, f)
	if err != nil {
		e.t.Fatalf("Fetch %s %s: %v", f.Resource, f.AccountID, err)
	}
	if res.Data == nil || res.Task != nil {
		e.t.Fatalf("Fetch %s: want Data, got %+v", f.Resource, res)
	}
	return res.Data
}

// minor reads an Amount as minor units (two decimals), exactly.
func minor(t *testing.T, a store.Amount) int64 {
	t.Helper()
	r, ok := new(big.Rat).SetString(string(a))
	if !ok {
		t.Fatalf("amount %q is not a decimal", a)
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() {
		t.Fatalf("amount %q has more than two decimals", a)
	}
	return r.Num().Int64()
}

// wantTransactions compares fetched booked transactions with the dataset's,
// in order, field by field.
func wantTransactions(t *testing.T, got []store.Transaction, acct bankdata.Account, want []bankdata.Transaction) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("account %s: %d transactions, the dataset has %d", acct.ID, len(got), len(want))
	}
	ids := map[string]bool{}
	for i, w := range want {
		g := got[i]
		amt := w.Amount
		if acct.IsCard() {
			amt = -amt // card purchases are positive DEBITs in v1
		}
		if g.AccountID != acct.ID || g.NormalisedProviderTransactionID != w.NormalisedID || g.ProviderTransactionID != w.ProviderID ||
			!g.Timestamp.Equal(w.Timestamp) || minor(t, g.Amount) != amt || g.Currency != w.Currency || g.Type != string(w.Type) ||
			g.Description != w.Description || g.Category != w.Category || g.MerchantName != w.MerchantName ||
			len(g.Classification) != len(w.Classification) {
			t.Fatalf("transaction %d:\n got %+v\nwant %+v", i, g, w)
		}
		if !acct.IsCard() && (g.RunningBalance == nil || minor(t, g.RunningBalance.Amount) != w.RunningBalance) {
			t.Fatalf("transaction %d: running balance %+v, want %d", i, g.RunningBalance, w.RunningBalance)
		}
		if ids[g.NormalisedProviderTransactionID] {
			t.Fatalf("duplicate transaction id %s", g.NormalisedProviderTransactionID)
		}
		ids[g.NormalisedProviderTransactionID] = true
	}
}

// windowInsideDays picks a window over txs (ascending) that starts at a
// transaction preceded by another on the same UTC day, and ends at a
// transaction (excluded, To being exclusive): whole-day requests return
// more than the window, so a missing filter would show.
func windowInsideDays(t *testing.T, txs []bankdata.Transaction) (from, to time.Time) {
	t.Helper()
	sameDay := func(a, b time.Time) bool {
		return a.UTC().Truncate(24 * time.Hour).Equal(b.UTC().Truncate(24 * time.Hour))
	}
	for i := 1; i < len(txs); i++ {
		if sameDay(txs[i-1].Timestamp, txs[i].Timestamp) && txs[i-1].Timestamp.Before(txs[i].Timestamp) {
			from = txs[i].Timestamp
			break
		}
	}
	for j := len(txs) - 1; j > 0; j-- {
		if !from.IsZero() && txs[j].Timestamp.After(from.Add(7*24*time.Hour)) {
			to = txs[j].Timestamp
			break
		}
	}
	if from.IsZero() || to.IsZero() {
		t.Fatalf("the dataset has no window with two transactions on one day")
	}
	return from, to
}

// webhookReceiver is an HTTP endpoint that hands each POSTed body to a channel.
type webhookReceiver struct {
	hs  *httptest.Server
	got chan map[string]string
	uri string
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	t.Helper()
	w := &webhookReceiver{got: make(chan map[string]string, 16)}
	w.hs = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		w.got <- body
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(w.hs.Close)
	w.uri = w.hs.URL + "/webhooks/truelayer/run-token-1"
	return w
}

// next waits for a webhook; the bound only stops a broken test from hanging.
func (w *webhookReceiver) next(t *testing.T) map[string]string {
	t.Helper()
	select {
	case b := <-w.got:
		return b
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook arrived")
		return nil
	}
}

// matchDataset fails t unless got holds one entry per entry of want, which is
// not empty, in the same order and each the same as its dataset entry by same.
// what names the entries (plural) in messages.
func matchDataset[G, W any](t *testing.T, what string, got []G, want []W, same func(G, W) bool) {
	t.Helper()
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d %s, dataset %d", len(got), what, len(want))
	}
	for i, w := range want {
		if !same(got[i], w) {
			t.Fatalf("%s[%d]: %+v, dataset %+v", what, i, got[i], w)
		}
	}
}
