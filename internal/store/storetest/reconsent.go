package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// rekeyed returns txs as a re-consent reads them: the same bank transactions
// (same normalised ids) under the account's new provider id.
func rekeyed(txs []store.Transaction, account string) []store.Transaction {
	out := slices.Clone(txs)
	for i := range out {
		out[i].AccountID = account
	}
	return out
}

// testReconsentRekeysAccounts: a re-consent brings new provider ids for the same
// accounts and card. The rows the first consent wrote are updated (they keep the
// store's id and record the new provider id), the same transactions read again
// under the new ids are not stored twice, and every other write naming the new
// ids lands on the account's rows. Matching stays inside one connection.
func testReconsentRekeysAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "monzo", "alice")
	current := fullAccount("acc-1") // sort code and number
	euro := store.Account{AccountID: "acc-2", Currency: "EUR", Number: store.AccountNumber{IBAN: "DE89 3704 0044 0532 0130 00"}}
	card := fullCard("card-1")
	_, err := s.UpsertAccounts(ctx, o, []store.Account{current, euro})
	must(t, "first consent's accounts", err)
	_, err = s.UpsertCards(ctx, o, []store.Card{card})
	must(t, "first consent's card", err)
	first, cardTxs := Transactions("acc-1", 5, Base), Transactions("card-1", 3, Base)
	_, err = s.UpsertTransactions(ctx, o, append(slices.Clone(first), cardTxs...))
	must(t, "first consent's transactions", err)
	must(t, "first consent's standing orders", s.ReplaceStandingOrders(ctx, o, "acc-1", Base, []store.StandingOrder{fullStandingOrder("acc-1", 0)}))
	_, err = s.AppendBalances(ctx, o, []store.Balance{fullBalance("acc-1", Base)})
	must(t, "first consent's balance", err)

	// The re-consent: new ids; the current account now reported by its GB IBAN
	// only, the euro account's IBAN without spaces, the card as it was.
	again := current
	again.AccountID, again.Number = "new-1", store.AccountNumber{IBAN: "GB35 LOYD 1234 5612 3456 78"}
	euroAgain := euro
	euroAgain.AccountID, euroAgain.Number.IBAN = "new-2", "de89370400440532013000"
	cardAgain := card
	cardAgain.AccountID = "card-new"
	res, err := s.UpsertAccounts(ctx, o, []store.Account{again, euroAgain})
	must(t, "re-consent's accounts", err)
	wantResult(t, "re-consent's accounts", res, store.BatchResult{Updated: 2})
	res, err = s.UpsertCards(ctx, o, []store.Card{cardAgain})
	must(t, "re-consent's card", err)
	wantResult(t, "re-consent's card", res, store.BatchResult{Updated: 1})

	more := Transactions("acc-1", 7, Base) // the 5 already stored and 2 new
	res, err = s.UpsertTransactions(ctx, o, append(rekeyed(more, "new-1"), rekeyed(cardTxs, "card-new")...))
	must(t, "re-consent's transactions", err)
	wantResult(t, "re-consent's transactions", res, store.BatchResult{Inserted: 2, Unchanged: 8})
	must(t, "re-consent's standing orders", s.ReplaceStandingOrders(ctx, o, "new-1", Base.Add(time.Hour), []store.StandingOrder{fullStandingOrder("new-1", 1)}))
	_, err = s.AppendBalances(ctx, o, []store.Balance{fullBalance("new-1", Base.Add(time.Hour))})
	must(t, "re-consent's balance", err)

	if c := counts(t, s, o.Key()); c.Accounts != 2 || c.Cards != 1 || c.Transactions != 10 || c.StandingOrders != 1 || c.Balances != 2 {
		t.Fatalf("after the re-consent: %+v, want 2 accounts, 1 card, 10 transactions, 1 standing order, 2 balances", c)
	}
	ids, err := s.AccountIdentities(ctx, o.Key())
	must(t, "account identities", err)
	want := []store.AccountIdentity{
		{AccountID: "acc-1", ProviderAccountID: "new-1", Key: "gb:123456:12345678"},
		{AccountID: "acc-2", ProviderAccountID: "new-2", Key: "iban:DE89370400440532013000"},
		{AccountID: "card-1", ProviderAccountID: "card-new", Key: "card:amex:VISA:1234:JOHNDOE", Card: true},
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("account identities after the re-consent:\n got: %+v\nwant: %+v", ids, want)
	}
	accounts, err := s.ListAccounts(ctx, o.Key())
	must(t, "accounts", err)
	wantAccount := again
	wantAccount.AccountID, wantAccount.ProviderAccountID = "acc-1", "new-1"
	equalRecords(t, "accounts after the re-consent", accounts[:1], []store.Account{wantAccount})
	cards, err := s.ListCards(ctx, o.Key())
	must(t, "cards", err)
	if len(cards) != 1 || cards[0].AccountID != "card-1" || cards[0].ProviderAccountID != "card-new" {
		t.Fatalf("cards after the re-consent: %+v", cards)
	}
	txs, err := s.ListTransactions(ctx, store.TransactionQuery{Key: o.Key(), AccountID: "acc-1"})
	must(t, "the current account's transactions", err)
	if len(txs) != 7 {
		t.Fatalf("the current account lists %d transactions, want 7 (5 of the first consent, 2 new)", len(txs))
	}
	history, err := s.ListBalances(ctx, o.Key(), "acc-1")
	must(t, "balance history", err)
	if len(history) != 2 {
		t.Fatalf("balance history of the current account: %d observations, want both consents' 2", len(history))
	}
	orders, err := s.ListStandingOrders(ctx, o.Key(), "acc-1")
	must(t, "standing orders", err)
	if len(orders) != 1 || orders[0].Payee != "Payee 1" {
		t.Fatalf("standing orders after the re-consent: %+v, want the re-consent's only", orders)
	}

	// Another connection of the same user holding the same accounts keeps its own rows.
	other := Owner("team-a", "monzo-2", "alice")
	res, err = s.UpsertAccounts(ctx, other, []store.Account{again})
	must(t, "another connection's account", err)
	wantResult(t, "another connection's account", res, store.BatchResult{Inserted: 1})
	if c := counts(t, s, o.Key()); c.Accounts != 2 {
		t.Fatalf("another connection's write changed this one's accounts: %+v", c)
	}
}

