package sqlcore

import (
	"context"
	"fmt"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Prune implements store.Writer, in one transaction.
func (c *Core) Prune(ctx context.Context, r store.Retention, now time.Time) (store.Pruned, error) {
	if err := r.Validate(); err != nil {
		return store.Pruned{}, err
	}
	var p store.Pruned
	err := c.b.InTx(ctx, func(tx Tx) error {
		// sync_run_counts rows go with their runs (ON DELETE CASCADE).
		if r.SyncRunsMaxAge > 0 {
			a := c.args()
			del := "DELETE FROM sync_runs WHERE finished_at IS NOT NULL AND started_at < " +
				a.add(c.b.Encode(Time, NormTime(now.Add(-r.SyncRunsMaxAge))))
			n, err := tx.Exec(ctx, del, a.vals...)
			if err != nil {
				return fmt.Errorf("prune sync runs by age: %w", err)
			}
			p.SyncRuns += n
		}
		if r.SyncRunsPerJob > 0 {
			a := c.args()
			del := `DELETE FROM sync_runs WHERE (namespace, run_id) IN (
SELECT namespace, run_id FROM (
  SELECT namespace, run_id, row_number() OVER (PARTITION BY namespace, sync_job ORDER BY started_at DESC, run_id DESC) AS newer
  FROM sync_runs WHERE finished_at IS NOT NULL) AS ranked
WHERE newer > ` + a.add(int64(r.SyncRunsPerJob)) + ")"
			n, err := tx.Exec(ctx, del, a.vals...)
			if err != nil {
				return fmt.Errorf("prune sync runs by count: %w", err)
			}
			p.SyncRuns += n
		}
		if r.BalancesMaxAge > 0 {
			a := c.args()
			del := `DELETE FROM balances WHERE observed_at < ` + a.add(c.b.Encode(Time, NormTime(now.Add(-r.BalancesMaxAge)))) + `
AND observed_at < (SELECT max(latest.observed_at) FROM balances AS latest
  WHERE latest.namespace = balances.namespace AND latest.connection = balances.connection
  AND latest.connection_uid = balances.connection_uid AND latest.account_id = balances.account_id)`
			n, err := tx.Exec(ctx, del, a.vals...)
			if err != nil {
				return fmt.Errorf("prune balances: %w", err)
			}
			p.Balances = n
		}
		return nil
	})
	if err != nil {
		return store.Pruned{}, err
	}
	return p, nil
}
