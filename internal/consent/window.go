package consent

import "time"

// Phase is where a consent stands in its life.
type Phase string

const (
	// PhaseUnknown: the consent's end is not known yet (not read from the provider).
	PhaseUnknown Phase = "Unknown"
	// PhaseValid: before the warning window.
	PhaseValid Phase = "Valid"
	// PhaseExpiring: inside spec.reconsent.notifyBefore before the end.
	PhaseExpiring Phase = "Expiring"
	// PhaseExpired: the consent has ended.
	PhaseExpired Phase = "Expired"
)

// Window places now in the consent's life and says when the phase changes next.
func Window(now, expiresAt time.Time, notifyBefore time.Duration) (Phase, time.Time) {
	if expiresAt.IsZero() {
		return PhaseUnknown, time.Time{}
	}
	if notifyBefore <= 0 {
		notifyBefore = DefaultNotifyBefore
	}
	warnAt := expiresAt.Add(-notifyBefore)
	switch {
	case !now.Before(expiresAt):
		return PhaseExpired, time.Time{}
	case !now.Before(warnAt):
		return PhaseExpiring, expiresAt
	default:
		return PhaseValid, warnAt
	}
}

// Earliest returns the earliest non-zero time, or zero when all are zero. The
// controller requeues at the earliest of its deadlines.
func Earliest(ts ...time.Time) time.Time {
	var min time.Time
	for _, t := range ts {
		if t.IsZero() {
			continue
		}
		if min.IsZero() || t.Before(min) {
			min = t
		}
	}
	return min
}

// RequeueAfter converts a deadline into a delay, at least one second (so a deadline
// that just passed is looked at promptly but never in a hot loop) and zero for no
// deadline.
func RequeueAfter(now, deadline time.Time) time.Duration {
	if deadline.IsZero() {
		return 0
	}
	d := deadline.Sub(now)
	if d < time.Second {
		return time.Second
	}
	return d
}