// testAccountMatching: which accounts a batch matches to existing rows.
func testAccountMatching(t *testing.T, s store.Store) {
	cases := []struct {
		name   string
		before []store.Account
		after  []store.Account
		want   store.BatchResult
		rows   int64
	}{
		{
			name:   "no numbers: matched by provider id only",
			before: []store.Account{{AccountID: "a", DisplayName: "Saver"}},
			after:  []store.Account{{AccountID: "b", DisplayName: "Saver"}},
			want:   store.BatchResult{Inserted: 1}, rows: 2,
		},
		{
			name:   "same provider id, numbers reported for the first time",
			before: []store.Account{{AccountID: "a"}},
			after:  []store.Account{{AccountID: "a", Number: store.AccountNumber{SortCode: "11-22-33", Number: "01234567"}}},
			want:   store.BatchResult{Updated: 1}, rows: 1,
		},
		{
			name: "two accounts sharing a key in one batch are kept apart",
			after: []store.Account{
				{AccountID: "a", Number: store.AccountNumber{IBAN: "FR7630006000011234567890189"}},
				{AccountID: "b", Number: store.AccountNumber{IBAN: "FR7630006000011234567890189"}},
			},
			want: store.BatchResult{Inserted: 2}, rows: 2,
		},
		{
			name:   "routing number and account number",
			before: []store.Account{{AccountID: "a", Number: store.AccountNumber{RoutingNumber: "021000021", Number: "9876543210"}}},
			after:  []store.Account{{AccountID: "b", Number: store.AccountNumber{RoutingNumber: "021000021", Number: "9876543210"}}},
			want:   store.BatchResult{Updated: 1}, rows: 1,
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Owner("team-m", fmt.Sprintf("conn-%d", i), "alice")
			if len(tc.before) > 0 {
				_, err := s.UpsertAccounts(t.Context(), o, tc.before)
				must(t, "before", err)
			}
			res, err := s.UpsertAccounts(t.Context(), o, tc.after)
			must(t, "after", err)
			wantResult(t, "after", res, tc.want)
			if c := counts(t, s, o.Key()); c.Accounts != tc.rows {
				t.Fatalf("%d account rows, want %d", c.Accounts, tc.rows)
			}
		})
	}
}
