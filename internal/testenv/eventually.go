package testenv

import (
	"testing"
	"time"
)

// Eventually polls cond until it returns nil or timeout passes, then fails the test
// with cond's last error. It waits for the controllers to act, never for simulated
// time to pass: tests move the sandbox's clock instead.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %v", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Consistently checks cond keeps returning nil for d. It asserts that something does
// not happen (no write, no call), which can only be observed over a window.
func Consistently(t testing.TB, d time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if err := cond(); err != nil {
			t.Fatalf("condition broken: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
