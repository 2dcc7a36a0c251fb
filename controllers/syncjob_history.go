package controllers

import (
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// How far back a run may read, and where the next run continues (the watermarks).

// scaLimited: TrueLayer's banks limit history older than 90 days to the SCA window;
// Codat pulls history itself on link.
func scaLimited(bc *bankingv1alpha1.BankConnection) bool {
	return bc.Spec.Provider == bankingv1alpha1.ProviderTrueLayer
}

// authenticatedAt is when the user last authenticated at the bank, as far as the
// operator knows: the grant of the current tokens, else the consent's creation.
func authenticatedAt(bc *bankingv1alpha1.BankConnection) time.Time {
	if c := bc.Status.Consent; c != nil {
		if c.GrantedAt != nil {
			return c.GrantedAt.Time
		}
		if c.CreatedAt != nil {
			return c.CreatedAt.Time
		}
	}
	return time.Time{}
}

// historyFloor is how far back the job's runs on bc may read at now.
func historyFloor(bc *bankingv1alpha1.BankConnection, now time.Time) time.Time {
	return syncrun.HistoryFloor(scaLimited(bc), authenticatedAt(bc), now)
}

func watermark(sj *bankingv1alpha1.SyncJob, accountID string) time.Time {
	for _, w := range sj.Status.Watermarks {
		if w.AccountID == accountID {
			return w.TransactionsThrough.Time
		}
	}
	return time.Time{}
}

// advanceWatermark moves the watermark of an account (by its store id, see
// storeAccountIDs) to the end of a stored window when
// the window starts at or before it, so a failed earlier window is never skipped,
// or at or before floor (see historyFloor): older history cannot be read any more,
// so waiting for it would hold the watermark forever.
func advanceWatermark(sj *bankingv1alpha1.SyncJob, accountID string, f provider.Fetch, floor time.Time) {
	to := metav1.NewTime(f.To.UTC().Truncate(time.Second))
	for i := range sj.Status.Watermarks {
		w := &sj.Status.Watermarks[i]
		if w.AccountID != accountID {
			continue
		}
		reachable := !f.From.After(w.TransactionsThrough.Time) || (!floor.IsZero() && !f.From.After(floor))
		if reachable && to.After(w.TransactionsThrough.Time) {
			w.TransactionsThrough = to
		}
		return
	}
	sj.Status.Watermarks = append(sj.Status.Watermarks, bankingv1alpha1.AccountWatermark{AccountID: accountID, TransactionsThrough: to})
	sort.Slice(sj.Status.Watermarks, func(i, j int) bool { return sj.Status.Watermarks[i].AccountID < sj.Status.Watermarks[j].AccountID })
}
