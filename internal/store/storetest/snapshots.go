package storetest

import (
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// testPendingReplaced: each run's pending list replaces the previous one of
// that account and leaves other accounts alone.
func testPendingReplaced(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	key := o.Key()
	must(t, "acc-1 run 1", s.ReplacePending(ctx, o, "acc-1", Base, Transactions("acc-1", 3, Base)))
	must(t, "acc-2 run 1", s.ReplacePending(ctx, o, "acc-2", Base, Transactions("acc-2", 2, Base)))

	second := Transactions("acc-1", 1, Base.Add(time.Hour))
	second[0].Description = "STILL PENDING"
	must(t, "acc-1 run 2", s.ReplacePending(ctx, o, "acc-1", Base.Add(time.Hour), second))
	got, err := s.ListPending(ctx, key, "acc-1")
	must(t, "list acc-1", err)
	equalRecords(t, "acc-1 pending", got, second)
	other, err := s.ListPending(ctx, key, "acc-2")
	must(t, "list acc-2", err)
	equalRecords(t, "acc-2 pending", other, Transactions("acc-2", 2, Base))

	// Pending transactions never leak into the booked table.
	if c := counts(t, s, key); c.Transactions != 0 || c.Pending != 3 {
		t.Fatalf("counts %+v", c)
	}
	must(t, "acc-1 run 3", s.ReplacePending(ctx, o, "acc-1", Base.Add(2*time.Hour), nil))
	got, err = s.ListPending(ctx, key, "acc-1")
	must(t, "list acc-1", err)
	if len(got) != 0 {
		t.Fatalf("empty replacement left %d rows", len(got))
	}
}

// testSnapshotsReplaced: standing orders and direct debits behave like
// pending: replaced as a whole per account.
func testSnapshotsReplaced(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	key := o.Key()
	three := []store.StandingOrder{fullStandingOrder("acc-1", 0), fullStandingOrder("acc-1", 1), fullStandingOrder("acc-1", 2)}
	must(t, "orders acc-1", s.ReplaceStandingOrders(ctx, o, "acc-1", Base, three))
	must(t, "orders acc-2", s.ReplaceStandingOrders(ctx, o, "acc-2", Base, []store.StandingOrder{fullStandingOrder("acc-2", 0)}))
	must(t, "orders acc-1 again", s.ReplaceStandingOrders(ctx, o, "acc-1", Base, three[2:]))
	got, err := s.ListStandingOrders(ctx, key, "acc-1")
	must(t, "list orders", err)
	equalRecords(t, "orders acc-1", got, three[2:])

	debits := []store.DirectDebit{fullDirectDebit("acc-1", 0), fullDirectDebit("acc-1", 1)}
	must(t, "debits", s.ReplaceDirectDebits(ctx, o, "acc-1", Base, debits))
	// Direct debit ids may change between requests: a re-fetch with new ids
	// replaces, it does not accumulate.
	refetched := []store.DirectDebit{fullDirectDebit("acc-1", 7), fullDirectDebit("acc-1", 8)}
	must(t, "debits again", s.ReplaceDirectDebits(ctx, o, "acc-1", Base.Add(time.Hour), refetched))
	gotDebits, err := s.ListDirectDebits(ctx, key, "acc-1")
	must(t, "list debits", err)
	equalRecords(t, "debits", gotDebits, refetched)

	if c := counts(t, s, key); c.StandingOrders != 2 || c.DirectDebits != 2 {
		t.Fatalf("counts %+v", c)
	}
}

// testIdentityScopes: connection-level identity (/info) and per-account
// identity (Signup+) are replaced independently.
func testIdentityScopes(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	key := o.Key()
	joint := []store.Identity{fullIdentity("John Doe"), fullIdentity("Jane Doe")}
	must(t, "info", s.ReplaceIdentity(ctx, o, "", Base, joint))
	must(t, "signup+", s.ReplaceIdentity(ctx, o, "acc-1", Base, []store.Identity{fullIdentity("Sherlock Holmes")}))
	must(t, "info again", s.ReplaceIdentity(ctx, o, "", Base.Add(time.Hour), joint[:1]))

	info, err := s.ListIdentity(ctx, key, "")
	must(t, "list info", err)
	equalRecords(t, "info", info, joint[:1])
	perAccount, err := s.ListIdentity(ctx, key, "acc-1")
	must(t, "list signup+", err)
	equalRecords(t, "signup+", perAccount, []store.Identity{fullIdentity("Sherlock Holmes")})
}

// testBalancesHistory: one row per account per observation, oldest first;
// re-appending an observation is a no-op.
func testBalancesHistory(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	var history []store.Balance
	for i := range 4 {
		b := fullBalance("acc-1", Base.Add(time.Duration(i)*6*time.Hour))
		b.Current = store.Amount([]string{"10", "20.5", "-3.25", "0"}[i])
		history = append(history, b)
	}
	res, err := s.AppendBalances(ctx, o, []store.Balance{history[2], history[0]})
	must(t, "append", err)
	wantResult(t, "append", res, store.BatchResult{Inserted: 2})
	res, err = s.AppendBalances(ctx, o, history)
	must(t, "append all", err)
	wantResult(t, "append all", res, store.BatchResult{Inserted: 2, Unchanged: 2})
	_, err = s.AppendBalances(ctx, o, []store.Balance{fullBalance("acc-2", Base)})
	must(t, "other account", err)

	got, err := s.ListBalances(ctx, o.Key(), "acc-1")
	must(t, "list", err)
	if len(got) != 4 {
		t.Fatalf("history has %d rows, want 4", len(got))
	}
	for i := range got {
		if got[i] != history[i] {
			t.Fatalf("balance %d: got %+v, want %+v", i, got[i], history[i])
		}
	}
	if c := counts(t, s, o.Key()); c.Balances != 5 {
		t.Fatalf("balances stored %d, want 5", c.Balances)
	}
}
