package bankdata

import (
	"reflect"
	"testing"
	"time"
)

var anchor = time.Date(2025, 3, 14, 15, 4, 5, 0, time.UTC)

func gen(t testing.TB, o Options) *Dataset {
	t.Helper()
	if o.Anchor.IsZero() {
		o.Anchor = anchor
	}
	ds, err := Generate(o)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return ds
}

func TestGenerateValidates(t *testing.T) {
	if _, err := Generate(Options{Seed: 1}); err == nil {
		t.Fatal("Generate without Anchor: want error")
	}
	if _, err := Generate(Options{Seed: 1, Anchor: anchor, Size: "huge"}); err == nil {
		t.Fatal("Generate with unknown size: want error")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"": SizeMedium, "Small": SizeSmall, "medium": SizeMedium, "LARGE": SizeLarge} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a := gen(t, Options{Seed: 42, User: "john"})
	b := gen(t, Options{Seed: 42, User: "john"})
	if !reflect.DeepEqual(a.Accounts(), b.Accounts()) || a.Identity() != b.Identity() {
		t.Fatal("same options gave different accounts or identity")
	}
	from, to := anchor.AddDate(0, -6, 0), anchor
	for _, acc := range a.Accounts() {
		ta, tb := a.Transactions(acc.ID, from, to), b.Transactions(acc.ID, from, to)
		if len(ta) == 0 {
			t.Fatalf("account %s (%s): no transactions in six months", acc.ID, acc.Kind)
		}
		if !reflect.DeepEqual(ta, tb) {
			t.Fatalf("account %s: transactions differ between identical datasets", acc.ID)
		}
	}
	c := gen(t, Options{Seed: 43, User: "john"})
	if reflect.DeepEqual(a.Accounts()[0].ID, c.Accounts()[0].ID) {
		t.Fatal("different seeds gave the same account id")
	}
	d := gen(t, Options{Seed: 42, User: "john2"})
	if reflect.DeepEqual(a.Accounts()[0].IBAN, d.Accounts()[0].IBAN) {
		t.Fatal("different users gave the same IBAN")
	}
}

func TestAccountsShape(t *testing.T) {
	for _, tc := range []struct {
		size                    Size
		current, savings, cards int
		years                   int
	}{
		{SizeSmall, 1, 1, 1, 1},
		{SizeMedium, 1, 1, 1, 3},
		{SizeLarge, 2, 1, 1, 5},
	} {
		ds := gen(t, Options{Seed: 7, User: "john", Size: tc.size})
		counts := map[AccountKind]int{}
		for _, a := range ds.Accounts() {
			counts[a.Kind]++
			if a.Kind != KindCreditCard && !ValidIBAN(a.IBAN) {
				t.Errorf("%s: account %s has invalid IBAN %q", tc.size, a.ID, a.IBAN)
			}
			if len(a.ID) != 32 {
				t.Errorf("%s: account id %q is not 32 characters", tc.size, a.ID)
			}
		}
		if counts[KindCurrent] != tc.current || counts[KindSavings] != tc.savings || counts[KindCreditCard] != tc.cards {
			t.Errorf("%s: account kinds = %v", tc.size, counts)
		}
		if got := anchor.Truncate(day).Sub(ds.HistoryStart()); got < time.Duration(tc.years)*365*day {
			t.Errorf("%s: history reaches back %v, want >= %d years", tc.size, got, tc.years)
		}
	}
}

// The running balance chain must hold across the whole history and across
// arbitrary window boundaries, and agree with BalanceAt.
func TestRunningBalancesAddUp(t *testing.T) {
	ds := gen(t, Options{Seed: 3, User: "john", Size: SizeSmall})
	end := anchor.AddDate(0, 0, 120)
	for _, acc := range ds.Accounts() {
		all := ds.Transactions(acc.ID, ds.HistoryStart(), end)
		prev := acc.OpeningBalance
		seen := map[string]bool{}
		for i, tx := range all {
			if tx.RunningBalance != prev+tx.Amount {
				t.Fatalf("%s tx %d: running %d != previous %d + amount %d", acc.Kind, i, tx.RunningBalance, prev, tx.Amount)
			}
			if (tx.Amount < 0) != (tx.Type == Debit) {
				t.Fatalf("%s tx %d: amount %d but type %s", acc.Kind, i, tx.Amount, tx.Type)
			}
			if seen[tx.NormalisedID] {
				t.Fatalf("%s: duplicate normalised id %s", acc.Kind, tx.NormalisedID)
			}
			seen[tx.NormalisedID] = true
			if i > 0 && tx.Timestamp.Before(all[i-1].Timestamp) {
				t.Fatalf("%s: transactions out of order at %d", acc.Kind, i)
			}
			prev = tx.RunningBalance
		}
		// A sub-window gives the same rows as the slice of the full list.
		from, to := anchor.AddDate(0, 0, -40).Add(13*time.Hour), anchor.AddDate(0, 0, -10).Add(9*time.Hour)
		var want []Transaction
		for _, tx := range all {
			if !tx.Timestamp.Before(from) && !tx.Timestamp.After(to) {
				want = append(want, tx)
			}
		}
		if got := ds.Transactions(acc.ID, from, to); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: window gives %d rows, slice of full history %d", acc.Kind, len(got), len(want))
		}
		bal, err := ds.BalanceAt(acc.ID, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) > 0 && bal.Current != want[len(want)-1].RunningBalance {
			t.Fatalf("%s: BalanceAt %d != last running balance %d", acc.Kind, bal.Current, want[len(want)-1].RunningBalance)
		}
	}
}

