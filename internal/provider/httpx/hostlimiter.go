package httpx

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit bounds the request rate to one provider host.
type RateLimit struct {
	// PerSecond is the sustained rate; 0 means the default (20/s), a negative
	// value disables limiting.
	PerSecond float64
	// Burst is how many requests may go at once; 0 means twice PerSecond (at
	// least 1).
	Burst int
}

func (rl RateLimit) limit() (rate.Limit, int) {
	per := rl.PerSecond
	switch {
	case per < 0:
		return rate.Inf, 0
	case per == 0:
		per = 20
	}
	burst := rl.Burst
	if burst <= 0 {
		burst = max(1, int(2*per))
	}
	return rate.Limit(per), burst
}

// hostLimiter keeps one token bucket per provider host, so a slow or
// throttling bank host does not borrow capacity from another one and one
// busy host cannot exceed what its provider tolerates.
type hostLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

func newHostLimiter(rl RateLimit, now func() time.Time, sleep func(context.Context, time.Duration) error) *hostLimiter {
	l, b := rl.limit()
	return &hostLimiter{limit: l, burst: b, now: now, sleep: sleep, limiters: map[string]*rate.Limiter{}}
}

func (h *hostLimiter) get(host string) *rate.Limiter {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.limiters[host]
	if !ok {
		l = rate.NewLimiter(h.limit, h.burst)
		h.limiters[host] = l
	}
	return l
}

// wait blocks until a request to host may go. It reserves against the
// injected clock and waits with the injected sleep (rather than
// rate.Limiter.Wait, which uses the wall clock), so tests can verify the
// bound without waiting.
func (h *hostLimiter) wait(ctx context.Context, host string) error {
	if h.limit == rate.Inf {
		return nil
	}
	l := h.get(host)
	now := h.now()
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return fmt.Errorf("rate limiter for %s: burst %d too small", host, h.burst)
	}
	d := r.DelayFrom(now)
	if d <= 0 || UserPresent(ctx) {
		// A user-present request keeps its reservation (the bucket stays accurate)
		// but does not wait for the slots background requests reserved before it.
		return nil
	}
	if err := h.sleep(ctx, d); err != nil {
		r.CancelAt(h.now())
		return fmt.Errorf("waiting for the rate limiter of %s: %w", host, err)
	}
	return nil
}
