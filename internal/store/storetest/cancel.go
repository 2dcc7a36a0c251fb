package storetest

import (
	"context"
	"sync/atomic"
)

// cancelAtDone is a context that cancels itself the n-th time anything asks
// for its Done channel. Database drivers ask at every round trip, so
// stepping n walks the cancellation through every point of a batch write
// without timers or sleeps.
type cancelAtDone struct {
	context.Context
	cancel context.CancelFunc
	n      int64
	calls  atomic.Int64
}

func newCancelAtDone(parent context.Context, n int64) *cancelAtDone {
	ctx, cancel := context.WithCancel(parent)
	return &cancelAtDone{Context: ctx, cancel: cancel, n: n}
}

func (c *cancelAtDone) Done() <-chan struct{} {
	if c.calls.Add(1) == c.n {
		c.cancel()
	}
	return c.Context.Done()
}
