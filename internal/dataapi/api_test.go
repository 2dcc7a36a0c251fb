package dataapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// TestRefusalsRevealNothing: without a valid token 401; with a token whose subject
// has no grant in the namespace 403, and the same bytes whether the connection or
// user exists or not, for reads and for the erasure.
func TestRefusalsRevealNothing(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, method, path, token string
		want                      int
	}{
		{"no token", http.MethodGet, "/v1/namespaces/team-a/bankconnections/alice-monzo/transactions", "", http.StatusUnauthorized},
		{"unknown token", http.MethodGet, "/v1/namespaces/team-a/bankconnections/alice-monzo/transactions", "forged", http.StatusUnauthorized},
		{"unknown token, absent connection", http.MethodGet, "/v1/namespaces/team-a/bankconnections/nobody/transactions", "forged", http.StatusUnauthorized},
		{"other tenant, existing connection", http.MethodGet, "/v1/namespaces/team-a/bankconnections/alice-monzo/transactions", tokenElsewhere, http.StatusForbidden},
		{"other tenant, absent connection", http.MethodGet, "/v1/namespaces/team-a/bankconnections/nobody/transactions", tokenElsewhere, http.StatusForbidden},
		{"other tenant, existing user", http.MethodGet, "/v1/namespaces/team-a/users/alice", tokenElsewhere, http.StatusForbidden},
		{"other tenant, absent user", http.MethodGet, "/v1/namespaces/team-a/users/nobody/accounts", tokenElsewhere, http.StatusForbidden},
		{"other tenant, erasure", http.MethodDelete, "/v1/namespaces/team-a/users/alice", tokenElsewhere, http.StatusForbidden},
		{"other tenant, erasure of nobody", http.MethodDelete, "/v1/namespaces/team-a/users/nobody", tokenElsewhere, http.StatusForbidden},
		{"own tenant, absent namespace", http.MethodGet, "/v1/namespaces/team-c/users/alice/accounts", tokenApp, http.StatusForbidden},
	}
	bodies := map[int]string{}
	for _, tc := range cases {
		code, body := f.do(tc.method, tc.path, tc.token)
		if code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
		if prev, seen := bodies[code]; seen && prev != string(body) {
			t.Errorf("%s: %d answers differ: %s and %s", tc.name, code, prev, body)
		}
		bodies[code] = string(body)
	}
	if c := f.counts(f.monzo.Key()); c.Transactions == 0 {
		t.Fatal("a refused erasure erased")
	}
	// Allowed, an absent connection is 404 (the caller may know what it may read).
	if code, _ := f.do(http.MethodGet, "/v1/namespaces/team-a/bankconnections/nobody/accounts", tokenApp); code != http.StatusNotFound {
		t.Fatalf("absent connection, allowed caller: %d", code)
	}
}

// TestTransactionPages: following `next` reads every transaction of the scope once,
// in order; bad parameters are 400.
func TestTransactionPages(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, path   string
		limit, want  int
		wantPages    int
		oneIncarnUID string
	}{
		{"connection", "/v1/namespaces/team-a/bankconnections/alice-monzo/transactions", 7, 20, 3, "uid-2"},
		{"user, every connection and the retained one", "/v1/namespaces/team-a/users/alice/transactions", 10, 20 + 21 + 22, 7, ""},
		{"window", "/v1/namespaces/team-a/bankconnections/alice-monzo/transactions?from=" +
			url.QueryEscape(base.Add(5*time.Minute).Format(time.RFC3339)) + "&to=" + url.QueryEscape(base.Add(9*time.Minute).Format(time.RFC3339)), 3, 4, 2, "uid-2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var all []Transaction
			next, pages := "", 0
			for {
				u, _ := url.Parse(tc.path)
				q := u.Query()
				q.Set("limit", strconv.Itoa(tc.limit))
				if next != "" {
					q.Set("cursor", next)
				}
				u.RawQuery = q.Encode()
				var page TransactionPage
				f.get(u.String(), &page)
				pages++
				all = append(all, page.Items...)
				if next = page.Next; next == "" {
					break
				}
			}
			if len(all) != tc.want || pages != tc.wantPages {
				t.Fatalf("%d transactions in %d pages, want %d in %d", len(all), pages, tc.want, tc.wantPages)
			}
			seen := map[string]bool{}
			for i, tx := range all {
				id := tx.ConnectionUID + "/" + tx.TransactionID
				if seen[id] {
					t.Fatalf("transaction %s twice", id)
				}
				seen[id] = true
				if tc.oneIncarnUID != "" && tx.ConnectionUID != tc.oneIncarnUID {
					t.Fatalf("a row of %s in a page of %s", tx.ConnectionUID, tc.oneIncarnUID)
				}
				if i > 0 && tx.Timestamp.Before(all[i-1].Timestamp) {
					t.Fatalf("transaction %d is older than the one before", i)
				}
			}
		})
	}
	for _, bad := range []string{"limit=0", "limit=501", "limit=x", "cursor=%21%21", "from=yesterday"} {
		code, body := f.do(http.MethodGet, "/v1/namespaces/team-a/users/alice/transactions?"+bad, tokenApp)
		if code != http.StatusBadRequest {
			t.Errorf("?%s: %d %s", bad, code, body)
		}
	}
}

