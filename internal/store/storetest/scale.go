package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

// testLargeBatch writes 10,000 transactions in one call, twice.
func testLargeBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	const n = 10000
	batch := Transactions("acc", n, Base)
	res, err := s.UpsertTransactions(ctx, o, batch)
	must(t, "first write", err)
	wantResult(t, "first write", res, store.BatchResult{Inserted: n})
	res, err = s.UpsertTransactions(ctx, o, batch)
	must(t, "second write", err)
	wantResult(t, "second write", res, store.BatchResult{Unchanged: n})
	got, err := s.CountTransactions(ctx, store.TransactionQuery{Key: o.Key()})
	must(t, "count", err)
	if got != n {
		t.Fatalf("stored %d, want %d", got, n)
	}
	// Spot-check the last row survived intact.
	last, err := s.ListTransactions(ctx, store.TransactionQuery{Key: o.Key(), From: batch[n-1].Timestamp})
	must(t, "list last", err)
	equalRecords(t, "last transaction", last, batch[n-1:])
}

// testCancelledBatchIsAllOrNothing cancels a multi-chunk batch at every
// successive driver round trip until one attempt completes. Each cancelled
// attempt must leave none of its rows; a completed one all of them. (When
// the cancellation lands on the commit itself the outcome is ambiguous to
// the caller, so an error with every row stored is accepted too; a partial
// batch never is.)
func testCancelledBatch(t *testing.T, s store.Store) {
	o := Owner("team-a", "conn", "user")
	const n = 2500 // several chunks in the SQLite implementation
	batch := Transactions("acc", n, Base)
	var cancelled int
	for step := int64(1); ; step++ {
		if step > 10000 {
			t.Fatal("the batch never completed")
		}
		ctx := newCancelAtDone(t.Context(), step)
		res, err := s.UpsertTransactions(ctx, o, batch)
		ctx.cancel()
		stored, cerr := s.CountTransactions(t.Context(), store.TransactionQuery{Key: o.Key()})
		must(t, "count", cerr)
		switch {
		case err == nil:
			// An earlier attempt whose cancellation hit its COMMIT may have been
			// committed by the server after that attempt's count: its rows are then
			// this one's unchanged rows. Either way the batch is stored whole, once.
			if stored != n || res.Inserted+res.Updated+res.Unchanged != n {
				t.Fatalf("step %d: completed with %+v but %d rows stored", step, res, stored)
			}
			if cancelled == 0 {
				t.Fatal("no attempt was cancelled: the test did not exercise cancellation")
			}
			t.Logf("cancelled at %d points before the batch completed", cancelled)
			return
		case stored == 0:
			cancelled++
		case stored == n:
			t.Logf("step %d: cancelled during commit, batch committed: %v", step, err)
			return
		default:
			t.Fatalf("step %d: cancelled batch left %d of %d rows (err %v)", step, stored, n, err)
		}
	}
}

// testConcurrentWriters: writers of the same connection with overlapping
// batches, plus writers of other connections, all at once. Every
// transaction is stored once and each is reported new exactly once.
func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	shared := Owner("team-a", "shared", "user")
	const writers, size, stride = 6, 600, 200 // writer i covers [i*stride, i*stride+size)
	all := Transactions("acc", (writers-1)*stride+size, Base)

	var wg sync.WaitGroup
	inserted := make([]int, writers)
	errs := make([]error, 2*writers)
	for i := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			res, err := s.UpsertTransactions(ctx, shared, all[i*stride:i*stride+size])
			inserted[i], errs[i] = res.Inserted, err
		}()
		go func() {
			defer wg.Done()
			own := Owner("team-a", fmt.Sprintf("own-%d", i), "user")
			_, err := s.UpsertTransactions(ctx, own, Transactions("acc", size, Base))
			errs[writers+i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent writes: %v", err)
	}
	total := 0
	for _, n := range inserted {
		total += n
	}
	if total != len(all) {
		t.Fatalf("writers reported %d new rows in total, want %d", total, len(all))
	}
	if c := counts(t, s, shared.Key()); c.Transactions != int64(len(all)) {
		t.Fatalf("shared connection stored %d, want %d", c.Transactions, len(all))
	}
	for i := range writers {
		key := Owner("team-a", fmt.Sprintf("own-%d", i), "user").Key()
		if c := counts(t, s, key); c.Transactions != size {
			t.Fatalf("%s stored %d, want %d", key, c.Transactions, size)
		}
	}
}
