package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// readAllPages follows cursors from the start until a short page.
func readAllPages(t *testing.T, s store.Store, q store.TransactionPageQuery) (rows []store.ConnectionTransaction, pages int) {
	t.Helper()
	for {
		page, err := s.PageTransactions(t.Context(), q)
		must(t, fmt.Sprintf("page %d", pages), err)
		pages++
		rows = append(rows, page...)
		if len(page) < q.Limit {
			return rows, pages
		}
		q.After = new(page[len(page)-1].Cursor())
	}
}

// testTransactionPages: pages of a connection and of a user cover every row
// once, in (timestamp, connection, account, id) order, also when many rows
// share a timestamp; From/To bound them; a row written between two pages
// behind the cursor does not shift the next page; bad queries are refused.
func testTransactionPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	monzo, lloyds := Owner("team-a", "alice-monzo", "alice"), Owner("team-a", "alice-lloyds", "alice")
	bob := Owner("team-a", "bob-monzo", "bob")
	// Ten transactions at each of 25 instants, in two accounts of monzo and one of
	// lloyds: ties everywhere the order has to break them.
	for _, o := range []store.Owner{monzo, lloyds, bob} {
		for _, acc := range []string{"acc-b", "acc-a"} {
			var txs []store.Transaction
			for i, tx := range Transactions(acc, 250, Base) {
				tx.Timestamp = Base.Add(time.Duration(i/10) * time.Hour)
				txs = append(txs, tx)
			}
			if o == lloyds && acc == "acc-b" {
				continue
			}
			_, err := s.UpsertTransactions(ctx, o, txs)
			must(t, "write", err)
		}
	}
	cases := []struct {
		name  string
		q     store.TransactionPageQuery
		want  int
		pages int
	}{
		{"connection", store.TransactionPageQuery{Connection: new(monzo.Key()), Limit: 70}, 500, 8},
		{"user across connections", store.TransactionPageQuery{User: &store.UserKey{Namespace: "team-a", UserRef: "alice"}, Limit: 100}, 750, 8},
		{"account", store.TransactionPageQuery{Connection: new(monzo.Key()), AccountID: "acc-a", Limit: 250}, 250, 2},
		{"window", store.TransactionPageQuery{User: &store.UserKey{Namespace: "team-a", UserRef: "alice"},
			From: Base.Add(2 * time.Hour), To: Base.Add(4 * time.Hour), Limit: 7}, 60, 9},
		{"other user", store.TransactionPageQuery{User: &store.UserKey{Namespace: "team-a", UserRef: "bob"}, Limit: store.MaxPageSize}, 500, 1},
		{"other namespace", store.TransactionPageQuery{User: &store.UserKey{Namespace: "team-b", UserRef: "alice"}, Limit: 10}, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, pages := readAllPages(t, s, tc.q)
			if len(rows) != tc.want || pages != tc.pages {
				t.Fatalf("%d rows in %d pages, want %d in %d", len(rows), pages, tc.want, tc.pages)
			}
			seen := map[store.TransactionCursor]bool{}
			for i, r := range rows {
				c := r.Cursor()
				if seen[c] {
					t.Fatalf("row %d repeated: %+v", i, c)
				}
				seen[c] = true
				if i > 0 && !cursorLess(rows[i-1].Cursor(), c) {
					t.Fatalf("rows %d and %d out of order: %+v, %+v", i-1, i, rows[i-1].Cursor(), c)
				}
				if tc.q.User != nil && r.Connection.Namespace != tc.q.User.Namespace {
					t.Fatalf("row of %s in a page of %s", r.Connection, tc.q.User)
				}
				if !tc.q.From.IsZero() && (r.Timestamp.Before(tc.q.From) || !r.Timestamp.Before(tc.q.To)) {
					t.Fatalf("row at %v outside [%v, %v)", r.Timestamp, tc.q.From, tc.q.To)
				}
			}
		})
	}

	// A transaction written behind the cursor between two reads leaves the next
	// page as it was.
	q := store.TransactionPageQuery{Connection: new(monzo.Key()), Limit: 10}
	first, err := s.PageTransactions(ctx, q)
	must(t, "first page", err)
	q.After = new(first[len(first)-1].Cursor())
	before, err := s.PageTransactions(ctx, q)
	must(t, "second page", err)
	late := Transactions("acc-a", 1, Base)
	late[0].NormalisedProviderTransactionID = "late-arrival"
	_, err = s.UpsertTransactions(ctx, monzo, late)
	must(t, "late write", err)
	after, err := s.PageTransactions(ctx, q)
	must(t, "second page again", err)
	if len(before) != len(after) {
		t.Fatalf("a row written behind the cursor changed the next page's size: %d, was %d", len(after), len(before))
	}
	for i := range before {
		if before[i].Cursor() != after[i].Cursor() {
			t.Fatalf("a row written behind the cursor changed the next page at %d: %+v, was %+v", i, after[i].Cursor(), before[i].Cursor())
		}
	}

	for _, bad := range []store.TransactionPageQuery{
		{Limit: 10},
		{Connection: new(monzo.Key()), User: &store.UserKey{Namespace: "team-a", UserRef: "alice"}, Limit: 10},
		{Connection: new(monzo.Key()), Limit: 0},
		{Connection: new(monzo.Key()), Limit: store.MaxPageSize + 1},
		{User: &store.UserKey{Namespace: "team-a"}, Limit: 10},
	} {
		_, err := s.PageTransactions(ctx, bad)
		wantErrIs(t, fmt.Sprintf("query %+v", bad), err, store.ErrInvalid)
	}
}

func cursorLess(a, b store.TransactionCursor) bool {
	if !a.Timestamp.Equal(b.Timestamp) {
		return a.Timestamp.Before(b.Timestamp)
	}
	for _, p := range [][2]string{{a.Connection, b.Connection}, {a.ConnectionUID, b.ConnectionUID},
		{a.AccountID, b.AccountID}, {a.TransactionID, b.TransactionID}} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	return false
}
