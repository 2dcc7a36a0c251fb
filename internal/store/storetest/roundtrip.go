package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// testRoundTrip writes one record of each kind with every field set and
// reads back exactly what was written.
func testRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "alice-lloyds", "user-alice")
	key := o.Key()

	accounts := []store.Account{fullAccount("acc-2"), fullAccount("acc-1")}
	_, err := s.UpsertAccounts(ctx, o, accounts)
	must(t, "upsert accounts", err)
	got, err := s.ListAccounts(ctx, key)
	must(t, "list accounts", err)
	equalRecords(t, "accounts", got, []store.Account{accounts[1], accounts[0]})

	cards := []store.Card{fullCard("card-1")}
	_, err = s.UpsertCards(ctx, o, cards)
	must(t, "upsert cards", err)
	gotCards, err := s.ListCards(ctx, key)
	must(t, "list cards", err)
	equalRecords(t, "cards", gotCards, cards)

	balances := []store.Balance{fullBalance("acc-1", Base)}
	_, err = s.AppendBalances(ctx, o, balances)
	must(t, "append balances", err)
	gotBalances, err := s.ListBalances(ctx, key, "acc-1")
	must(t, "list balances", err)
	if len(gotBalances) != 1 || gotBalances[0] != balances[0] {
		t.Fatalf("balances: got %+v, want %+v", gotBalances, balances)
	}

	txs := Transactions("acc-1", 3, Base)
	txs[1].RunningBalance = nil
	txs[1].Meta = nil
	txs[1].Classification = nil
	txs[2].Amount = "1234567890123.456789" // exact, beyond float64's digits
	_, err = s.UpsertTransactions(ctx, o, txs)
	must(t, "upsert transactions", err)
	gotTxs, err := s.ListTransactions(ctx, store.TransactionQuery{Key: key})
	must(t, "list transactions", err)
	equalRecords(t, "transactions", gotTxs, txs)

	pending := Transactions("acc-1", 2, Base.Add(time.Hour))
	pending[0].NormalisedProviderTransactionID = "" // pending rows may lack a stable id
	must(t, "replace pending", s.ReplacePending(ctx, o, "acc-1", Base, pending))
	gotPending, err := s.ListPending(ctx, key, "acc-1")
	must(t, "list pending", err)
	equalRecords(t, "pending", gotPending, pending)

	orders := []store.StandingOrder{fullStandingOrder("acc-1", 0), fullStandingOrder("acc-1", 1)}
	must(t, "replace standing orders", s.ReplaceStandingOrders(ctx, o, "acc-1", Base, orders))
	gotOrders, err := s.ListStandingOrders(ctx, key, "acc-1")
	must(t, "list standing orders", err)
	equalRecords(t, "standing orders", gotOrders, orders)

	debits := []store.DirectDebit{fullDirectDebit("acc-1", 0)}
	must(t, "replace direct debits", s.ReplaceDirectDebits(ctx, o, "acc-1", Base, debits))
	gotDebits, err := s.ListDirectDebits(ctx, key, "acc-1")
	must(t, "list direct debits", err)
	equalRecords(t, "direct debits", gotDebits, debits)

	ids := []store.Identity{fullIdentity("Sherlock Holmes")}
	must(t, "replace identity", s.ReplaceIdentity(ctx, o, "", Base, ids))
	gotIDs, err := s.ListIdentity(ctx, key, "")
	must(t, "list identity", err)
	equalRecords(t, "identity", gotIDs, ids)

	want := store.Counts{Accounts: 2, Cards: 1, Balances: 1, Transactions: 3, Pending: 2,
		StandingOrders: 2, DirectDebits: 1, Identities: 1}
	if c := counts(t, s, key); c != want {
		t.Fatalf("counts: got %+v, want %+v", c, want)
	}
	owners, err := s.ListConnections(ctx, o.Namespace, o.UserRef)
	must(t, "list connections", err)
	if len(owners) != 1 || owners[0] != o {
		t.Fatalf("connections of %s: got %+v, want [%+v]", o.UserRef, owners, o)
	}
}

