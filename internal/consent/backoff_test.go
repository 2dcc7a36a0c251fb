package consent

import (
	"testing"
	"time"
)

func TestRetryAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		attempts   int32
		retryAfter time.Duration
		want       time.Time
	}{
		{"no Retry-After: the backoff", 1, 0, t0.Add(Backoff("k", 1))},
		{"a Retry-After shorter than the backoff is not waited for twice", 3, time.Second, t0.Add(Backoff("k", 3))},
		{"a Retry-After longer than the backoff wins", 1, time.Hour, t0.Add(time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RetryAt("k", tc.attempts, t0, tc.retryAfter); !got.Equal(tc.want) {
				t.Errorf("RetryAt = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPollDelay(t *testing.T) {
	tests := []struct {
		first    time.Duration
		attempts int32
		want     time.Duration
	}{
		{15 * time.Second, 0, 15 * time.Second},
		{15 * time.Second, 1, 30 * time.Second},
		{15 * time.Second, 5, 8 * time.Minute},
		{15 * time.Second, 6, MaxPollDelay},  // 16 min, capped
		{15 * time.Second, 40, MaxPollDelay}, // the shift stops at 6
		{time.Second, 100, 64 * time.Second},
	}
	for _, tc := range tests {
		if got := PollDelay(tc.first, tc.attempts); got != tc.want {
			t.Errorf("PollDelay(%s, %d) = %s, want %s", tc.first, tc.attempts, got, tc.want)
		}
	}
}
