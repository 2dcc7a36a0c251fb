package consent

import (
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// Defaults applied when the spec leaves a field unset. They are applied in code, not
// as CRD defaults, so Git-managed manifests do not drift from what the cluster stores.
const (
	DefaultRenewBefore  = 10 * time.Minute
	DefaultNotifyBefore = 7 * 24 * time.Hour
	// RefreshTokenIdleLimit is how long a TrueLayer refresh token may go unused before
	// it lapses; OnDemand connections refresh before KeepAliveBefore ahead of it.
	RefreshTokenIdleLimit = 30 * 24 * time.Hour
	KeepAliveBefore       = 3 * 24 * time.Hour
)

// RefreshState is what the refresh decision looks at.
type RefreshState struct {
	// Key identifies the connection (its UID) for stable jitter.
	Key    string
	Policy bankingv1alpha1.RefreshPolicy
	// RenewBefore is spec.refresh.renewBefore (0 = default).
	RenewBefore time.Duration
	// TokenExpiresAt is the access token's expiry.
	TokenExpiresAt time.Time
	// LastRefreshAt is when the refresh token was last used (or issued).
	LastRefreshAt time.Time
	// FailedAttempts and LastFailureAt drive the backoff.
	FailedAttempts int32
	LastFailureAt  time.Time
	// Forced is true when the refresh-requested-at annotation has a new value.
	Forced bool
	// HasRefreshToken is false for one-time consents; they are never refreshed.
	HasRefreshToken bool
}

// RefreshDecision says whether to refresh now and, if not, when to look again.
type RefreshDecision struct {
	Now bool
	// At is when the next refresh is due (zero when none will be).
	At time.Time
}

// DecideRefresh applies the refresh policy. Failures back off exponentially from
// the last failure, whatever else is due, so a provider outage costs at most one call
// per backoff step.
func DecideRefresh(now time.Time, s RefreshState) RefreshDecision {
	if !s.HasRefreshToken {
		return RefreshDecision{}
	}
	due := scheduledRefresh(s)
	if s.Forced {
		due = now
	}
	if s.FailedAttempts > 0 {
		if retry := s.LastFailureAt.Add(Backoff(s.Key, s.FailedAttempts)); retry.After(due) {
			due = retry
		}
	}
	if !due.After(now) {
		return RefreshDecision{Now: true, At: due}
	}
	return RefreshDecision{At: due}
}

// scheduledRefresh is when the policy wants the next refresh, ignoring failures.
func scheduledRefresh(s RefreshState) time.Time {
	keepAlive := s.LastRefreshAt.Add(RefreshTokenIdleLimit - KeepAliveBefore)
	if s.Policy == bankingv1alpha1.RefreshPolicyOnDemand {
		return keepAlive
	}
	renew := s.RenewBefore
	if renew <= 0 {
		renew = DefaultRenewBefore
	}
	// Refresh somewhere in the last fifth of the window before renewBefore, stable per
	// connection, so tokens issued in the same second do not refresh in the same second.
	due := s.TokenExpiresAt.Add(-renew - Jitter(s.Key, renew/5))
	if keepAlive.Before(due) {
		due = keepAlive
	}
	return due
}
