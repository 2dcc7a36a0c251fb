package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/budget"
	"github.com/consent-operator/consent-operator/internal/conditions"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/schedule"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// jobPhase is one step of a SyncJob reconcile; done=true stops the later ones.
type jobPhase func(ctx context.Context, s *jobScope) (done bool, err error)

// jobScope carries what the phases of one reconcile share.
type jobScope struct {
	sj        *bankingv1alpha1.SyncJob
	now       time.Time
	sched     *schedule.Schedule
	slot      time.Time // the slot a due run is for
	manual    string    // the run-requested-at value a due run answers
	bc        *bankingv1alpha1.BankConnection
	deadlines []time.Time
	// fresh is true once the job was confirmed to be its latest version.
	fresh bool
}

func (s *jobScope) requeueAt(t time.Time) { s.deadlines = append(s.deadlines, t) }

func (s *jobScope) setReady(status metav1.ConditionStatus, reason, message string) {
	conditions.Set(&s.sj.Status.Conditions, s.sj.Generation, bankingv1alpha1.ConditionReady, status, reason, message)
}

// readyStatus is Ready's current status (Unknown before any run).
func (s *jobScope) readyStatus() metav1.ConditionStatus {
	if c := apimeta.FindStatusCondition(s.sj.Status.Conditions, bankingv1alpha1.ConditionReady); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}

func requeueAfter(now time.Time, deadlines []time.Time) time.Duration {
	return consent.RequeueAfter(now, consent.Earliest(deadlines...))
}

// phaseSchedule parses the schedule; a schedule that cannot run needs a human.
func (r *SyncJobReconciler) phaseSchedule(_ context.Context, s *jobScope) (bool, error) {
	sj := s.sj
	if sj.Spec.Schedule == "" {
		conditions.MarkAbnormal(&sj.Status.Conditions, sj.Generation, bankingv1alpha1.ConditionStalled, false, "", "")
		return false, nil
	}
	sched, err := schedule.Parse(sj.Spec.Schedule, sj.Spec.TimeZone)
	if err != nil {
		// Every problem in one message (the CRD's CEL rules check only the shape), and
		// one Warning event per new set of problems, not one per reconcile.
		msg := "The schedule cannot be used: " + err.Error()
		if c := apimeta.FindStatusCondition(sj.Status.Conditions, bankingv1alpha1.ConditionStalled); c == nil || c.Message != msg {
			r.event(sj, "Warning", bankingv1alpha1.ReasonInvalidSchedule, "Validate", msg)
		}
		conditions.MarkAbnormal(&sj.Status.Conditions, sj.Generation, bankingv1alpha1.ConditionStalled, true, bankingv1alpha1.ReasonInvalidSchedule, msg)
		s.setReady(metav1.ConditionFalse, bankingv1alpha1.ReasonInvalidSchedule, msg)
		return true, nil
	}
	conditions.MarkAbnormal(&sj.Status.Conditions, sj.Generation, bankingv1alpha1.ConditionStalled, false, "", "")
	s.sched = sched
	return false, nil
}

// phaseSuspend starts no new runs while spec.suspend is true (a run in flight was
// driven to its end by phaseActiveRun before this phase).
func (r *SyncJobReconciler) phaseSuspend(_ context.Context, s *jobScope) (bool, error) {
	if !s.sj.Spec.Suspend {
		return false, nil
	}
	s.sj.Status.NextScheduleTime = nil
	s.setReady(s.readyStatus(), bankingv1alpha1.ReasonSuspended, "Suspended: no new runs are started")
	return true, nil
}

// phasePlan refuses a job whose runs could never fit the unattended budget (a
// human must change the spec): Stalled, and no run is ever started or deferred for
// it. An attended run (run-requested-at with psu-ip) is not counted, so it may go.
func (r *SyncJobReconciler) phasePlan(_ context.Context, s *jobScope) (bool, error) {
	sj := s.sj
	why := syncrun.NeverFits(sj)
	if why == "" || attendedRequest(sj) {
		if c := apimeta.FindStatusCondition(sj.Status.Conditions, bankingv1alpha1.ConditionReady); why == "" && c != nil &&
			c.Reason == bankingv1alpha1.ReasonPlanExceedsBudget {
			// The spec was fixed: no run has said anything yet.
			s.setReady(metav1.ConditionUnknown, bankingv1alpha1.ReasonScheduled, "The spec changed; waiting for the next run")
		}
		return false, nil
	}
	conditions.MarkAbnormal(&sj.Status.Conditions, sj.Generation, bankingv1alpha1.ConditionStalled, true, bankingv1alpha1.ReasonPlanExceedsBudget, why)
	s.setReady(metav1.ConditionFalse, bankingv1alpha1.ReasonPlanExceedsBudget, why)
	sj.Status.NextScheduleTime = nil
	return true, nil
}

