package storetest

import (
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

// testOwnerIsolation: identical provider ids under different connections
// (or namespaces) are different rows, and each owner reads only its own.
func testOwnerIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	owners := []store.Owner{
		Owner("team-a", "alice-lloyds", "alice"),
		Owner("team-a", "alice-monzo", "alice"), // same user, second bank
		Owner("team-a", "bob-lloyds", "bob"),
		Owner("team-b", "alice-lloyds", "alice"), // same names, other namespace
	}
	for i, o := range owners {
		// The same transaction ids for everyone; sizes differ to tell them apart.
		res, err := s.UpsertTransactions(ctx, o, Transactions("acc-1", 10+i, Base))
		must(t, "write "+o.Key().String(), err)
		wantResult(t, "write "+o.Key().String(), res, store.BatchResult{Inserted: 10 + i})
		_, err = s.UpsertAccounts(ctx, o, []store.Account{fullAccount("acc-1")})
		must(t, "accounts", err)
		must(t, "pending", s.ReplacePending(ctx, o, "acc-1", Base, Transactions("acc-1", i+1, Base)))
	}
	for i, o := range owners {
		got, err := s.ListTransactions(ctx, store.TransactionQuery{Key: o.Key()})
		must(t, "list", err)
		if len(got) != 10+i {
			t.Errorf("%s reads %d transactions, want %d", o.Key(), len(got), 10+i)
		}
		c := counts(t, s, o.Key())
		if c.Transactions != int64(10+i) || c.Accounts != 1 || c.Pending != int64(i+1) {
			t.Errorf("%s counts %+v", o.Key(), c)
		}
	}
	alice, err := s.ListConnections(ctx, "team-a", "alice")
	must(t, "connections of alice", err)
	if len(alice) != 2 || alice[0] != owners[0] || alice[1] != owners[1] {
		t.Fatalf("team-a/alice connections: got %+v", alice)
	}
	none, err := s.ListConnections(ctx, "team-c", "alice")
	must(t, "connections elsewhere", err)
	if len(none) != 0 {
		t.Fatalf("team-c/alice connections: got %+v", none)
	}
}

// testDeleteConnection removes one connection's rows and runs only.
func testDeleteConnection(t *testing.T, s store.Store) {
	ctx := t.Context()
	gone, kept := Owner("team-a", "gone", "u1"), Owner("team-a", "kept", "u1")
	for _, o := range []store.Owner{gone, kept} {
		fillConnection(t, s, o, "run-"+o.Connection)
	}
	before := counts(t, s, kept.Key())
	must(t, "delete", s.DeleteConnection(ctx, gone.Key()))
	if c := counts(t, s, gone.Key()); c != (store.Counts{}) {
		t.Fatalf("deleted connection still has rows: %+v", c)
	}
	if c := counts(t, s, kept.Key()); c != before {
		t.Fatalf("other connection changed: %+v, was %+v", c, before)
	}
	_, err := s.GetSyncRun(ctx, "team-a", "run-gone")
	wantErrIs(t, "run of deleted connection", err, store.ErrNotFound)
	run, err := s.GetSyncRun(ctx, "team-a", "run-kept")
	must(t, "run of kept connection", err)
	if run.Counts[store.ResourceTransactions] != 5 {
		t.Fatalf("kept run lost its counts: %+v", run.Counts)
	}
	owners, err := s.ListConnections(ctx, "team-a", "u1")
	must(t, "connections", err)
	if len(owners) != 1 || owners[0] != kept {
		t.Fatalf("connections after delete: %+v", owners)
	}
}

// fillConnection writes one row of every kind through o (five transactions)
// and a finished run with id runID.
func fillConnection(t *testing.T, s store.Store, o store.Owner, runID string) {
	ctx := t.Context()
	_, err := s.UpsertAccounts(ctx, o, []store.Account{fullAccount("acc")})
	must(t, "accounts", err)
	_, err = s.UpsertCards(ctx, o, []store.Card{fullCard("card")})
	must(t, "cards", err)
	_, err = s.AppendBalances(ctx, o, []store.Balance{fullBalance("acc", Base)})
	must(t, "balances", err)
	_, err = s.UpsertTransactions(ctx, o, Transactions("acc", 5, Base))
	must(t, "transactions", err)
	must(t, "pending", s.ReplacePending(ctx, o, "acc", Base, Transactions("acc", 2, Base)))
	must(t, "orders", s.ReplaceStandingOrders(ctx, o, "acc", Base, []store.StandingOrder{fullStandingOrder("acc", 0)}))
	must(t, "debits", s.ReplaceDirectDebits(ctx, o, "acc", Base, []store.DirectDebit{fullDirectDebit("acc", 0)}))
	must(t, "identity", s.ReplaceIdentity(ctx, o, "", Base, []store.Identity{fullIdentity("X")}))
	run := store.SyncRun{RunID: runID, SyncJob: "job", Owner: o, StartedAt: Base}
	must(t, "start run", s.StartSyncRun(ctx, run))
	must(t, "finish run", s.FinishSyncRun(ctx, store.RunResult{Namespace: o.Namespace, RunID: run.RunID,
		FinishedAt: Base, Status: store.RunSucceeded, Counts: map[string]int64{store.ResourceTransactions: 5}}))
}

// oneOfEach is what fillConnection stores.
var oneOfEach = store.Counts{Accounts: 1, Cards: 1, Balances: 1, Transactions: 5, Pending: 2,
	StandingOrders: 1, DirectDebits: 1, Identities: 1}
