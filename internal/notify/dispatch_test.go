package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/notify"
)

// A destination whose deliveries hang holds one worker and its own queue, nothing else.
func TestDispatcherIsolatesAHangingDestination(t *testing.T) {
	d := notify.NewDispatcher(2, 8)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = d.Start(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	hung := make(chan struct{})
	if !d.Submit("https://dead.example", "bc/dead-1", func(ctx context.Context) { close(hung); <-ctx.Done() }, nil) {
		t.Fatal("first job refused")
	}
	<-hung
	// The dead destination's next job waits behind the first: one at a time per destination.
	secondRan := make(chan struct{})
	d.Submit("https://dead.example", "bc/dead-2", func(context.Context) { close(secondRan) }, nil)
	// A duplicate of a queued key is refused (its event is still in the outbox).
	if d.Submit("https://dead.example", "bc/dead-2", func(context.Context) {}, nil) {
		t.Fatal("a job with a queued key was accepted twice")
	}

	for i := 0; i < 5; i++ {
		done := make(chan struct{})
		if !d.Submit("https://alive.example", "bc/alive", func(context.Context) {}, func() { close(done) }) {
			t.Fatalf("round %d: job refused", i)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: a live destination waited behind a hanging one", i)
		}
	}
	select {
	case <-secondRan:
		t.Fatal("the hanging destination ran two jobs at once")
	default:
	}
}

func TestDispatcherBoundsAQueue(t *testing.T) {
	d := notify.NewDispatcher(1, 2) // not started: jobs wait
	for i, want := range []bool{true, true, false} {
		if got := d.Submit("https://a.example", string(rune('a'+i)), func(context.Context) {}, nil); got != want {
			t.Fatalf("job %d accepted=%v, want %v", i, got, want)
		}
	}
	ran := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !d.Submit("https://b.example", "x", func(context.Context) { close(ran) }, nil) {
		t.Fatal("another destination's queue is full too")
	}
	go func() { _ = d.Start(ctx) }()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("jobs queued before Start never ran")
	}
}
