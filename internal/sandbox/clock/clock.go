// Package clock provides the time source of the bank sandbox.
//
// Every time-dependent decision of the sandbox (token expiry, consent expiry, the
// 24-hour unattended-call window, the SCA window, which transactions "have
// happened") reads a Clock, so tests can live through a 90-day consent without
// sleeping. Two controllable implementations exist: Manual, which stands still
// until told to move (for tests), and Offset, which follows the wall clock but
// can be shifted (for the long-running binary, whose clients compare JWT expiry
// times with their own wall clock).
package clock

import (
	"sync"
	"sync/atomic"
	"time"

	opclock "github.com/consent-operator/consent-operator/internal/clock"
)

// Clock is a source of the current time: the operator's one clock interface.
type Clock = opclock.Clock

// Controllable is a Clock that can be set and advanced, e.g. by the admin API.
type Controllable interface {
	Clock
	// Set moves the clock to t.
	Set(t time.Time)
	// Advance moves the clock by d (which may be negative).
	Advance(d time.Duration)
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Manual is a clock that only moves when Set or Advance is called. It is safe
// for concurrent use.
type Manual struct {
	mu  sync.RWMutex
	now time.Time
}

// NewManual returns a Manual clock standing at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

// Now returns the clock's current time.
func (m *Manual) Now() time.Time {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.now
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.now = t
	m.mu.Unlock()
}

// Advance moves the clock by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}

// Offset follows the wall clock shifted by an adjustable offset. It is safe for
// concurrent use and lock-free on the read path.
type Offset struct {
	offset atomic.Int64 // nanoseconds added to time.Now()
	wall   func() time.Time
}

// NewOffset returns an Offset clock that starts equal to the wall clock.
func NewOffset() *Offset { return &Offset{wall: time.Now} }

// Now returns the wall clock plus the offset.
func (o *Offset) Now() time.Time {
	return o.wall().Add(time.Duration(o.offset.Load()))
}

// Set shifts the offset so that Now returns t at this instant.
func (o *Offset) Set(t time.Time) {
	o.offset.Store(int64(t.Sub(o.wall())))
}

// Advance adds d to the offset.
func (o *Offset) Advance(d time.Duration) {
	o.offset.Add(int64(d))
}
