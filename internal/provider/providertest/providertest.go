// Package providertest holds what the tests of every provider client share:
// a Sleep that records instead of waiting (and is a clock), an Observer that
// records each request, and the response fuzz tests' fake answer and checks
// (fuzz.go). Only tests import it.
package providertest

import (
	"context"
	"sync"
	"time"
)

// Sleeps records the waits asked of an httpx.Options.Sleep: tests never sleep.
// It is a clock too (Now, for httpx.Options.Now): a wait moves it on, from Start.
type Sleeps struct {
	Start time.Time
	mu    sync.Mutex
	d     []time.Duration
}

// Now is Start plus every wait so far.
func (s *Sleeps) Now() time.Time { return s.Start.Add(s.Total()) }

// Sleep records d and returns at once (ctx's error if it has ended).
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

// List is the waits asked for, in order.
func (s *Sleeps) List() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// Count is how many waits were asked for.
func (s *Sleeps) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.d)
}

// Total is the sum of the waits asked for.
func (s *Sleeps) Total() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var t time.Duration
	for _, d := range s.d {
		t += d
	}
	return t
}

// Observation is one request reported to an httpx.Options.Observer.
type Observation struct {
	Endpoint string
	Status   int
}

// Observations records the requests reported to an httpx.Options.Observer.
type Observations struct {
	mu  sync.Mutex
	all []Observation
}

// Observe is an httpx.Options.Observer.
func (o *Observations) Observe(endpoint string, status int, _ time.Duration) {
	o.mu.Lock()
	o.all = append(o.all, Observation{endpoint, status})
	o.mu.Unlock()
}

// Count is how many requests to endpoint (a route pattern) were reported.
func (o *Observations) Count(endpoint string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, e := range o.all {
		if e.Endpoint == endpoint {
			n++
		}
	}
	return n
}

// List is every request reported, in order.
func (o *Observations) List() []Observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Observation(nil), o.all...)
}
