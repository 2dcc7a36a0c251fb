package notify

import (
	"context"
	"sync"
)

// Dispatcher runs delivery jobs away from the reconcilers: at most Workers at once,
// one at a time per destination, each destination's queue bounded. A destination
// that hangs holds one worker for one timeout per attempt and delays only its own
// queue; other destinations' jobs go on the other workers.
type Dispatcher struct {
	sem        chan struct{}
	queueLimit int

	mu     sync.Mutex
	ctx    context.Context
	lanes  map[string]*lane
	queued map[string]bool // keys of jobs queued or running
	wg     sync.WaitGroup
}

type lane struct {
	jobs    []job
	running bool
}

type job struct {
	key  string
	run  func(context.Context)
	done func()
}

// NewDispatcher returns a Dispatcher with the given number of workers and queue
// length per destination.
func NewDispatcher(workers, queueLimit int) *Dispatcher {
	return &Dispatcher{
		sem:        make(chan struct{}, max(workers, 1)),
		queueLimit: max(queueLimit, 1),
		lanes:      map[string]*lane{},
		queued:     map[string]bool{},
	}
}

// Submit queues run for destination under key; done, when not nil, is called once
// run returned and the key is free again (so the caller can hand over the object's
// next event). It returns false, and queues nothing, when a job with that key is
// already queued or running, or the destination's queue is full: the caller looks
// again later (its event stays in the object's outbox, so nothing is lost).
func (d *Dispatcher) Submit(destination, key string, run func(context.Context), done func()) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.queued[key] {
		return false
	}
	l := d.lanes[destination]
	if l == nil {
		l = &lane{}
		d.lanes[destination] = l
	}
	if len(l.jobs) >= d.queueLimit {
		return false
	}
	d.queued[key] = true
	l.jobs = append(l.jobs, job{key: key, run: run, done: done})
	d.startLocked(destination, l)
	return true
}

// startLocked starts the destination's worker loop if the dispatcher runs and none is.
func (d *Dispatcher) startLocked(destination string, l *lane) {
	if d.ctx == nil || l.running || d.ctx.Err() != nil {
		return
	}
	l.running = true
	d.wg.Add(1)
	go d.drain(destination, l)
}

// drain runs one destination's jobs in order, each on a worker slot.
func (d *Dispatcher) drain(destination string, l *lane) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if len(l.jobs) == 0 || d.ctx.Err() != nil {
			l.running = false
			if len(l.jobs) == 0 {
				delete(d.lanes, destination)
			}
			d.mu.Unlock()
			return
		}
		j := l.jobs[0]
		l.jobs = l.jobs[1:]
		d.mu.Unlock()

		ran := false
		select {
		case d.sem <- struct{}{}:
			j.run(d.ctx)
			<-d.sem
			ran = true
		case <-d.ctx.Done():
		}
		d.mu.Lock()
		delete(d.queued, j.key)
		d.mu.Unlock()
		if ran && j.done != nil {
			j.done()
		}
	}
}

// Start runs the queued jobs and those submitted later until ctx ends, then waits for
// the running ones. Jobs not run by then stay in their objects' outboxes for the next
// leader.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	d.ctx = ctx
	for dest, l := range d.lanes {
		d.startLocked(dest, l)
	}
	d.mu.Unlock()
	<-ctx.Done()
	d.wg.Wait()
	return nil
}

// NeedLeaderElection: only the leader delivers, so two replicas never both send.
func (d *Dispatcher) NeedLeaderElection() bool { return true }
