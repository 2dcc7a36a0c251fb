package budget

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func calls(ts ...time.Duration) []metav1.Time {
	var out []metav1.Time
	for _, d := range ts {
		out = append(out, metav1.NewTime(t0.Add(d)))
	}
	return out
}

func TestCheck(t *testing.T) {
	tx := Key{"acc-1", "transactions"}
	bal := Key{"acc-1", "balance"}
	ledger := []bankingv1alpha1.UnattendedCallEntry{
		{AccountID: "acc-1", Endpoint: "transactions", Calls: calls(-20*time.Hour, -12*time.Hour, -6*time.Hour)},
		{AccountID: "acc-1", Endpoint: "balance", Calls: calls(-25*time.Hour, -6*time.Hour)},
	}
	cases := []struct {
		name       string
		plan       Plan
		now        time.Time
		wantFits   bool
		wantFreeAt time.Time
	}{
		{"fourth call fits", Plan{tx: 1}, t0, true, time.Time{}},
		{"fifth call does not", Plan{tx: 2}, t0, false, t0.Add(4 * time.Hour)},
		{"calls older than 24h do not count", Plan{bal: 3}, t0, true, time.Time{}},
		{"fits again once the oldest leaves the window", Plan{tx: 2}, t0.Add(4 * time.Hour), true, time.Time{}},
		{"a plan over the limit alone never fits", Plan{Key{"acc-2", "balance"}: 5}, t0, false, time.Time{}},
		{"keys are independent", Plan{tx: 1, Key{"acc-2", "transactions"}: 4}, t0, true, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fits, freeAt := Check(ledger, tc.plan, tc.now)
			if fits != tc.wantFits || !freeAt.Equal(tc.wantFreeAt) {
				t.Fatalf("Check = %v, %s; want %v, %s", fits, freeAt, tc.wantFits, tc.wantFreeAt)
			}
		})
	}
}

func TestReserveNeverExceedsTheLimit(t *testing.T) {
	k := Key{"acc-1", "transactions"}
	var ledger []bankingv1alpha1.UnattendedCallEntry
	sent := 0
	// An hourly job over three days: reserve only when the call fits.
	for h := 0; h < 72; h++ {
		now := t0.Add(time.Duration(h) * time.Hour)
		if fits, _ := Check(ledger, Plan{k: 1}, now); fits {
			ledger = Reserve(ledger, Plan{k: 1}, now)
			sent++
		}
		if n := len(Prune(ledger, now)); n > 0 && len(Prune(ledger, now)[0].Calls) > Limit {
			t.Fatalf("hour %d: %d calls in the window", h, len(Prune(ledger, now)[0].Calls))
		}
	}
	if sent != 12 {
		t.Fatalf("sent %d calls in 72 hours, want 12 (4 a day)", sent)
	}
	if got := Remaining(ledger, []Key{k}, t0.Add(72*time.Hour)); got < 0 || got > Limit {
		t.Fatalf("Remaining = %d", got)
	}
}

func TestOversized(t *testing.T) {
	tx1, tx2, bal := Key{"acc-1", "transactions"}, Key{"acc-2", "transactions"}, Key{"acc-1", "balance"}
	for _, tc := range []struct {
		name string
		plan Plan
		want []Key
	}{
		{"empty plan", Plan{}, nil},
		{"four calls fit an empty ledger", Plan{tx1: 4, bal: 1}, nil},
		{"five calls never fit", Plan{tx1: 5, bal: 1}, []Key{tx1}},
		{"every oversized key, sorted", Plan{tx2: 6, tx1: 5, bal: 4}, []Key{tx1, tx2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Oversized(tc.plan)
			if len(got) != len(tc.want) {
				t.Fatalf("Oversized = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("Oversized = %v, want %v", got, tc.want)
				}
			}
		})
	}
}
