package storetest

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// testSyncRuns: a run is recorded at start, restarting it is a no-op, its
// end carries status, counts and error; runs list newest first.
func testSyncRuns(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	start := func(id, job string, at time.Time) store.SyncRun {
		r := store.SyncRun{RunID: id, SyncJob: job, Owner: o, StartedAt: at}
		must(t, "start "+id, s.StartSyncRun(ctx, r))
		return r
	}
	start("r1", "daily", Base)
	got, err := s.GetSyncRun(ctx, "team-a", "r1")
	must(t, "get r1", err)
	want := store.SyncRun{RunID: "r1", SyncJob: "daily", Owner: o, StartedAt: Base, Status: store.RunRunning}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("started run: got %+v, want %+v", got, want)
	}
	// A retried reconcile starts the same run again: no error, no change.
	must(t, "restart r1", s.StartSyncRun(ctx, store.SyncRun{RunID: "r1", SyncJob: "daily", Owner: o, StartedAt: Base.Add(time.Minute)}))
	got, err = s.GetSyncRun(ctx, "team-a", "r1")
	must(t, "get r1", err)
	if !got.StartedAt.Equal(Base) {
		t.Fatalf("restart changed start time to %v", got.StartedAt)
	}

	result := store.RunResult{Namespace: "team-a", RunID: "r1", FinishedAt: Base.Add(90 * time.Second),
		Status: store.RunPartiallySucceeded, Error: "standing_orders: provider error (502)",
		Counts: map[string]int64{store.ResourceAccounts: 2, store.ResourceTransactions: 340, store.ResourcePending: 0}}
	must(t, "finish r1", s.FinishSyncRun(ctx, result))
	got, err = s.GetSyncRun(ctx, "team-a", "r1")
	must(t, "get r1", err)
	if got.Status != result.Status || !got.FinishedAt.Equal(result.FinishedAt) || got.Error != result.Error ||
		!maps.Equal(got.Counts, result.Counts) {
		t.Fatalf("finished run: got %+v, want %+v", got, result)
	}
	// Finishing again (a retried status update) overwrites, counts included.
	result.Status, result.Error, result.Counts = store.RunSucceeded, "", map[string]int64{store.ResourceAccounts: 2}
	must(t, "finish r1 again", s.FinishSyncRun(ctx, result))
	got, err = s.GetSyncRun(ctx, "team-a", "r1")
	must(t, "get r1", err)
	if got.Status != store.RunSucceeded || got.Error != "" || !maps.Equal(got.Counts, result.Counts) {
		t.Fatalf("re-finished run: %+v", got)
	}

	err = s.FinishSyncRun(ctx, store.RunResult{Namespace: "team-a", RunID: "never", FinishedAt: Base, Status: store.RunFailed})
	wantErrIs(t, "finish unknown run", err, store.ErrNotFound)
	err = s.FinishSyncRun(ctx, store.RunResult{Namespace: "team-a", RunID: "r1", FinishedAt: Base, Status: store.RunRunning})
	wantErrIs(t, "finish as running", err, store.ErrInvalid)
	_, err = s.GetSyncRun(ctx, "team-b", "r1")
	wantErrIs(t, "run of another namespace", err, store.ErrNotFound)

	start("r2", "daily", Base.Add(6*time.Hour))
	start("r3", "hourly", Base.Add(7*time.Hour))
	start("r4", "daily", Base.Add(12*time.Hour))
	must(t, "finish r4", s.FinishSyncRun(ctx, store.RunResult{Namespace: "team-a", RunID: "r4",
		FinishedAt: Base.Add(13 * time.Hour), Status: store.RunFailed, Error: "consent revoked"}))

	ids := func(runs []store.SyncRun) string {
		out := ""
		for _, r := range runs {
			out += r.RunID + " "
		}
		return out
	}
	all, err := s.ListSyncRuns(ctx, store.RunQuery{Namespace: "team-a"})
	must(t, "list all", err)
	if ids(all) != "r4 r3 r2 r1 " {
		t.Fatalf("all runs newest first: got %s", ids(all))
	}
	daily, err := s.ListSyncRuns(ctx, store.RunQuery{Namespace: "team-a", SyncJob: "daily", Limit: 2})
	must(t, "list daily", err)
	if ids(daily) != "r4 r2 " {
		t.Fatalf("last two daily runs: got %s", ids(daily))
	}
	if daily[0].Status != store.RunFailed || daily[0].Error != "consent revoked" || daily[1].Status != store.RunRunning {
		t.Fatalf("listed runs: %+v", daily)
	}
}
