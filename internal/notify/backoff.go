package notify

import "time"

// Retry timing of a failed delivery: FirstRetry after the first failure, doubling up
// to MaxRetryDelay. A destination that is down for an hour is tried about once an
// hour, so it costs a worker little.
const (
	FirstRetry    = 5 * time.Second
	MaxRetryDelay = time.Hour
)

// Backoff is the wait after the given number of consecutive failed attempts (>= 1).
func Backoff(failures int32) time.Duration {
	d := FirstRetry
	for i := int32(1); i < failures; i++ {
		d *= 2
		if d >= MaxRetryDelay {
			return MaxRetryDelay
		}
	}
	return d
}

// NextAttempt is when an event that failed failures times at failedAt is tried again.
func NextAttempt(failedAt time.Time, failures int32) time.Time {
	return failedAt.Add(Backoff(failures))
}
