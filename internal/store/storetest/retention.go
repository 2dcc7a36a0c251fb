package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// testRetention: Prune keeps the newest finished runs of each job and runs
// younger than the age bound, never a running run, and balance observations
// younger than their bound plus each account's latest.
func testRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := Owner("team-a", "conn", "user")
	now := Base.Add(30 * 24 * time.Hour)
	// Per job: a run a day for 30 days (finished), plus one still running.
	for _, job := range []string{"daily", "hourly"} {
		for d := range 30 {
			id := fmt.Sprintf("%s-%02d", job, d)
			must(t, "start", s.StartSyncRun(ctx, store.SyncRun{RunID: id, SyncJob: job, Owner: o, StartedAt: Base.Add(time.Duration(d) * 24 * time.Hour)}))
			must(t, "finish", s.FinishSyncRun(ctx, store.RunResult{Namespace: o.Namespace, RunID: id, FinishedAt: Base.Add(time.Duration(d)*24*time.Hour + time.Minute),
				Status: store.RunSucceeded, Counts: map[string]int64{store.ResourceTransactions: int64(d)}}))
		}
		must(t, "start running", s.StartSyncRun(ctx, store.SyncRun{RunID: job + "-old-running", SyncJob: job, Owner: o, StartedAt: Base.Add(-time.Hour)}))
	}
	// Balances: acc-1 observed daily; acc-2 once, long ago (its latest).
	for d := range 30 {
		_, err := s.AppendBalances(ctx, o, []store.Balance{fullBalance("acc-1", Base.Add(time.Duration(d)*24*time.Hour))})
		must(t, "balance", err)
	}
	_, err := s.AppendBalances(ctx, o, []store.Balance{fullBalance("acc-2", Base.Add(-100*24*time.Hour))})
	must(t, "old balance", err)

	cases := []struct {
		name      string
		r         store.Retention
		want      store.Pruned
		runsLeft  int // per job, the running one included
		acc1Left  int
		oldestRun string
	}{
		{"nothing configured", store.Retention{}, store.Pruned{}, 31, 30, "daily-00"},
		{"age", store.Retention{SyncRunsMaxAge: 20 * 24 * time.Hour, BalancesMaxAge: 10 * 24 * time.Hour},
			store.Pruned{SyncRuns: 20, Balances: 20}, 21, 10, "daily-10"},
		{"count", store.Retention{SyncRunsPerJob: 5}, store.Pruned{SyncRuns: 30}, 6, 10, "daily-25"},
		{"again changes nothing", store.Retention{SyncRunsPerJob: 5, BalancesMaxAge: 10 * 24 * time.Hour}, store.Pruned{}, 6, 10, "daily-25"},
	}
	for _, tc := range cases {
		got, err := s.Prune(ctx, tc.r, now)
		must(t, tc.name, err)
		if got != tc.want {
			t.Fatalf("%s: pruned %+v, want %+v", tc.name, got, tc.want)
		}
		runs, err := s.ListSyncRuns(ctx, store.RunQuery{Namespace: "team-a", SyncJob: "daily"})
		must(t, "runs", err)
		if len(runs) != tc.runsLeft {
			t.Fatalf("%s: %d daily runs left, want %d", tc.name, len(runs), tc.runsLeft)
		}
		if runs[len(runs)-1].RunID != "daily-old-running" || runs[len(runs)-2].RunID != tc.oldestRun {
			t.Fatalf("%s: oldest runs %s, %s", tc.name, runs[len(runs)-1].RunID, runs[len(runs)-2].RunID)
		}
		if n := len(runs[0].Counts); n != 1 {
			t.Fatalf("%s: a kept run lost its counts", tc.name)
		}
		b1, err := s.ListBalances(ctx, o.Key(), "acc-1")
		must(t, "balances", err)
		b2, err := s.ListBalances(ctx, o.Key(), "acc-2")
		must(t, "balances", err)
		if len(b1) != tc.acc1Left || len(b2) != 1 {
			t.Fatalf("%s: balances left %d and %d, want %d and 1 (an account's latest stays)", tc.name, len(b1), len(b2), tc.acc1Left)
		}
	}
	_, err = s.Prune(ctx, store.Retention{SyncRunsPerJob: -1}, now)
	wantErrIs(t, "negative bound", err, store.ErrInvalid)
}
