package store

import (
	"fmt"
	"time"
)

// Retention bounds the two tables that grow with every run: sync_runs (one row
// per run) and balances (one observation per account per run). A zero field
// keeps everything of its kind.
type Retention struct {
	// SyncRunsPerJob keeps the newest finished runs of each SyncJob; older
	// finished runs go. Running runs are always kept.
	SyncRunsPerJob int
	// SyncRunsMaxAge removes finished runs that started longer ago.
	SyncRunsMaxAge time.Duration
	// BalancesMaxAge removes balance observations older than this, except
	// each account's latest, so the current balance is always readable.
	BalancesMaxAge time.Duration
}

// Validate refuses negative bounds.
func (r Retention) Validate() error {
	if r.SyncRunsPerJob < 0 || r.SyncRunsMaxAge < 0 || r.BalancesMaxAge < 0 {
		return fmt.Errorf("%w: retention bounds must not be negative: %+v", ErrInvalid, r)
	}
	return nil
}

// Enabled says whether anything would ever be pruned.
func (r Retention) Enabled() bool {
	return r.SyncRunsPerJob > 0 || r.SyncRunsMaxAge > 0 || r.BalancesMaxAge > 0
}

// Pruned is how many rows one Prune removed.
type Pruned struct {
	SyncRuns int64
	Balances int64
}
