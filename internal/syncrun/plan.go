// Package syncrun plans a SyncJob run and stores what it fetched. A run has two
// phases: connection data (accounts, cards, info, identity), then account data per
// account and card (balance, transactions, pending, standing orders, direct debits).
// Planning is pure, so the budget check and the transaction windows are table-tested.
package syncrun

import (
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

// TransactionWindow is an account's next window: the look-back on the first run,
// then from the watermark minus the overlap; always up to now.
func TransactionWindow(sj *bankingv1alpha1.SyncJob, watermark, now time.Time) (from, to time.Time) {
	lookback, overlap := DefaultLookback, DefaultOverlap
	if t := sj.Spec.Transactions; t != nil {
		if t.Lookback != nil {
			lookback = t.Lookback.Duration
		}
		if t.Overlap != nil {
			overlap = t.Overlap.Duration
		}
	}
	from = now.Add(-lookback)
	if !watermark.IsZero() {
		if incremental := watermark.Add(-overlap); incremental.After(from) {
			from = incremental
		}
	}
	return from, now
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
