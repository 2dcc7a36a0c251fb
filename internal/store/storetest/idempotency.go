package storetest

import (
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// testTransactionsIdempotent: the same batch twice stores each transaction
// once; the second write reports nothing new and changes nothing.
func testTransactionsIdempotent(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	batch := append(Transactions("acc-1", 50, Base), Transactions("acc-2", 30, Base)...)

	res, err := s.UpsertTransactions(ctx, o, batch)
	must(t, "first write", err)
	wantResult(t, "first write", res, store.BatchResult{Inserted: 80})

	res, err = s.UpsertTransactions(ctx, o, batch)
	must(t, "second write", err)
	wantResult(t, "second write", res, store.BatchResult{Unchanged: 80})

	// An overlapping window (as an incremental run re-reads) adds only the
	// transactions it has not seen.
	overlap := Transactions("acc-1", 60, Base)
	res, err = s.UpsertTransactions(ctx, o, overlap)
	must(t, "overlapping write", err)
	wantResult(t, "overlapping write", res, store.BatchResult{Inserted: 10, Unchanged: 50})

	if c := counts(t, s, o.Key()); c.Transactions != 90 {
		t.Fatalf("stored %d transactions, want 90", c.Transactions)
	}
}

// testTransactionsUpdated: a changed field of a known transaction is an
// update, not a new row.
func testTransactionsUpdated(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	batch := Transactions("acc", 5, Base)
	_, err := s.UpsertTransactions(ctx, o, batch)
	must(t, "first write", err)

	changed := Transactions("acc", 5, Base)
	changed[1].Description = "CORRECTED DESCRIPTION"
	changed[3].Category = "TRANSFER"
	changed[4].RunningBalance = nil
	res, err := s.UpsertTransactions(ctx, o, changed)
	must(t, "second write", err)
	wantResult(t, "second write", res, store.BatchResult{Updated: 3, Unchanged: 2})

	got, err := s.ListTransactions(ctx, store.TransactionQuery{Key: o.Key()})
	must(t, "list", err)
	equalRecords(t, "transactions", got, changed)
}

// testDuplicateKeysInBatch: a key repeated inside one batch is stored once
// with its last values.
func testDuplicateKeysInBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	batch := Transactions("acc", 3, Base)
	dup := batch[0]
	dup.Description = "LAST ONE WINS"
	batch = append(batch, dup)
	res, err := s.UpsertTransactions(ctx, o, batch)
	must(t, "write", err)
	wantResult(t, "write", res, store.BatchResult{Inserted: 3})
	got, err := s.ListTransactions(ctx, store.TransactionQuery{Key: o.Key()})
	must(t, "list", err)
	if len(got) != 3 || got[0].Description != "LAST ONE WINS" {
		t.Fatalf("got %d rows, first description %q", len(got), got[0].Description)
	}
}

// testAccountsAndCardsUpsert: accounts and cards are keyed by account id.
func testAccountsAndCardsUpsert(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	accounts := []store.Account{fullAccount("a1"), fullAccount("a2")}
	res, err := s.UpsertAccounts(ctx, o, accounts)
	must(t, "first", err)
	wantResult(t, "first accounts write", res, store.BatchResult{Inserted: 2})
	res, err = s.UpsertAccounts(ctx, o, accounts)
	must(t, "second", err)
	wantResult(t, "same accounts again", res, store.BatchResult{Unchanged: 2})

	renamed := fullAccount("a2")
	renamed.DisplayName = "Renamed"
	renamed.FetchedAt = Base.Add(6 * time.Hour)
	res, err = s.UpsertAccounts(ctx, o, []store.Account{renamed, fullAccount("a3")})
	must(t, "third", err)
	wantResult(t, "rename + new", res, store.BatchResult{Inserted: 1, Updated: 1})
	got, err := s.ListAccounts(ctx, o.Key())
	must(t, "list", err)
	equalRecords(t, "accounts", got, []store.Account{fullAccount("a1"), renamed, fullAccount("a3")})

	res, err = s.UpsertCards(ctx, o, []store.Card{fullCard("c1")})
	must(t, "cards", err)
	wantResult(t, "cards", res, store.BatchResult{Inserted: 1})
	res, err = s.UpsertCards(ctx, o, []store.Card{fullCard("c1")})
	must(t, "cards again", err)
	wantResult(t, "cards again", res, store.BatchResult{Unchanged: 1})
}

// testTransactionWindow: From is inclusive, To exclusive; account filter and
// limit apply; counting agrees with listing.
func testTransactionWindow(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	// acc-1: one per minute from Base (0..99); acc-2: 0..49.
	_, err := s.UpsertTransactions(ctx, o, append(Transactions("acc-1", 100, Base), Transactions("acc-2", 50, Base)...))
	must(t, "write", err)
	key := o.Key()
	cases := []struct {
		name string
		q    store.TransactionQuery
		want int
	}{
		{"all", store.TransactionQuery{Key: key}, 150},
		{"one account", store.TransactionQuery{Key: key, AccountID: "acc-2"}, 50},
		{"from inclusive", store.TransactionQuery{Key: key, AccountID: "acc-1", From: Base.Add(90 * time.Minute)}, 10},
		{"to exclusive", store.TransactionQuery{Key: key, AccountID: "acc-1", To: Base.Add(10 * time.Minute)}, 10},
		{"window both accounts", store.TransactionQuery{Key: key, From: Base.Add(40 * time.Minute), To: Base.Add(60 * time.Minute)}, 30},
		{"limit", store.TransactionQuery{Key: key, Limit: 7}, 7},
		{"unknown account", store.TransactionQuery{Key: key, AccountID: "nope"}, 0},
	}
	for _, tc := range cases {
		got, err := s.ListTransactions(ctx, tc.q)
		must(t, tc.name, err)
		if len(got) != tc.want {
			t.Errorf("%s: listed %d, want %d", tc.name, len(got), tc.want)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Timestamp.Before(got[i-1].Timestamp) {
				t.Errorf("%s: not ordered by timestamp at %d", tc.name, i)
			}
		}
		for _, tx := range got {
			if (!tc.q.From.IsZero() && tx.Timestamp.Before(tc.q.From)) || (!tc.q.To.IsZero() && !tx.Timestamp.Before(tc.q.To)) {
				t.Errorf("%s: %s at %v is outside the window", tc.name, tx.NormalisedProviderTransactionID, tx.Timestamp)
			}
		}
		n, err := s.CountTransactions(ctx, tc.q)
		must(t, tc.name+" count", err)
		if n != int64(tc.want) {
			t.Errorf("%s: counted %d, want %d", tc.name, n, tc.want)
		}
	}
}
