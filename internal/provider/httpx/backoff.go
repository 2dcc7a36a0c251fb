package httpx

import (
	"math/rand/v2"
	"time"
)

// Backoff computes retry delays: exponential growth from Base, capped at Max,
// with "full jitter" (a uniformly random delay between 0 and the capped
// exponential value) so that many clients failing together do not retry in
// lockstep.
type Backoff struct {
	// Base is the ceiling of the first delay; default 200ms.
	Base time.Duration
	// Max caps the ceiling; default 5s.
	Max time.Duration
	// Rand returns a float in [0, 1); default math/rand/v2.Float64. Tests
	// inject a fixed source to make delays deterministic.
	Rand func() float64
}

// Delay returns the delay before retry number attempt (0 for the first retry).
func (b Backoff) Delay(attempt int) time.Duration {
	base, maxD := b.Base, b.Max
	if base <= 0 {
		base = 200 * time.Millisecond
	}
	if maxD <= 0 {
		maxD = 5 * time.Second
	}
	ceiling := base
	for i := 0; i < attempt && ceiling < maxD; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, maxD)
	rnd := b.Rand
	if rnd == nil {
		rnd = rand.Float64
	}
	f := rnd()
	if f < 0 || f >= 1 {
		f = 0
	}
	return time.Duration(f * float64(ceiling))
}