// attendedRequest is true when a new run-requested-at comes with psu-ip: the user
// is present for that run.
func attendedRequest(sj *bankingv1alpha1.SyncJob) bool {
	v := sj.Annotations[bankingv1alpha1.AnnotationRunRequestedAt]
	return v != "" && v != sj.Status.LastHandledRunRequestAt && sj.Annotations[bankingv1alpha1.AnnotationPSUIP] != ""
}

// phaseDue decides whether a run is due: a new run-requested-at value, a schedule
// slot that passed, or the single run of a job without a schedule.
func (r *SyncJobReconciler) phaseDue(ctx context.Context, s *jobScope) (bool, error) {
	sj := s.sj
	if v := sj.Annotations[bankingv1alpha1.AnnotationRunRequestedAt]; v != "" && v != sj.Status.LastHandledRunRequestAt {
		s.manual, s.slot = v, s.now
		return false, nil
	}
	if s.sched == nil {
		if sj.Status.LastScheduleTime == nil {
			s.slot = s.now
			return false, nil
		}
		sj.Status.NextScheduleTime = nil
		return true, nil // ran once: nothing more to do
	}
	if r.deepHistoryDue(ctx, s) {
		s.slot = s.now
		return false, nil
	}
	d := s.sched.Decide(scheduleAnchor(sj, s.now), s.now)
	if d.Due {
		// Until the run starts (the connection may not be Ready yet), the due slot
		// stays the next one, so it is not skipped.
		sj.Status.NextScheduleTime = timePtr(d.Slot)
	} else {
		sj.Status.NextScheduleTime = timePtr(d.Next)
		s.requeueAt(d.Next)
	}
	if !d.Due {
		if sj.Status.LastScheduleTime == nil {
			s.setReady(metav1.ConditionUnknown, bankingv1alpha1.ReasonScheduled, "Waiting for the first scheduled run")
		}
		return true, nil
	}
	s.slot = d.Slot
	return false, nil
}

// deepHistoryDue is true when a scheduled job that reads more than 90 days back has
// not run yet and its connection's user authenticated within the SCA window: the
// first run goes now, ahead of the schedule, while the bank still serves the deep
// history; later runs are incremental.
func (r *SyncJobReconciler) deepHistoryDue(ctx context.Context, s *jobScope) bool {
	sj := s.sj
	if sj.Status.LastScheduleTime != nil || len(sj.Status.Watermarks) > 0 || !syncrun.DeepHistory(sj) {
		return false
	}
	bc := &bankingv1alpha1.BankConnection{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: sj.Namespace, Name: sj.Spec.ConnectionRef.Name}, bc); err != nil {
		return false // phaseConnection reports a missing connection
	}
	auth := authenticatedAt(bc)
	return scaLimited(bc) && !auth.IsZero() && s.now.Before(auth.Add(syncrun.SCAWindow))
}

// scaLimited: TrueLayer's banks limit history older than 90 days to the SCA window;
// Codat pulls history itself on link.
func scaLimited(bc *bankingv1alpha1.BankConnection) bool {
	return bc.Spec.Provider == bankingv1alpha1.ProviderTrueLayer
}

// authenticatedAt is when the user last authenticated at the bank, as far as the
// operator knows: the grant of the current tokens, else the consent's creation.
func authenticatedAt(bc *bankingv1alpha1.BankConnection) time.Time {
	if c := bc.Status.Consent; c != nil {
		if c.GrantedAt != nil {
			return c.GrantedAt.Time
		}
		if c.CreatedAt != nil {
			return c.CreatedAt.Time
		}
	}
	return time.Time{}
}

// historyFloor is how far back the job's runs on bc may read at now.
func historyFloor(bc *bankingv1alpha1.BankConnection, now time.Time) time.Time {
	return syncrun.HistoryFloor(scaLimited(bc), authenticatedAt(bc), now)
}

