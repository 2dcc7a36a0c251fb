package sqlcore

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/consent-operator/consent-operator/internal/store"
)

// StartSyncRun implements store.Writer.
func (c *Core) StartSyncRun(ctx context.Context, r store.SyncRun) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return c.b.InTx(ctx, func(tx Tx) error {
		if err := c.touchConnection(ctx, tx, r.Owner); err != nil {
			return err
		}
		a := c.args()
		ins := fmt.Sprintf(`INSERT INTO sync_runs
(namespace, run_id, sync_job, connection, connection_uid, user_ref, provider, started_at, status, error)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '')
ON CONFLICT (namespace, run_id) DO NOTHING`,
			a.add(r.Owner.Namespace), a.add(r.RunID), a.add(r.SyncJob), a.add(r.Owner.Connection),
			a.add(r.Owner.UID), a.add(r.Owner.UserRef), a.add(r.Owner.Provider), a.add(c.b.Encode(Time, NormTime(r.StartedAt))),
			a.add(string(store.RunRunning)))
		if _, err := tx.Exec(ctx, ins, a.vals...); err != nil {
			return fmt.Errorf("record start of sync run %s/%s: %w", r.Owner.Namespace, r.RunID, err)
		}
		return nil
	})
}

// FinishSyncRun implements store.Writer.
func (c *Core) FinishSyncRun(ctx context.Context, r store.RunResult) error {
	if err := r.Validate(); err != nil {
		return err
	}
	name := r.Namespace + "/" + r.RunID
	return c.b.InTx(ctx, func(tx Tx) error {
		a := c.args()
		upd := fmt.Sprintf(`UPDATE sync_runs SET finished_at = %s, status = %s, error = %s
WHERE namespace = %s AND run_id = %s`,
			a.add(c.b.Encode(Time, NormTime(r.FinishedAt))), a.add(string(r.Status)), a.add(r.Error),
			a.add(r.Namespace), a.add(r.RunID))
		n, err := tx.Exec(ctx, upd, a.vals...)
		if err != nil {
			return fmt.Errorf("record end of sync run %s: %w", name, err)
		}
		if n == 0 {
			return fmt.Errorf("finish sync run %s: %w", name, store.ErrNotFound)
		}
		a = c.args()
		del := fmt.Sprintf("DELETE FROM sync_run_counts WHERE namespace = %s AND run_id = %s",
			a.add(r.Namespace), a.add(r.RunID))
		if _, err := tx.Exec(ctx, del, a.vals...); err != nil {
			return fmt.Errorf("clear counts of sync run %s: %w", name, err)
		}
		if len(r.Counts) == 0 {
			return nil
		}
		rows := make([][]any, 0, len(r.Counts))
		for _, res := range slices.Sorted(maps.Keys(r.Counts)) {
			rows = append(rows, encodeRow(c.b, SyncRunCounts, r.Namespace, r.RunID, res, r.Counts[res]))
		}
		if err := tx.Insert(ctx, SyncRunCounts, rows); err != nil {
			return fmt.Errorf("record counts of sync run %s: %w", name, err)
		}
		return nil
	})
}

// GetSyncRun implements store.Reader.
func (c *Core) GetSyncRun(ctx context.Context, namespace, runID string) (store.SyncRun, error) {
	runs, err := c.syncRuns(ctx, "namespace = %s AND run_id = %s", []any{namespace, runID}, 0)
	if err != nil {
		return store.SyncRun{}, err
	}
	if len(runs) == 0 {
		return store.SyncRun{}, fmt.Errorf("sync run %s/%s: %w", namespace, runID, store.ErrNotFound)
	}
	return runs[0], nil
}

// ListSyncRuns implements store.Reader.
func (c *Core) ListSyncRuns(ctx context.Context, q store.RunQuery) ([]store.SyncRun, error) {
	if q.Namespace == "" {
		return nil, fmt.Errorf("%w: run query needs a namespace", store.ErrInvalid)
	}
	where, args := "namespace = %s", []any{q.Namespace}
	if q.SyncJob != "" {
		where, args = where+" AND sync_job = %s", append(args, q.SyncJob)
	}
	if k := q.Connection; k != nil {
		where, args = where+" AND connection = %s AND connection_uid = %s", append(args, k.Connection, k.UID)
	}
	if q.UserRef != "" {
		where, args = where+" AND user_ref = %s", append(args, q.UserRef)
	}
	return c.syncRuns(ctx, where, args, q.Limit)
}

// syncRuns reads runs matching where (with %s for each argument), newest
// first, then their counts.
func (c *Core) syncRuns(ctx context.Context, where string, whereArgs []any, limit int) ([]store.SyncRun, error) {
	a := c.args()
	marks := make([]any, len(whereArgs))
	for i, v := range whereArgs {
		marks[i] = a.add(v)
	}
	query := fmt.Sprintf("SELECT %s FROM sync_runs WHERE %s ORDER BY started_at DESC, run_id DESC%s",
		selectList(c.b, SyncRuns), fmt.Sprintf(where, marks...), limitClause(limit))
	var runs []store.SyncRun
	err := c.scanAll(ctx, SyncRuns, query, a.vals, func(r *row) error {
		runs = append(runs, decodeSyncRun(r))
		return nil
	})
	if err != nil || len(runs) == 0 {
		return runs, err
	}
	return runs, c.loadCounts(ctx, runs, where, whereArgs, limit)
}

// loadCounts fills Counts of runs, selecting the counts with the same
// condition as the runs (an IN list could exceed the bind limits).
func (c *Core) loadCounts(ctx context.Context, runs []store.SyncRun, where string, whereArgs []any, limit int) error {
	byID := make(map[string]*store.SyncRun, len(runs))
	for i := range runs {
		byID[runs[i].RunID] = &runs[i]
	}
	a := c.args()
	marks := make([]any, len(whereArgs))
	for i, v := range whereArgs {
		marks[i] = a.add(v)
	}
	ns := a.add(runs[0].Owner.Namespace)
	query := fmt.Sprintf(`SELECT %s FROM sync_run_counts WHERE run_id IN
(SELECT run_id FROM sync_runs WHERE %s ORDER BY started_at DESC, run_id DESC%s) AND namespace = %s`,
		selectList(c.b, SyncRunCounts), fmt.Sprintf(where, marks...), limitClause(limit), ns)
	return c.scanAll(ctx, SyncRunCounts, query, a.vals, func(r *row) error {
		// A run started between the two reads is not in runs: skip it.
		if run := byID[r.text("run_id")]; run != nil {
			if run.Counts == nil {
				run.Counts = map[string]int64{}
			}
			run.Counts[r.text("resource")] = r.int("count")
		}
		return nil
	})
}

func limitClause(limit int) string {
	if limit <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d", limit)
}
