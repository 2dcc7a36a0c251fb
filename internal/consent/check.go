package consent

import (
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// KeptByProvider reports whether the provider keeps the consent server-side
// (TrueLayer Data API v3 data connections, Codat data connections). Such a
// connection has no per-user tokens: whether it is authorised is whatever the
// provider says when asked, so the controller checks with the provider instead of
// keeping a token Secret fresh.
func KeptByProvider(p bankingv1alpha1.Provider, api bankingv1alpha1.DataAPI) bool {
	return p == bankingv1alpha1.ProviderCodat || p == bankingv1alpha1.ProviderTrueLayer && api == bankingv1alpha1.DataAPIV3
}

// KeptState is where a consent the provider keeps stands, as far as the operator
// knows; it decides how often the provider is asked.
type KeptState int

const (
	// KeptPending: the user has not authorised yet.
	KeptPending KeptState = iota
	// KeptStalled: the consent ended (revoked, expired, deauthorised) and a
	// re-consent link waits for the user.
	KeptStalled
	// KeptActive: the consent is active; the provider is asked now and then whether
	// it still is (revocation at the bank is only seen by asking).
	KeptActive
)

// ActiveCheckInterval is how often an active consent kept by the provider is checked
// for revocation: the cadence at which a V1 connection's token refresh would notice.
const ActiveCheckInterval = time.Hour

// CheckState is what the check schedule looks at.
type CheckState struct {
	State KeptState
	// Since is when the user was given the current link (pending or stalled).
	Since time.Time
	// Last is the last check this process made; zero when it has made none.
	Last time.Time
	// ActiveInterval, when set, replaces ActiveCheckInterval (see
	// V3ActiveCheckInterval).
	ActiveInterval time.Duration
}

// V3ActiveCheckInterval is how often an active Data API v3 connection is checked.
// Its only check is a data call (the v3 document has no status endpoint) that the
// bank may count among the four unattended calls a day, so it is made once a day;
// a SyncJob that meets the end of the consent asks for a check at once.
const V3ActiveCheckInterval = 24 * time.Hour

// WaitingCheckInterval is the pause between checks of a consent waiting for the
// user, given how long the user has had the link: users who act do so within
// minutes, so the first hours are checked often and a link left alone for days
// costs a few calls a day.
func WaitingCheckInterval(waited time.Duration) time.Duration {
	switch {
	case waited < 2*time.Hour:
		return 30 * time.Second
	case waited < 24*time.Hour:
		return 5 * time.Minute
	case waited < 7*24*time.Hour:
		return time.Hour
	default:
		return 6 * time.Hour
	}
}

// NextCheck is when the provider is next asked about the consent: at once when this
// process has not asked yet (the caller spreads active connections after a restart
// by seeding Last), otherwise one step of the schedule after the last check.
func NextCheck(s CheckState) time.Time {
	if s.Last.IsZero() {
		return s.Since
	}
	if s.State == KeptActive {
		if s.ActiveInterval > 0 {
			return s.Last.Add(s.ActiveInterval)
		}
		return s.Last.Add(ActiveCheckInterval)
	}
	waited := s.Last.Sub(s.Since)
	if waited < 0 {
		waited = 0
	}
	return s.Last.Add(WaitingCheckInterval(waited))
}