// scheduleAnchor is the time slots are counted from: the last run's slot; before the
// first run, just before the slot already published in status.nextScheduleTime; on
// first sight, the job's creation (or now, if the operator's clock is behind the
// apiserver's).
func scheduleAnchor(sj *bankingv1alpha1.SyncJob, now time.Time) time.Time {
	switch {
	case sj.Status.LastScheduleTime != nil:
		return sj.Status.LastScheduleTime.Time
	case sj.Status.NextScheduleTime != nil:
		return sj.Status.NextScheduleTime.Add(-time.Nanosecond)
	case sj.CreationTimestamp.Time.After(now):
		return now
	default:
		return sj.CreationTimestamp.Time
	}
}

// phaseConnection waits, without failing, until the connection is Ready: the job is
// Ready=False (WaitingForConnection) while its connection is missing, being deleted
// or not Ready, and its connection's changes wake it.
func (r *SyncJobReconciler) phaseConnection(ctx context.Context, s *jobScope) (bool, error) {
	bc, reason, err := r.readyConnection(ctx, s.sj)
	if err != nil {
		return false, err
	}
	if reason != "" {
		s.setReady(metav1.ConditionFalse, bankingv1alpha1.ReasonWaitingForConnection, reason)
		conditions.MarkAbnormal(&s.sj.Status.Conditions, s.sj.Generation, bankingv1alpha1.ConditionReconciling, false, "", "")
		return true, nil // the connection's changes wake this job
	}
	s.bc = bc
	return false, nil
}

// readyConnection returns the job's connection, or why the job must wait for it.
func (r *SyncJobReconciler) readyConnection(ctx context.Context, sj *bankingv1alpha1.SyncJob) (*bankingv1alpha1.BankConnection, string, error) {
	bc := &bankingv1alpha1.BankConnection{}
	name := sj.Spec.ConnectionRef.Name
	if err := r.Get(ctx, types.NamespacedName{Namespace: sj.Namespace, Name: name}, bc); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.ForgetConnection(sj.Namespace, name) // its budget series outlive it otherwise
			return nil, fmt.Sprintf("BankConnection %s does not exist", name), nil
		}
		return nil, "", fmt.Errorf("reading BankConnection %s: %w", name, err)
	}
	if !bc.DeletionTimestamp.IsZero() {
		return nil, fmt.Sprintf("BankConnection %s is being deleted", name), nil
	}
	ready := apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue {
		why := "not Ready yet"
		if ready != nil {
			why = "not Ready (" + ready.Reason + ")"
		}
		return nil, fmt.Sprintf("BankConnection %s is %s", name, why), nil
	}
	return bc, "", nil
}

// phaseStartRun starts a due run, unless it would exceed the unattended budget, in
// which case it is recorded as Deferred and never sent.
func (r *SyncJobReconciler) phaseStartRun(ctx context.Context, s *jobScope) (bool, error) {
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
		floor := historyFloor(bc, s.now)
		ids, err := r.accountIDs(ctx, connection.StoreOwner(bc).Key())
		if err != nil {
			return false, err
		}
		plan := budgetPlan(append(syncrun.ConnectionFetches(sj), syncrun.AccountFetches(sj, knownAccounts(bc),
			func(a syncrun.Account) (time.Time, time.Time) {
				return syncrun.TransactionWindow(sj, watermark(sj, ids.of(a.ID)), s.now, floor)
			})...), ids)
		if fits, freeAt := budget.Check(bc.Status.UnattendedCalls, plan, s.now); !fits {
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
	return r.phaseActiveRun(ctx, s)
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
	s.setReady(s.readyStatus(), bankingv1alpha1.ReasonBudgetExhausted,
		"A scheduled run was deferred: it would exceed four unattended calls per account and endpoint in 24 hours")
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

func knownAccounts(bc *bankingv1alpha1.BankConnection) []syncrun.Account {
	out := make([]syncrun.Account, 0, len(bc.Status.Accounts))
	for _, a := range bc.Status.Accounts {
		out = append(out, syncrun.Account{ID: a.ID, Card: a.Kind == "Card"})
	}
	return out
}

func watermark(sj *bankingv1alpha1.SyncJob, accountID string) time.Time {
	for _, w := range sj.Status.Watermarks {
		if w.AccountID == accountID {
			return w.TransactionsThrough.Time
		}
	}
	return time.Time{}
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

func (r *SyncJobReconciler) event(sj *bankingv1alpha1.SyncJob, kind, reason, action, note string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(sj, nil, kind, reason, action, "%s", note)
	}
}
