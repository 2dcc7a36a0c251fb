package manager

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/go-logr/logr"

	"github.com/consent-operator/consent-operator/internal/store"
)

// retentionInterval is how often the leader prunes: sync runs and balances grow by
// a row per run, so hourly keeps the tables within an hour's runs of their bound.
const retentionInterval = time.Hour

// syncRunRetention is the value of --retention-sync-runs: a count of runs kept per
// SyncJob ("50") or an age after which finished runs go ("720h"); "0" keeps all.
type syncRunRetention struct{ r *store.Retention }

func (v syncRunRetention) String() string {
	if v.r == nil {
		return "0"
	}
	switch {
	case v.r.SyncRunsPerJob > 0:
		return strconv.Itoa(v.r.SyncRunsPerJob)
	case v.r.SyncRunsMaxAge > 0:
		return v.r.SyncRunsMaxAge.String()
	}
	return "0"
}

func (v syncRunRetention) Set(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return fmt.Errorf("a count of sync runs must not be negative: %d", n)
		}
		v.r.SyncRunsPerJob, v.r.SyncRunsMaxAge = n, 0
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("want a count of runs per SyncJob (50) or an age (720h), got %q", s)
	}
	v.r.SyncRunsPerJob, v.r.SyncRunsMaxAge = 0, d
	return nil
}

// pruner applies the retention bounds, on the leader only (one replica deleting is
// enough, and two would contend for the same rows).
type pruner struct {
	db        store.Writer
	retention store.Retention
	now       func() time.Time
	log       logr.Logger
}

// Start prunes at start and then every retentionInterval until ctx ends. A failure
// is logged and retried at the next tick: the bound is a ceiling, not a deadline.
func (p *pruner) Start(ctx context.Context) error {
	tick := time.NewTicker(retentionInterval)
	defer tick.Stop()
	for {
		if err := p.prune(ctx); err != nil {
			p.log.Error(err, "Retention pruning failed")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (p *pruner) NeedLeaderElection() bool { return true }

func (p *pruner) prune(ctx context.Context) error {
	n, err := p.db.Prune(ctx, p.retention, p.now())
	if err != nil {
		return fmt.Errorf("pruning sync runs and balances: %w", err)
	}
	if n != (store.Pruned{}) {
		p.log.Info("Retention pruned rows", "syncRuns", n.SyncRuns, "balances", n.Balances)
	}
	return nil
}
