// Package clock is the one time source every component takes: the real clock in
// production, the bank sandbox's controllable one (internal/sandbox/clock) in tests, so
// that the operator and the sandbox agree on what time it is.
package clock

import "time"

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Real is the wall clock.
type Real struct{}

// Now returns the current time.
func (Real) Now() time.Time { return time.Now() }
