package storetest

import (
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

// testDeleteUser: erasing a user removes the rows of every connection of that
// user in that namespace (a deleted incarnation's retained rows too), counts
// them, and leaves every row of other users and of the same userRef elsewhere.
func testDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := []store.Owner{
		Incarnation("team-a", "alice-monzo", "alice", 1), // retained from a deleted connection
		Incarnation("team-a", "alice-monzo", "alice", 2),
		Owner("team-a", "alice-lloyds", "alice"),
	}
	others := []store.Owner{
		Owner("team-a", "bob-monzo", "bob"),
		Owner("team-b", "alice-monzo", "alice"), // the same userRef in another tenant
	}
	for _, o := range append(append([]store.Owner{}, alice...), others...) {
		fillConnection(t, s, o, "run-"+o.UID)
	}
	erased, err := s.DeleteUser(ctx, store.UserKey{Namespace: "team-a", UserRef: "alice"})
	must(t, "erase alice", err)
	want := store.Erased{Counts: store.Counts{Accounts: 3, Cards: 3, Balances: 3, Transactions: 15, Pending: 6,
		StandingOrders: 3, DirectDebits: 3, Identities: 3}, SyncRuns: 3, Connections: 3}
	if erased != want {
		t.Fatalf("erased %+v, want %+v", erased, want)
	}
	for _, o := range alice {
		if c := counts(t, s, o.Key()); c != (store.Counts{}) {
			t.Fatalf("%s (%s) keeps rows after erasure: %+v", o.Key(), o.UID, c)
		}
		_, err := s.GetSyncRun(ctx, o.Namespace, "run-"+o.UID)
		wantErrIs(t, "erased run", err, store.ErrNotFound)
	}
	page, err := s.PageTransactions(ctx, store.TransactionPageQuery{User: &store.UserKey{Namespace: "team-a", UserRef: "alice"}, Limit: 10})
	must(t, "alice's transactions", err)
	if len(page) != 0 {
		t.Fatalf("alice still has %d transactions", len(page))
	}
	for _, o := range others {
		if c := counts(t, s, o.Key()); c != oneOfEach {
			t.Fatalf("erasing alice in team-a changed %s: %+v", o.Key(), c)
		}
		run, err := s.GetSyncRun(ctx, o.Namespace, "run-"+o.UID)
		must(t, "run of another user", err)
		if run.Counts[store.ResourceTransactions] != 5 {
			t.Fatalf("run of %s lost its counts: %+v", o.Key(), run.Counts)
		}
	}
	again, err := s.DeleteUser(ctx, store.UserKey{Namespace: "team-a", UserRef: "alice"})
	must(t, "erase alice again", err)
	if again.Total() != 0 {
		t.Fatalf("a second erasure removed %+v", again)
	}
	_, err = s.DeleteUser(ctx, store.UserKey{Namespace: "team-a"})
	wantErrIs(t, "erase without userRef", err, store.ErrInvalid)
}
