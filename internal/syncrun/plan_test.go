package syncrun

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/budget"
	"github.com/consent-operator/consent-operator/internal/provider"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func job(resources ...bankingv1alpha1.SyncResource) *bankingv1alpha1.SyncJob {
	return &bankingv1alpha1.SyncJob{Spec: bankingv1alpha1.SyncJobSpec{Resources: resources}}
}

func TestTransactionWindow(t *testing.T) {
	sj := job(bankingv1alpha1.ResourceTransactions)
	sj.Spec.Transactions = &bankingv1alpha1.TransactionWindow{
		Lookback: &metav1.Duration{Duration: 30 * 24 * time.Hour},
		Overlap:  &metav1.Duration{Duration: 48 * time.Hour},
	}
	cases := []struct {
		name      string
		watermark time.Time
		wantFrom  time.Time
	}{
		{"first run looks back", time.Time{}, now.Add(-30 * 24 * time.Hour)},
		{"incremental from the watermark minus overlap", now.Add(-6 * time.Hour), now.Add(-54 * time.Hour)},
		{"never further back than the look-back", now.Add(-40 * 24 * time.Hour), now.Add(-30 * 24 * time.Hour)},
	}
	for _, tc := range cases {
		from, to := TransactionWindow(sj, tc.watermark, now, time.Time{})
		if !from.Equal(tc.wantFrom) || !to.Equal(now) {
			t.Errorf("%s: [%s, %s), want [%s, %s)", tc.name, from, to, tc.wantFrom, now)
		}
	}
	from, _ := TransactionWindow(job(), time.Time{}, now, time.Time{})
	if !from.Equal(now.Add(-DefaultLookback)) {
		t.Errorf("default look-back: %s", from)
	}
}

func TestWindowsChunkAndCover(t *testing.T) {
	from := now.Add(-3 * MaxWindow)
	ws := Windows(from.Add(-time.Hour), now, MaxWindow)
	if len(ws) != 4 {
		t.Fatalf("%d windows for 3 maxima and an hour, want 4", len(ws))
	}
	for i := 1; i < len(ws); i++ {
		if !ws[i][0].Equal(ws[i-1][1]) {
			t.Fatalf("gap or overlap between windows %d and %d", i-1, i)
		}
	}
	if !ws[0][0].Equal(from.Add(-time.Hour)) || !ws[3][1].Equal(now) {
		t.Fatalf("windows do not cover the range: %v", ws)
	}
	if len(Windows(now, now, MaxWindow)) != 0 {
		t.Fatal("an empty range has windows")
	}
}

func TestPlanning(t *testing.T) {
	sj := job(bankingv1alpha1.ResourceBalance, bankingv1alpha1.ResourceTransactions, bankingv1alpha1.ResourceStandingOrders, bankingv1alpha1.ResourceCards)
	conn := ConnectionFetches(sj)
	if len(conn) != 2 || conn[0].Resource != provider.ResourceAccounts || conn[1].Resource != provider.ResourceCards {
		t.Fatalf("connection fetches: %+v (accounts are implied by per-account resources)", conn)
	}
	accounts := []Account{{ID: "a1"}, {ID: "c1", Card: true}}
	fetches := AccountFetches(sj, accounts, func(Account) (time.Time, time.Time) { return now.Add(-time.Hour), now })
	plan := BudgetPlan(fetches)
	want := budget.Plan{
		{AccountID: "a1", Endpoint: "balance"}: 1, {AccountID: "a1", Endpoint: "transactions"}: 1, {AccountID: "a1", Endpoint: "standing_orders"}: 1,
		{AccountID: "c1", Endpoint: "balance"}: 1, {AccountID: "c1", Endpoint: "transactions"}: 1,
	}
	if len(plan) != len(want) {
		t.Fatalf("plan %v, want %v (cards have no standing orders)", plan, want)
	}
	for k, n := range want {
		if plan[k] != n {
			t.Errorf("plan[%v] = %d, want %d", k, plan[k], n)
		}
	}
	if len(ConnectionFetches(job(bankingv1alpha1.ResourceInfo))) != 1 {
		t.Error("info alone must not read accounts")
	}
}

