package consent

import "time"

// WindowState is where a consent stands in its life.
type WindowState string

const (
	// WindowUnknown: the consent's end is not known yet (not read from the provider).
	WindowUnknown WindowState = "Unknown"
	// WindowValid: before the warning window.
	WindowValid WindowState = "Valid"
	// WindowExpiring: inside spec.reconsent.notifyBefore before the end.
	WindowExpiring WindowState = "Expiring"
	// WindowExpired: the consent has ended.
	WindowExpired WindowState = "Expired"
)

// Window places now in the consent's life and says when that changes next.
func Window(now, expiresAt time.Time, notifyBefore time.Duration) (WindowState, time.Time) {
	if expiresAt.IsZero() {
		return WindowUnknown, time.Time{}
	}
	if notifyBefore <= 0 {
		notifyBefore = DefaultNotifyBefore
	}
	warnAt := expiresAt.Add(-notifyBefore)
	switch {
	case !now.Before(expiresAt):
		return WindowExpired, time.Time{}
	case !now.Before(warnAt):
		return WindowExpiring, expiresAt
	default:
		return WindowValid, warnAt
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
