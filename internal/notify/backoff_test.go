package notify_test

import (
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/notify"
)

func TestBackoffDoublesToItsCap(t *testing.T) {
	failedAt := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC) // an injected time, not the wall clock
	for _, tc := range []struct {
		failures int32
		want     time.Duration
	}{
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{10, 2560 * time.Second},
		{11, time.Hour},
		{12, time.Hour},
		{1000, time.Hour},
	} {
		if got := notify.Backoff(tc.failures); got != tc.want {
			t.Errorf("after %d failures: %s, want %s", tc.failures, got, tc.want)
		}
		if got := notify.NextAttempt(failedAt, tc.failures); !got.Equal(failedAt.Add(tc.want)) {
			t.Errorf("after %d failures: next attempt %s, want %s", tc.failures, got, failedAt.Add(tc.want))
		}
	}
}
