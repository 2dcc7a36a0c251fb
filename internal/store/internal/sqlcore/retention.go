package sqlcore

import (
	"context"
	"fmt"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// pruneRule is one bound of a store.Retention: the DELETE it runs when the
// bound is set, and the count of store.Pruned it adds to.
type pruneRule struct {
	what  string
	on    bool
	query func(a *args) string
	count *int64
}

// Prune implements store.Writer, in one transaction.
func (c *Core) Prune(ctx context.Context, r store.Retention, now time.Time) (store.Pruned, error) {
	if err := r.Validate(); err != nil {
		return store.Pruned{}, err
	}
	var p store.Pruned
	before := func(a *args, age time.Duration) string { return a.add(c.b.Encode(Time, NormTime(now.Add(-age)))) }
	// sync_run_counts rows go with their runs (ON DELETE CASCADE).
	rules := []pruneRule{
		{"sync runs by age", r.SyncRunsMaxAge > 0, func(a *args) string {
			return "DELETE FROM sync_runs WHERE finished_at IS NOT NULL AND started_at < " + before(a, r.SyncRunsMaxAge)
		}, &p.SyncRuns},
		{"sync runs by count", r.SyncRunsPerJob > 0, func(a *args) string {
			return `DELETE FROM sync_runs WHERE (namespace, run_id) IN (
SELECT namespace, run_id FROM (
  SELECT namespace, run_id, row_number() OVER (PARTITION BY namespace, sync_job ORDER BY started_at DESC, run_id DESC) AS newer
  FROM sync_runs WHERE finished_at IS NOT NULL) AS ranked
WHERE newer > ` + a.add(int64(r.SyncRunsPerJob)) + ")"
		}, &p.SyncRuns},
		{"balances", r.BalancesMaxAge > 0, func(a *args) string {
			return `DELETE FROM balances WHERE observed_at < ` + before(a, r.BalancesMaxAge) + `
AND observed_at < (SELECT max(latest.observed_at) FROM balances AS latest
  WHERE latest.namespace = balances.namespace AND latest.connection = balances.connection
  AND latest.connection_uid = balances.connection_uid AND latest.account_id = balances.account_id)`
		}, &p.Balances},
	}
	err := c.b.InTx(ctx, func(tx Tx) error {
		for _, rule := range rules {
			if !rule.on {
				continue
			}
			a := c.args()
			n, err := tx.Exec(ctx, rule.query(a), a.vals...)
			if err != nil {
				return fmt.Errorf("prune %s: %w", rule.what, err)
			}
			*rule.count += n
		}
		return nil
	})
	if err != nil {
		return store.Pruned{}, err
	}
	return p, nil
}