// testValuesNormalised: instants come back in UTC at microsecond resolution
// whatever zone and precision they were written with; amounts in canonical
// decimal form.
func testValuesNormalised(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	written := time.Date(2026, 3, 1, 15, 0, 0, 123456789, zone)
	tx := Transactions("acc", 1, written)
	tx[0].Amount = "-0.00"
	tx[0].RunningBalance.Amount = "007.50"
	_, err := s.UpsertTransactions(ctx, o, tx)
	must(t, "upsert", err)
	got, err := s.ListTransactions(ctx, store.TransactionQuery{Key: o.Key()})
	must(t, "list", err)
	want := time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)
	if len(got) != 1 || !got[0].Timestamp.Equal(want) || got[0].Timestamp.Location() != time.UTC {
		t.Fatalf("timestamp: got %v, want %v", got[0].Timestamp, want)
	}
	if got[0].Amount != "0.00" || got[0].RunningBalance.Amount != "7.50" {
		t.Fatalf("amounts: got %q and %q, want \"0.00\" and \"7.50\"", got[0].Amount, got[0].RunningBalance.Amount)
	}
	// Meta comes back as the same JSON document.
	if string(canonJSON(t, got[0].Meta)) != string(canonJSON(t, json.RawMessage(tx[0].Meta))) {
		t.Fatalf("meta: got %s, want %s", got[0].Meta, tx[0].Meta)
	}
}

// testInvalidInput: refused input returns ErrInvalid and writes nothing,
// not even the rows of the batch that were valid.
func testInvalidInput(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	good := Transactions("acc", 3, Base)
	mutate := map[string]func([]store.Transaction){
		"empty id":           func(b []store.Transaction) { b[2].NormalisedProviderTransactionID = "" },
		"empty account":      func(b []store.Transaction) { b[2].AccountID = "" },
		"exponent amount":    func(b []store.Transaction) { b[2].Amount = "1e5" },
		"missing amount":     func(b []store.Transaction) { b[2].Amount = "" },
		"zero timestamp":     func(b []store.Transaction) { b[2].Timestamp = time.Time{} },
		"meta not an object": func(b []store.Transaction) { b[2].Meta = json.RawMessage(`[1,2]`) },
		"meta malformed":     func(b []store.Transaction) { b[2].Meta = json.RawMessage(`{"a":`) },
	}
	for name, m := range mutate {
		batch := Transactions("acc", 3, Base)
		m(batch)
		_, err := s.UpsertTransactions(ctx, o, batch)
		wantErrIs(t, name, err, store.ErrInvalid)
	}
	for name, bad := range map[string]store.Owner{
		"no namespace": {Connection: "c", UserRef: "u", Provider: "p"},
		"no userRef":   {Namespace: "n", Connection: "c", Provider: "p"},
		"no provider":  {Namespace: "n", Connection: "c", UserRef: "u"},
	} {
		_, err := s.UpsertTransactions(ctx, bad, good)
		wantErrIs(t, name, err, store.ErrInvalid)
	}
	err := s.ReplacePending(ctx, o, "", Base, nil)
	wantErrIs(t, "pending without account", err, store.ErrInvalid)
	err = s.ReplacePending(ctx, o, "acc", Base, []store.Transaction{{AccountID: "other", Timestamp: Base, Amount: "1"}})
	wantErrIs(t, "pending of another account", err, store.ErrInvalid)
	_, err = s.AppendBalances(ctx, o, []store.Balance{{AccountID: "acc", ObservedAt: Base}})
	wantErrIs(t, "balance without current", err, store.ErrInvalid)

	if c := counts(t, s, o.Key()); c != (store.Counts{}) {
		t.Fatalf("refused input wrote rows: %+v", c)
	}
	owners, err := s.ListConnections(ctx, o.Namespace, o.UserRef)
	must(t, "list connections", err)
	if len(owners) != 0 {
		t.Fatalf("refused input recorded connections: %+v", owners)
	}
}
