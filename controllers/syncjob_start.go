package controllers

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/budget"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// Whether a new run starts: not while suspended, never for a plan that cannot fit
// the budget, deferred when this run would not fit it.

// stepSuspend starts no new runs while spec.suspend is true (a run in flight was
// driven to its end by stepActiveRun before this step).
func (r *SyncJobReconciler) stepSuspend(_ context.Context, s *jobScope) (bool, error) {
	if !s.sj.Spec.Suspend {
		return false, nil
	}
	s.sj.Status.NextScheduleTime = nil
	s.report.suspended = true
	return true, nil
}

// stepPlan refuses a job whose runs could never fit the unattended budget (a
// human must change the spec): Stalled, and no run is ever started or deferred for
// it. An attended run (run-requested-at with psu-ip) is not counted, so it may go.
func (r *SyncJobReconciler) stepPlan(_ context.Context, s *jobScope) (bool, error) {
	sj := s.sj
	why := syncrun.NeverFits(sj)
	switch {
	case why == "":
		s.report.planFits = true
		return false, nil
	case attendedRequest(sj):
		return false, nil
	}
	s.report.planProblem = why
	sj.Status.NextScheduleTime = nil
	return true, nil
}

// attendedRequest is true when a new run-requested-at comes with psu-ip: the user
// is present for that run.
func attendedRequest(sj *bankingv1alpha1.SyncJob) bool {
	v := sj.Annotations[bankingv1alpha1.AnnotationRunRequestedAt]
	return v != "" && v != sj.Status.LastHandledRunRequestAt && sj.Annotations[bankingv1alpha1.AnnotationPSUIP] != ""
}

// stepStartRun starts a due run, unless it would exceed the unattended budget, in
// which case it is recorded as Deferred and never sent. The run started is driven by
// the next step (stepActiveRun).
func (r *SyncJobReconciler) stepStartRun(ctx context.Context, s *jobScope) (bool, error) {
	sj, bc := s.sj, s.bc
	// Deciding on a stale copy would start (or defer) a run for a slot already handled.
	if err := r.confirmFreshJob(ctx, sj); err != nil {
		return false, err
	}
	s.fresh = true
	psuIP := ""
	if s.manual != "" {
		psuIP = sj.Annotations[bankingv1alpha1.AnnotationPSUIP]
	}
	attended := psuIP != ""
	if !attended {
		fits, freeAt, err := r.runFits(ctx, s)
		if err != nil {
			return false, err
		}
		if !fits {
			r.deferRun(s, freeAt)
			return true, nil
		}
	}
	runID := fmt.Sprintf("%s-%d", sj.Name, s.slot.Unix())
	if err := r.Store.StartSyncRun(ctx, syncRunRecord(sj, bc, runID, s.now)); err != nil {
		return false, fmt.Errorf("recording run start: %w", err)
	}
	sj.Status.ActiveRun = &bankingv1alpha1.ActiveRun{ID: runID, StartedAt: metav1.NewTime(s.now.UTC().Truncate(time.Second)),
		Attended: attended, PSUIP: psuIP}
	sj.Status.LastScheduleTime = timePtr(s.slot)
	if s.manual != "" {
		sj.Status.LastHandledRunRequestAt = s.manual
	}
	r.event(sj, "Normal", "RunStarted", "Run", "A run started")
	return false, nil
}

// runFits checks a whole unattended run (its connection-level and account fetches)
// against the connection's ledger; freeAt is when it would fit, if it does not.
func (r *SyncJobReconciler) runFits(ctx context.Context, s *jobScope) (fits bool, freeAt time.Time, err error) {
	sj, bc := s.sj, s.bc
	floor := historyFloor(bc, s.now)
	ids, err := r.accountIDs(ctx, connection.StoreOwner(bc).Key())
	if err != nil {
		return false, time.Time{}, err
	}
	plan := budgetPlan(append(syncrun.ConnectionFetches(sj), syncrun.AccountFetches(sj, knownAccounts(bc),
		func(a syncrun.Account) (time.Time, time.Time) {
			return syncrun.TransactionWindow(sj, watermark(sj, ids.of(a.ID)), s.now, floor)
		})...), ids)
	fits, freeAt = budget.Check(bc.Status.UnattendedCalls, plan, s.now)
	return fits, freeAt, nil
}

// deferRun records a run that did not fit the budget.
func (r *SyncJobReconciler) deferRun(s *jobScope, freeAt time.Time) {
	sj := s.sj
	sj.Status.LastScheduleTime = timePtr(s.slot)
	if s.manual != "" {
		sj.Status.LastHandledRunRequestAt = s.manual
	}
	at := metav1.NewTime(s.now.UTC().Truncate(time.Second))
	r.recordRun(sj, bankingv1alpha1.RunRecord{
		ID: fmt.Sprintf("%s-%d", sj.Name, s.slot.Unix()), StartedAt: at, FinishedAt: &at, Result: bankingv1alpha1.RunDeferred,
		Error: "Deferred: the run would exceed four unattended calls per account and endpoint in 24 hours",
	})
	s.report.deferred = true
	if s.sched != nil {
		next := s.sched.Next(s.now)
		sj.Status.NextScheduleTime = timePtr(next)
		s.requeueAt(next)
	} else if !freeAt.IsZero() {
		s.requeueAt(freeAt)
	}
	r.Metrics.Run(sj.Namespace, sj.Name, string(bankingv1alpha1.RunDeferred), 0, nil)
	r.event(sj, "Warning", bankingv1alpha1.ReasonBudgetExhausted, "Defer",
		"A scheduled run was deferred and not sent: it would exceed four unattended calls per account and endpoint in 24 hours")
}

// confirmFreshJob checks the job was read at its latest version before the
// reconcile acts on the provider: a cache that lags behind the previous reconcile's
// status write would otherwise start a finished run again.
func (r *SyncJobReconciler) confirmFreshJob(ctx context.Context, sj *bankingv1alpha1.SyncJob) error {
	latest := &bankingv1alpha1.SyncJob{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(sj), latest); err != nil {
		return fmt.Errorf("reading the latest SyncJob: %w", err)
	}
	if latest.ResourceVersion != sj.ResourceVersion {
		return errStale // computed from an old copy: write nothing, look again
	}
	return nil
}

func historyLimit(sj *bankingv1alpha1.SyncJob) int {
	if sj.Spec.HistoryLimit == nil {
		return 10
	}
	return int(*sj.Spec.HistoryLimit)
}

// recordRun puts a finished run first in status.recentRuns, within historyLimit.
func (r *SyncJobReconciler) recordRun(sj *bankingv1alpha1.SyncJob, rec bankingv1alpha1.RunRecord) {
	runs := append([]bankingv1alpha1.RunRecord{rec}, sj.Status.RecentRuns...)
	if n := historyLimit(sj); len(runs) > n {
		runs = runs[:n]
	}
	if len(runs) == 0 {
		runs = nil
	}
	sj.Status.RecentRuns = runs
}
