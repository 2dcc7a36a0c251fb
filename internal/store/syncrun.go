package store

import (
	"fmt"
	"time"
)

// RunStatus is the state of a sync run.
type RunStatus string

const (
	// RunRunning: started, not finished.
	RunRunning RunStatus = "Running"
	// RunSucceeded: every requested resource was fetched and stored.
	RunSucceeded RunStatus = "Succeeded"
	// RunPartiallySucceeded: some resources were stored, some failed; what
	// was stored is kept and the next run resumes.
	RunPartiallySucceeded RunStatus = "PartiallySucceeded"
	// RunFailed: nothing could be stored.
	RunFailed RunStatus = "Failed"
	// RunInterrupted: the run was abandoned, e.g. the manager restarted.
	RunInterrupted RunStatus = "Interrupted"
)

func (s RunStatus) finished() bool {
	switch s {
	case RunSucceeded, RunPartiallySucceeded, RunFailed, RunInterrupted:
		return true
	}
	return false
}

// Resource names for SyncRun.Counts, so the controller, the status and SQL
// queries agree on spelling.
const (
	ResourceAccounts       = "accounts"
	ResourceCards          = "cards"
	ResourceBalances       = "balances"
	ResourceTransactions   = "transactions"
	ResourcePending        = "pending"
	ResourceStandingOrders = "standing_orders"
	ResourceDirectDebits   = "direct_debits"
	ResourceIdentity       = "identity"
)

// SyncRun is the bookkeeping of one execution of a SyncJob.
type SyncRun struct {
	// RunID is unique within the namespace (e.g. a UUID).
	RunID   string
	SyncJob string
	// Owner is the connection the run fetches through.
	Owner      Owner
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
	Status     RunStatus
	// Counts is records stored per resource (see the Resource constants).
	Counts map[string]int64
	// Error is the run's error message; it must not contain secrets.
	Error string
}

// Validate checks a run about to be started.
func (r SyncRun) Validate() error {
	if err := r.Owner.Validate(); err != nil {
		return fmt.Errorf("sync run %q: %w", r.RunID, err)
	}
	if r.RunID == "" {
		return fmt.Errorf("%w: sync run id is empty", ErrInvalid)
	}
	if r.SyncJob == "" {
		return fmt.Errorf("%w: sync run %q: syncjob name is empty", ErrInvalid, r.RunID)
	}
	if r.StartedAt.IsZero() {
		return fmt.Errorf("%w: sync run %q: start time is zero", ErrInvalid, r.RunID)
	}
	return nil
}

// RunResult is how a run ended.
type RunResult struct {
	Namespace  string
	RunID      string
	FinishedAt time.Time
	Status     RunStatus
	Counts     map[string]int64
	Error      string
}

// Validate checks a run result.
func (r RunResult) Validate() error {
	if r.Namespace == "" || r.RunID == "" {
		return fmt.Errorf("%w: run result needs namespace and run id", ErrInvalid)
	}
	if !r.Status.finished() {
		return fmt.Errorf("%w: run %q: %q is not a final status", ErrInvalid, r.RunID, r.Status)
	}
	if r.FinishedAt.IsZero() {
		return fmt.Errorf("%w: run %q: finish time is zero", ErrInvalid, r.RunID)
	}
	for res, n := range r.Counts {
		if res == "" || n < 0 {
			return fmt.Errorf("%w: run %q: bad count %q=%d", ErrInvalid, r.RunID, res, n)
		}
	}
	return nil
}

// RunQuery selects sync runs of a namespace, newest first.
type RunQuery struct {
	Namespace string
	// SyncJob filters by job name when set.
	SyncJob string
	// Connection filters by the connection (name and UID) when set.
	Connection *ConnectionKey
	// UserRef filters by the user when set.
	UserRef string
	// Limit caps the result; 0 means no cap.
	Limit int
}
