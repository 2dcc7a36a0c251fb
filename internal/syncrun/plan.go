// Package syncrun plans a SyncJob run and stores what it fetched. A run has two
// phases: connection data (accounts, cards, info, identity), then account data per
// account and card (balance, transactions, pending, standing orders, direct debits).
// Planning is pure, so the budget check and the transaction windows are table-tested.
package syncrun

import (
	"fmt"
	"strings"
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/budget"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// Defaults for spec.transactions applied in code, not as CRD defaults.
const (
	DefaultLookback = 90 * 24 * time.Hour
	DefaultOverlap  = 72 * time.Hour
	// MaxWindow bounds one transactions request; longer look-backs are chunked.
	MaxWindow = 365 * 24 * time.Hour
)

// Account is an account or card the account-data phase reads.
type Account struct {
	ID   string
	Card bool
}

// ConnectionFetches are the connection-level fetches of a job. Accounts (and cards,
// when requested) are read whenever any per-account resource is, to find the accounts.
func ConnectionFetches(sj *bankingv1alpha1.SyncJob) []provider.Fetch {
	want := wanted(sj)
	var out []provider.Fetch
	if want[bankingv1alpha1.ResourceInfo] {
		out = append(out, provider.Fetch{Resource: provider.ResourceInfo})
	}
	if want[bankingv1alpha1.ResourceIdentity] {
		out = append(out, provider.Fetch{Resource: provider.ResourceIdentity})
	}
	if want[bankingv1alpha1.ResourceAccounts] || needsAccounts(want) {
		out = append(out, provider.Fetch{Resource: provider.ResourceAccounts})
	}
	if want[bankingv1alpha1.ResourceCards] {
		out = append(out, provider.Fetch{Resource: provider.ResourceCards})
	}
	return out
}

// AccountFetches are the per-account fetches of a job. window gives each account's
// transaction window.
func AccountFetches(sj *bankingv1alpha1.SyncJob, accounts []Account, window func(Account) (from, to time.Time)) []provider.Fetch {
	want := wanted(sj)
	var out []provider.Fetch
	for _, a := range accounts {
		base := provider.Fetch{AccountID: a.ID, Card: a.Card}
		add := func(r provider.Resource) {
			f := base
			f.Resource = r
			out = append(out, f)
		}
		if want[bankingv1alpha1.ResourceBalance] {
			add(provider.ResourceBalance)
		}
		if want[bankingv1alpha1.ResourceTransactions] {
			from, to := window(a)
			for _, w := range Windows(from, to, MaxWindow) {
				f := base
				f.Resource, f.From, f.To = provider.ResourceTransactions, w[0], w[1]
				out = append(out, f)
			}
		}
		if want[bankingv1alpha1.ResourcePendingTransactions] {
			add(provider.ResourcePending)
		}
		if !a.Card && want[bankingv1alpha1.ResourceStandingOrders] {
			add(provider.ResourceStandingOrders)
		}
		if !a.Card && want[bankingv1alpha1.ResourceDirectDebits] {
			add(provider.ResourceDirectDebits)
		}
	}
	return out
}

// The SCA window (providers-api.md §3.6): some banks serve history older than
// SCAHistory only within SCAWindow of the user's authentication; later requests
// for it are refused (TrueLayer's 403 sca_exceeded).
const (
	SCAWindow  = 5 * time.Minute
	SCAHistory = 90 * 24 * time.Hour
)

// SCAFloor is the earliest From a request may ask for outside the SCA window:
// the first whole UTC day inside SCAHistory, since providers bound windows by
// dates.
func SCAFloor(now time.Time) time.Time {
	y, m, d := now.Add(-SCAHistory).UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(24 * time.Hour)
}

// HistoryFloor is how far back a run may read at now: no bound (zero) where
// the provider has no SCA limit or while the SCA window after the user's
// authentication is open, SCAFloor(now) otherwise. An unknown
// authentication time counts as outside the window.
func HistoryFloor(sca bool, authenticatedAt, now time.Time) time.Time {
	if !sca || (!authenticatedAt.IsZero() && now.Before(authenticatedAt.Add(SCAWindow))) {
		return time.Time{}
	}
	return SCAFloor(now)
}

// TransactionWindow is an account's next window: the look-back on the first run,
// then from the watermark minus the overlap; never before floor (see
// HistoryFloor; zero means no bound); always up to now.
func TransactionWindow(sj *bankingv1alpha1.SyncJob, watermark, now, floor time.Time) (from, to time.Time) {
	from = now.Add(-lookback(sj))
	if !watermark.IsZero() {
		if incremental := watermark.Add(-overlap(sj)); incremental.After(from) {
			from = incremental
		}
	}
	if !floor.IsZero() && from.Before(floor) {
		from = floor
	}
	return from, now
}

// DeepHistory reports whether the job's first run reads further back than
// SCAHistory, which banks allow only within SCAWindow of the consent.
func DeepHistory(sj *bankingv1alpha1.SyncJob) bool {
	return wanted(sj)[bankingv1alpha1.ResourceTransactions] && lookback(sj) > SCAHistory
}

func lookback(sj *bankingv1alpha1.SyncJob) time.Duration {
	if t := sj.Spec.Transactions; t != nil && t.Lookback != nil {
		return t.Lookback.Duration
	}
	return DefaultLookback
}

func overlap(sj *bankingv1alpha1.SyncJob) time.Duration {
	if t := sj.Spec.Transactions; t != nil && t.Overlap != nil {
		return t.Overlap.Duration
	}
	return DefaultOverlap
}

// NeverFits says why no unattended run of sj can ever fit the budget ("" when one
// can): its first run needs more than budget.Limit calls to one endpoint of an
// account, e.g. a look-back longer than four MaxWindow windows.
func NeverFits(sj *bankingv1alpha1.SyncJob) string {
	probe := []Account{{ID: "probe"}}
	ref := time.Unix(0, 0).UTC()
	plan := BudgetPlan(append(ConnectionFetches(sj), AccountFetches(sj, probe, func(Account) (time.Time, time.Time) {
		return TransactionWindow(sj, time.Time{}, ref, time.Time{})
	})...))
	over := budget.Oversized(plan)
	if len(over) == 0 {
		return ""
	}
	var parts []string
	for _, k := range over {
		parts = append(parts, fmt.Sprintf("%d calls to %s", plan[k], k.Endpoint))
	}
	return fmt.Sprintf("A first run needs %s of each account (one per %d-day window of spec.transactions.lookback), "+
		"more than the %d unattended calls per account and endpoint allowed in 24 hours, so it could never run unattended: "+
		"shorten spec.transactions.lookback to at most %dh, or run it attended (run-requested-at with psu-ip)",
		strings.Join(parts, ", "), int(MaxWindow.Hours()/24), budget.Limit, int(MaxWindow.Hours())*budget.Limit)
}

// Windows splits [from, to) into consecutive windows of at most max.
func Windows(from, to time.Time, max time.Duration) [][2]time.Time {
	var out [][2]time.Time
	for start := from; start.Before(to); start = start.Add(max) {
		end := start.Add(max)
		if end.After(to) {
			end = to
		}
		out = append(out, [2]time.Time{start, end})
	}
	return out
}

// BudgetPlan counts the calls of fetches against the unattended budget.
func BudgetPlan(fetches []provider.Fetch) budget.Plan {
	p := budget.Plan{}
	for _, f := range fetches {
		p[BudgetKey(f)]++
	}
	return p
}

// BudgetKey is the ledger key of a fetch: its account and endpoint.
func BudgetKey(f provider.Fetch) budget.Key {
	return budget.Key{AccountID: f.AccountID, Endpoint: string(f.Resource)}
}

func wanted(sj *bankingv1alpha1.SyncJob) map[bankingv1alpha1.SyncResource]bool {
	m := map[bankingv1alpha1.SyncResource]bool{}
	for _, r := range sj.Spec.Resources {
		m[r] = true
	}
	return m
}

func needsAccounts(want map[bankingv1alpha1.SyncResource]bool) bool {
	for _, r := range []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceBalance, bankingv1alpha1.ResourceTransactions,
		bankingv1alpha1.ResourcePendingTransactions, bankingv1alpha1.ResourceStandingOrders, bankingv1alpha1.ResourceDirectDebits} {
		if want[r] {
			return true
		}
	}
	return false
}
