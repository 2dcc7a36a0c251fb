package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

// TextQuerier is what the store a contract test gets must also offer: the first
// column of each row of a query, as text. Through it the contract sees what a
// person or another program reading the database sees, which the Store API (it
// decodes what it stored) cannot show.
type TextQuerier interface {
	QueryText(ctx context.Context, query string) ([]string, error)
}

// testJSONNotHTMLEscaped: JSON columns hold "&", "<" and ">" as they are, not
// as the \u0026, \u003c and \u003e that encoding/json writes by default, whether
// the store encodes the value (lists) or is handed JSON that has them (meta, as
// json.Marshal produces it). An escaped backslash before "u0026" stays as it is.
func testJSONNotHTMLEscaped(t *testing.T, s store.Store) {
	ctx := t.Context()
	raw, ok := s.(TextQuerier)
	if !ok {
		t.Fatalf("the store under test (%T) does not implement storetest.TextQuerier", s)
	}
	o := Owner("team-a", "alice-marks", "user-alice")

	meta, err := json.Marshal(map[string]string{"merchant": "M&S <Foodhall>", "path": `C:\u0026`})
	must(t, "marshal meta", err)
	if !strings.Contains(string(meta), `\u0026`) {
		t.Fatalf("json.Marshal no longer escapes HTML (%s): the case below proves nothing", meta)
	}
	txs := Transactions("acc-1", 1, Base)
	txs[0].Classification = []string{"Food & Drink", "<Takeaway>"}
	txs[0].Meta = meta
	_, err = s.UpsertTransactions(ctx, o, txs)
	must(t, "upsert transactions", err)
	id := fullIdentity("Marks & Spencer <Ltd>")
	id.Emails = []string{"m&s@example.com"}
	must(t, "replace identity", s.ReplaceIdentity(ctx, o, "", Base, []store.Identity{id}))

	var stored []string
	for _, q := range []string{
		"SELECT CAST(transaction_classification AS TEXT) FROM transactions",
		"SELECT CAST(meta AS TEXT) FROM transactions",
		"SELECT CAST(emails AS TEXT) FROM identities",
	} {
		rows, err := raw.QueryText(ctx, q)
		must(t, q, err)
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows, want 1", q, len(rows))
		}
		stored = append(stored, rows[0])
	}
	for i, want := range []string{"Food & Drink", "M&S <Foodhall>", "m&s@example.com"} {
		if !strings.Contains(stored[i], want) {
			t.Errorf("stored JSON %s does not hold %q as it is", stored[i], want)
		}
	}
	for _, v := range stored {
		for _, esc := range []string{`\u0026`, `\u003c`, `\u003e`} {
			if strings.Contains(strings.ReplaceAll(v, `\\u0026`, ""), esc) {
				t.Errorf("stored JSON %s has the HTML escape %s", v, esc)
			}
		}
	}

	got, err := s.ListTransactions(ctx, store.TransactionQuery{Key: o.Key()})
	must(t, "list transactions", err)
	var m map[string]string
	if len(got) != 1 || json.Unmarshal(got[0].Meta, &m) != nil {
		t.Fatalf("read back %+v", got)
	}
	if m["merchant"] != "M&S <Foodhall>" || m["path"] != `C:\u0026` || !slices.Equal(got[0].Classification, txs[0].Classification) {
		t.Errorf("read back meta %v, classification %v", m, got[0].Classification)
	}
}

// testPing: an open store answers Ping, before and after writes.
func testPing(t *testing.T, s store.Store) {
	must(t, "ping an empty store", s.Ping(t.Context()))
	_, err := s.UpsertTransactions(t.Context(), Owner("team-a", "ping", "user"), Transactions("acc-1", 1, Base))
	must(t, "upsert", err)
	must(t, "ping", s.Ping(t.Context()))
}
