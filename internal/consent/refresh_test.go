package consent

import (
	"testing"
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestDecideRefresh(t *testing.T) {
	const key = "uid-1"
	jit := Jitter(key, DefaultRenewBefore/5)
	keepFresh := RefreshState{
		Key: key, Policy: bankingv1alpha1.RefreshPolicyKeepFresh, HasRefreshToken: true,
		TokenExpiresAt: t0.Add(time.Hour), LastRefreshAt: t0,
	}
	with := func(s RefreshState, f func(*RefreshState)) RefreshState { f(&s); return s }

	cases := []struct {
		name    string
		now     time.Time
		state   RefreshState
		wantNow bool
		wantAt  time.Time
	}{
		{"fresh token waits for expiry minus renewBefore minus jitter", t0, keepFresh, false,
			t0.Add(time.Hour - DefaultRenewBefore - jit)},
		{"due exactly at the deadline", t0.Add(time.Hour - DefaultRenewBefore - jit), keepFresh, true,
			t0.Add(time.Hour - DefaultRenewBefore - jit)},
		{"custom renewBefore", t0, with(keepFresh, func(s *RefreshState) { s.RenewBefore = 30 * time.Minute }), false,
			t0.Add(30*time.Minute - Jitter(key, 6*time.Minute))},
		{"forced refresh is due now", t0, with(keepFresh, func(s *RefreshState) { s.Forced = true }), true, t0},
		{"no refresh token: never", t0, with(keepFresh, func(s *RefreshState) { s.HasRefreshToken = false }), false, time.Time{}},
		{"failure backs off from the last failure", t0.Add(55 * time.Minute), with(keepFresh, func(s *RefreshState) {
			s.FailedAttempts, s.LastFailureAt = 3, t0.Add(55*time.Minute)
		}), false, t0.Add(55*time.Minute + Backoff(key, 3))},
		{"forced refresh still honours backoff", t0.Add(10 * time.Second), with(keepFresh, func(s *RefreshState) {
			s.Forced, s.FailedAttempts, s.LastFailureAt = true, 1, t0
		}), false, t0.Add(Backoff(key, 1))},
		{"on demand idle: keep-alive before the 30-day limit", t0, with(keepFresh, func(s *RefreshState) {
			s.Policy = bankingv1alpha1.RefreshPolicyOnDemand
		}), false, t0.Add(RefreshTokenIdleLimit - KeepAliveBefore)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DecideRefresh(tc.now, tc.state)
			if got.Now != tc.wantNow || !got.At.Equal(tc.wantAt) {
				t.Fatalf("DecideRefresh = {Now:%v At:%s}, want {Now:%v At:%s}", got.Now, got.At, tc.wantNow, tc.wantAt)
			}
		})
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	prevMax := time.Duration(0)
	for attempt := int32(1); attempt <= 12; attempt++ {
		d := Backoff("k", attempt)
		full := BackoffBase << (attempt - 1)
		if full > BackoffCap || full <= 0 {
			full = BackoffCap
		}
		if d < full/2 || d >= full {
			t.Fatalf("attempt %d: backoff %s outside [%s, %s)", attempt, d, full/2, full)
		}
		if full < prevMax {
			t.Fatalf("attempt %d: window shrank", attempt)
		}
		prevMax = full
	}
	if Backoff("k", 0) != 0 {
		t.Fatal("no failure must mean no backoff")
	}
}

func TestJitterIsStableAndSpread(t *testing.T) {
	first := Jitter("uid-a", time.Minute)
	for i := 0; i < 100; i++ {
		if got := Jitter("uid-a", time.Minute); got != first {
			t.Fatalf("jitter moved from %s to %s for one key: deadlines would churn status", first, got)
		}
	}
	if Jitter("uid-a", time.Minute) == Jitter("uid-b", time.Minute) && Jitter("uid-c", time.Minute) == Jitter("uid-d", time.Minute) {
		t.Fatal("different keys get the same jitter")
	}
	seen := map[time.Duration]bool{}
	for i := 0; i < 1000; i++ {
		j := Jitter(string(rune('a'+i%26))+time.Duration(i).String(), time.Minute)
		if j < 0 || j >= time.Minute {
			t.Fatalf("jitter %s out of range", j)
		}
		seen[j.Truncate(6*time.Second)] = true
	}
	if len(seen) < 10 {
		t.Fatalf("1000 keys fell into %d of 10 buckets: not spread", len(seen))
	}
}