func TestCardRepaymentMatchesCurrentAccount(t *testing.T) {
	ds := gen(t, Options{Seed: 9, User: "john"})
	accs := ds.Accounts()
	cur, card := accs[0], accs[len(accs)-1]
	from, to := time.Date(2024, 6, 5, 0, 0, 0, 0, time.UTC), time.Date(2024, 6, 5, 23, 59, 59, 0, time.UTC)
	var paid, received int64
	for _, tx := range ds.Transactions(cur.ID, from, to) {
		if tx.Category == "BILL_PAYMENT" {
			paid = -tx.Amount
		}
	}
	for _, tx := range ds.Transactions(card.ID, from, to) {
		if tx.Category == "CREDIT" {
			received = tx.Amount
		}
	}
	var spent int64
	for _, tx := range ds.Transactions(card.ID, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 31, 23, 59, 59, 0, time.UTC)) {
		if tx.Amount < 0 {
			spent -= tx.Amount
		}
	}
	if paid == 0 || paid != received || paid != spent {
		t.Fatalf("repayment: current paid %d, card received %d, May spend %d", paid, received, spent)
	}
}

func TestStandingOrdersAndDirectDebitsMatchTransactions(t *testing.T) {
	ds := gen(t, Options{Seed: 5, User: "john"})
	cur := ds.Accounts()[0]
	now := anchor
	sos := ds.StandingOrders(cur.ID, now)
	if len(sos) != 2 {
		t.Fatalf("standing orders = %d, want 2", len(sos))
	}
	for _, so := range sos {
		if !so.NextPaymentDate.After(now.Truncate(day)) || so.NextPaymentDate.Day() != so.DayOfMonth {
			t.Errorf("standing order %s: next payment %v (day %d) not after now", so.Reference, so.NextPaymentDate, so.DayOfMonth)
		}
	}
	dds := ds.DirectDebits(cur.ID, now)
	if len(dds) != len(directDebitDefs) {
		t.Fatalf("direct debits = %d", len(dds))
	}
	for _, dd := range dds {
		txs := ds.Transactions(cur.ID, dd.PreviousPaymentTime, dd.PreviousPaymentTime.Add(day-time.Second))
		found := false
		for _, tx := range txs {
			if tx.Category == "DIRECT_DEBIT" && -tx.Amount == dd.PreviousPaymentAmount {
				found = true
			}
		}
		if !found {
			t.Errorf("direct debit %s: no DIRECT_DEBIT transaction of %d on %v", dd.Name, dd.PreviousPaymentAmount, dd.PreviousPaymentTime)
		}
	}
	if got := ds.StandingOrders(ds.Accounts()[1].ID, now); got != nil {
		t.Errorf("savings account has standing orders: %v", got)
	}
}

func TestPendingAndFuture(t *testing.T) {
	ds := gen(t, Options{Seed: 11, User: "john"})
	cur := ds.Accounts()[0]
	now := anchor
	for _, p := range ds.Pending(cur.ID, now) {
		if !p.Pending || p.Timestamp.After(now) || p.Timestamp.Before(now.Truncate(day).Add(-day)) {
			t.Fatalf("pending tx %+v outside [yesterday, now]", p)
		}
	}
	// Transactions keep "happening" after the anchor, up to FutureEnd.
	later := ds.Transactions(cur.ID, anchor.AddDate(0, 0, 91), anchor.AddDate(0, 0, 120))
	if len(later) == 0 {
		t.Fatal("no transactions 91-120 days after the anchor")
	}
	if got := ds.Transactions(cur.ID, ds.FutureEnd().Add(day), ds.FutureEnd().Add(2*day)); len(got) != 0 {
		t.Fatalf("transactions after FutureEnd: %d", len(got))
	}
	if got := ds.Transactions("nope", anchor.AddDate(0, -1, 0), anchor); got != nil {
		t.Fatal("unknown account returned transactions")
	}
	if _, err := ds.BalanceAt("nope", anchor); err == nil {
		t.Fatal("BalanceAt unknown account: want error")
	}
}

func TestIdentity(t *testing.T) {
	if got := gen(t, Options{Seed: 1, User: "john"}).Identity().FullName; got != "John Doe" {
		t.Fatalf("john's name = %q", got)
	}
	id := gen(t, Options{Seed: 1, User: "alice"}).Identity()
	if id.FullName == "" || id.Address.Country != "GB" || id.DateOfBirth.IsZero() {
		t.Fatalf("identity incomplete: %+v", id)
	}
}

func BenchmarkGenerateMedium(b *testing.B) {
	for i := 0; i < b.N; i++ {
		gen(b, Options{Seed: int64(i), User: "john"})
	}
}

func BenchmarkTransactions90Days(b *testing.B) {
	ds := gen(b, Options{Seed: 1, User: "john"})
	id := ds.Accounts()[0].ID
	for i := 0; i < b.N; i++ {
		ds.Transactions(id, anchor.AddDate(0, 0, -90), anchor)
	}
}