// TestRecreatedConnectionReadsNoEarlierRows: alice-monzo was deleted with its rows
// retained and created again (another UID): through the connection only the new
// rows are read; through the userRef both, the earlier one marked not present.
func TestRecreatedConnectionReadsNoEarlierRows(t *testing.T) {
	f := newFixture(t)
	var runs SyncRunList
	f.get("/v1/namespaces/team-a/bankconnections/alice-monzo/sync-runs", &runs)
	if len(runs.Items) != 1 || runs.Items[0].ConnectionUID != "uid-2" {
		t.Fatalf("runs through the connection: %+v", runs.Items)
	}
	var accounts AccountList
	f.get("/v1/namespaces/team-a/bankconnections/alice-monzo/accounts", &accounts)
	if len(accounts.Items) != 1 || accounts.Items[0].ConnectionUID != "uid-2" {
		t.Fatalf("accounts through the connection: %+v", accounts.Items)
	}
	var u User
	f.get("/v1/namespaces/team-a/users/alice", &u)
	want := []struct {
		uid     string
		present bool
	}{{"uid-3", true}, {"uid-1", false}, {"uid-2", true}}
	if len(u.Connections) != len(want) {
		t.Fatalf("alice's connections: %+v", u.Connections)
	}
	for i, w := range want {
		c := u.Connections[i]
		if c.ConnectionUID != w.uid || c.Present != w.present {
			t.Fatalf("connection %d: %+v, want uid %s present %v", i, c, w.uid, w.present)
		}
		if c.Present && (c.Ready != "True" || c.Consent == nil || c.Consent.ExpiresAt == nil || c.Consent.Status != "Active") {
			t.Fatalf("connection %d lacks its consent state: %+v", i, c)
		}
	}
}

// TestEraseUser: DELETE of a user removes every row of its connections (the retained
// one too) and counts them; other users keep theirs.
func TestEraseUser(t *testing.T) {
	f := newFixture(t)
	var e Erasure
	code, body := f.do(http.MethodDelete, "/v1/namespaces/team-a/users/alice", tokenApp)
	if code != http.StatusOK {
		t.Fatalf("erase: %d %s", code, body)
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	want := Erasure{UserRef: "alice", Accounts: 3, Cards: 3, Balances: 3, Transactions: 20 + 21 + 22, Pending: 3,
		StandingOrders: 3, DirectDebits: 3, Identities: 3, SyncRuns: 3, Connections: 3}
	if e != want {
		t.Fatalf("erased %+v, want %+v", e, want)
	}
	for _, o := range []store.Owner{f.monzo, f.retained, f.lloyds} {
		if c := f.counts(o.Key()); c != (store.Counts{}) {
			t.Fatalf("%s (%s) keeps rows: %+v", o.Connection, o.UID, c)
		}
	}
	if c := f.counts(f.bob.Key()); c.Transactions != 23 || c.Accounts != 1 {
		t.Fatalf("bob's rows changed: %+v", c)
	}
	var page TransactionPage
	f.get("/v1/namespaces/team-a/users/alice/transactions", &page)
	if len(page.Items) != 0 {
		t.Fatalf("alice has %d transactions after erasure", len(page.Items))
	}
}