// TestHistoryFloor: history older than 90 days is asked for only within five
// minutes of the user's authentication, and never from providers without SCA
// limits; outside, a window starts at the first whole day inside 90 days.
func TestHistoryFloor(t *testing.T) {
	floor := time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC) // now - 90 days is 2025-12-01 12:00
	for _, tc := range []struct {
		name string
		sca  bool
		auth time.Time
		want time.Time
	}{
		{"no SCA limit", false, now.Add(-time.Hour), time.Time{}},
		{"just authenticated", true, now.Add(-time.Minute), time.Time{}},
		{"at the window's end", true, now.Add(-SCAWindow), floor},
		{"long after", true, now.Add(-30 * 24 * time.Hour), floor},
		{"authentication unknown", true, time.Time{}, floor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HistoryFloor(tc.sca, tc.auth, now); !got.Equal(tc.want) {
				t.Fatalf("HistoryFloor = %s, want %s", got, tc.want)
			}
		})
	}
	if f := SCAFloor(now); now.Sub(f) > SCAHistory || now.Sub(f) < SCAHistory-24*time.Hour {
		t.Fatalf("SCAFloor %s is not within the last whole day of 90", f)
	}
}

// TestTransactionWindowSCA: outside the SCA window a deep first run and a
// stale watermark are clipped to the floor; inside, the look-back stands.
func TestTransactionWindowSCA(t *testing.T) {
	sj := job(bankingv1alpha1.ResourceTransactions)
	sj.Spec.Transactions = &bankingv1alpha1.TransactionWindow{Lookback: &metav1.Duration{Duration: 2 * 365 * 24 * time.Hour}}
	floor := SCAFloor(now)
	for _, tc := range []struct {
		name             string
		watermark, floor time.Time
		want             time.Time
	}{
		{"fresh consent: the whole look-back", time.Time{}, time.Time{}, now.Add(-2 * 365 * 24 * time.Hour)},
		{"later: at most 90 days", time.Time{}, floor, floor},
		{"a watermark older than 90 days", now.Add(-200 * 24 * time.Hour), floor, floor},
		{"a recent watermark is not moved", now.Add(-24 * time.Hour), floor, now.Add(-24*time.Hour - DefaultOverlap)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if from, _ := TransactionWindow(sj, tc.watermark, now, tc.floor); !from.Equal(tc.want) {
				t.Fatalf("from %s, want %s", from, tc.want)
			}
		})
	}
	if !DeepHistory(sj) || DeepHistory(job(bankingv1alpha1.ResourceTransactions)) || DeepHistory(job(bankingv1alpha1.ResourceBalance)) {
		t.Fatal("DeepHistory: only a look-back beyond 90 days of transactions is deep")
	}
}

// TestNeverFits: a look-back of more than four 365-day windows can never run
// unattended; four windows can.
func TestNeverFits(t *testing.T) {
	for _, tc := range []struct {
		lookback time.Duration
		never    bool
	}{
		{90 * 24 * time.Hour, false},
		{4 * MaxWindow, false},
		{4*MaxWindow + time.Hour, true},
		{6 * MaxWindow, true},
	} {
		sj := job(bankingv1alpha1.ResourceAccounts, bankingv1alpha1.ResourceTransactions)
		sj.Spec.Transactions = &bankingv1alpha1.TransactionWindow{Lookback: &metav1.Duration{Duration: tc.lookback}}
		msg := NeverFits(sj)
		if (msg != "") != tc.never {
			t.Errorf("lookback %s: NeverFits %q", tc.lookback, msg)
		}
		if tc.never && !strings.Contains(msg, "spec.transactions.lookback") {
			t.Errorf("lookback %s: the reason does not say what to change: %q", tc.lookback, msg)
		}
	}
	if msg := NeverFits(job(bankingv1alpha1.ResourceBalance)); msg != "" {
		t.Errorf("a job without transactions: %q", msg)
	}
}
