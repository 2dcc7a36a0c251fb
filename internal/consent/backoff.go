package consent

import (
	"strconv"
	"time"
)

// The delays of every retry the controllers make, in one place.
const (
	// BackoffBase and BackoffCap bound the retry delay after a failed provider call. The
	// cap stays well under the shortest renewBefore window (1m at 50m renewBefore leaves
	// at least 10m of a 1h token), so a transient outage does not cost the token.
	BackoffBase = 15 * time.Second
	BackoffCap  = 5 * time.Minute

	// RevokeRetryDelay is the pause between attempts to revoke a deleted connection's
	// consent while the provider is unavailable (within the finalizer's deadline).
	RevokeRetryDelay = 10 * time.Second

	// MaxPollDelay caps the wait between polls of a provider's async tasks.
	MaxPollDelay = 10 * time.Minute
)

// Backoff is the delay before retry number attempts (1-based): exponential from
// BackoffBase, capped at BackoffCap, with stable jitter of up to half the delay so
// connections that failed together do not retry together.
func Backoff(key string, attempts int32) time.Duration {
	if attempts <= 0 {
		return 0
	}
	d := BackoffBase
	for i := int32(1); i < attempts && d < BackoffCap; i++ {
		d *= 2
	}
	if d > BackoffCap {
		d = BackoffCap
	}
	return d/2 + Jitter(key+"/"+strconv.Itoa(int(attempts)), d/2)
}

// RetryAt is when a call that failed for the attempts-th time at failedAt may be tried
// again: after the backoff, or after the provider's Retry-After when that is later.
func RetryAt(key string, attempts int32, failedAt time.Time, retryAfter time.Duration) time.Time {
	retry := failedAt.Add(Backoff(key, attempts))
	if at := failedAt.Add(retryAfter); retryAfter > 0 && at.After(retry) {
		return at
	}
	return retry
}

// PollDelay is the wait before poll number attempts (0-based) of a provider's async
// task: first, doubling, capped at MaxPollDelay.
func PollDelay(first time.Duration, attempts int32) time.Duration {
	d := first << min(attempts, 6)
	if d > MaxPollDelay || d <= 0 {
		return MaxPollDelay
	}
	return d
}
