package storetest

import (
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

// testIncarnations: a connection deleted with its rows retained and created
// again under the same name (another UID) reads none of the earlier rows and
// writes beside them (same provider ids, no conflict); the retained rows stay
// reachable by userRef, and deleting the new connection leaves them.
func testIncarnations(t *testing.T, s store.Store) {
	ctx := t.Context()
	first, second := Incarnation("team-a", "monzo", "alice", 1), Incarnation("team-a", "monzo", "bob", 2)
	fillConnection(t, s, first, "run-1")
	if c := counts(t, s, second.Key()); c != (store.Counts{}) {
		t.Fatalf("a new incarnation reads rows of the earlier one: %+v", c)
	}
	txs, err := s.ListTransactions(ctx, store.TransactionQuery{Key: second.Key()})
	must(t, "list through the new incarnation", err)
	if len(txs) != 0 {
		t.Fatalf("a new incarnation lists %d transactions of the earlier one", len(txs))
	}
	runs, err := s.ListSyncRuns(ctx, store.RunQuery{Namespace: "team-a", Connection: new(second.Key())})
	must(t, "runs of the new incarnation", err)
	if len(runs) != 0 {
		t.Fatalf("a new incarnation lists runs of the earlier one: %+v", runs)
	}

	fillConnection(t, s, second, "run-2")
	for _, o := range []store.Owner{first, second} {
		if c := counts(t, s, o.Key()); c != oneOfEach {
			t.Fatalf("%s incarnation %s: counts %+v, want %+v", o.Key(), o.UID, c, oneOfEach)
		}
	}
	page, err := s.PageTransactions(ctx, store.TransactionPageQuery{User: &store.UserKey{Namespace: "team-a", UserRef: "alice"}, Limit: 100})
	must(t, "alice's transactions", err)
	if len(page) != 5 || page[0].Connection != first.Key() {
		t.Fatalf("retained rows by userRef: %d rows, first of %+v", len(page), page[0].Connection)
	}

	must(t, "delete the new incarnation", s.DeleteConnection(ctx, second.Key()))
	if c := counts(t, s, first.Key()); c != oneOfEach {
		t.Fatalf("deleting the new incarnation touched the retained rows: %+v", c)
	}
	owners, err := s.ListConnections(ctx, "team-a", "alice")
	must(t, "alice's connections", err)
	if len(owners) != 1 || owners[0] != first {
		t.Fatalf("alice's connections: %+v", owners)
	}
}
