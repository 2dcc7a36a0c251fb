// Package budget enforces the regulatory limit on unattended data calls: at most four
// per account and endpoint in any rolling 24 hours (PSD2 RTS art. 36(5)), across all
// SyncJobs of a connection. The ledger lives in the BankConnection's status; a run
// reserves its calls in the ledger (an optimistic-locked write) before sending them,
// so two jobs can never both spend the last call.
package budget

import (
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// Limit is the number of unattended calls allowed per account and endpoint.
const Limit = 4

// Window is the rolling period of the limit.
const Window = 24 * time.Hour

// Key identifies a counted endpoint: an account (empty for connection-level endpoints
// such as accounts and info) and the endpoint name.
type Key struct {
	AccountID string
	Endpoint  string
}

// Plan is how many calls a run will make per key.
type Plan map[Key]int

// Prune drops calls older than the window and empty entries, sorted by key.
func Prune(entries []bankingv1alpha1.UnattendedCallEntry, now time.Time) []bankingv1alpha1.UnattendedCallEntry {
	var out []bankingv1alpha1.UnattendedCallEntry
	for _, e := range entries {
		var calls []metav1.Time
		for _, c := range e.Calls {
			if now.Sub(c.Time) < Window {
				calls = append(calls, c)
			}
		}
		if len(calls) > 0 {
			out = append(out, bankingv1alpha1.UnattendedCallEntry{AccountID: e.AccountID, Endpoint: e.Endpoint, Calls: calls})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AccountID != out[j].AccountID {
			return out[i].AccountID < out[j].AccountID
		}
		return out[i].Endpoint < out[j].Endpoint
	})
	return out
}

// Check says whether plan fits the budget at now. When it does not, freeAt is the
// earliest time it would (the oldest blocking call leaving the window).
func Check(entries []bankingv1alpha1.UnattendedCallEntry, plan Plan, now time.Time) (fits bool, freeAt time.Time) {
	used := map[Key][]time.Time{}
	for _, e := range Prune(entries, now) {
		for _, c := range e.Calls {
			used[Key{e.AccountID, e.Endpoint}] = append(used[Key{e.AccountID, e.Endpoint}], c.Time)
		}
	}
	fits = true
	for k, n := range plan {
		calls := used[k]
		over := len(calls) + n - Limit
		if over <= 0 {
			continue
		}
		fits = false
		sort.Slice(calls, func(i, j int) bool { return calls[i].Before(calls[j]) })
		var at time.Time
		if over <= len(calls) {
			at = calls[over-1].Add(Window)
		} else {
			at = time.Time{} // the plan alone exceeds the limit: never fits
		}
		if at.After(freeAt) {
			freeAt = at
		}
	}
	return fits, freeAt
}

// Oversized returns the keys for which plan alone needs more than Limit calls,
// sorted: such a plan never fits, whatever the ledger holds.
func Oversized(plan Plan) []Key {
	var out []Key
	for k, n := range plan {
		if n > Limit {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AccountID != out[j].AccountID {
			return out[i].AccountID < out[j].AccountID
		}
		return out[i].Endpoint < out[j].Endpoint
	})
	return out
}

// Reserve records plan's calls at now and returns the new ledger (pruned, sorted).
func Reserve(entries []bankingv1alpha1.UnattendedCallEntry, plan Plan, now time.Time) []bankingv1alpha1.UnattendedCallEntry {
	out := Prune(entries, now)
	at := metav1.NewTime(now.UTC().Truncate(time.Second))
	for k, n := range plan {
		i := indexOf(out, k)
		if i < 0 {
			out = append(out, bankingv1alpha1.UnattendedCallEntry{AccountID: k.AccountID, Endpoint: k.Endpoint})
			i = len(out) - 1
		}
		for j := 0; j < n; j++ {
			out[i].Calls = append(out[i].Calls, at)
		}
	}
	return Prune(out, now)
}

// Remaining is the smallest number of calls left for any key of plan.
func Remaining(entries []bankingv1alpha1.UnattendedCallEntry, keys []Key, now time.Time) int {
	min := Limit
	pruned := Prune(entries, now)
	for _, k := range keys {
		left := Limit
		if i := indexOf(pruned, k); i >= 0 {
			left -= len(pruned[i].Calls)
		}
		if left < min {
			min = left
		}
	}
	return min
}

func indexOf(entries []bankingv1alpha1.UnattendedCallEntry, k Key) int {
	for i, e := range entries {
		if e.AccountID == k.AccountID && e.Endpoint == k.Endpoint {
			return i
		}
	}
	return -1
}
