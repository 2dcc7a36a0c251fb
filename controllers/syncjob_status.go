package controllers

import (
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/conditions"
)

// A SyncJob reconcile's steps record what they found in a jobReport; the job's
// conditions are derived from it in one place (updateJobConditions), as Cluster API's
// updateStatus does. The SyncJob reconciler is the only writer of status.conditions.

// jobReport is what a SyncJob reconcile's steps found. Several facts can be recorded
// in one reconcile (the plan fits, then the due run is deferred); updateJobConditions
// says which of them each condition shows.
type jobReport struct {
	// scheduleProblem is why spec.schedule cannot be used (every problem, one message).
	scheduleProblem string
	// runInFlight: a run was in flight in this reconcile (carried over or started).
	runInFlight bool
	// runEnded is how the run this reconcile finished ended.
	runEnded *runEnd
	// suspended: spec.suspend kept a new run from starting.
	suspended bool
	// waitingForConnection is why the job waits for its connection (missing, being
	// deleted, not Ready).
	waitingForConnection string
	// planFits: the job's runs fit the unattended budget (syncrun.NeverFits found
	// nothing).
	planFits bool
	// planProblem is why the job's runs could never fit the unattended budget.
	planProblem string
	// awaitingFirstSlot: a scheduled job that never ran waits for its first slot.
	awaitingFirstSlot bool
	// deferred: a due run would have exceeded the budget and was not sent.
	deferred bool
}

// runEnd is how a run ended.
type runEnd struct {
	result bankingv1alpha1.RunResult
	// message is what went wrong (empty for a run that succeeded).
	message string
	// oneShot: the job has no schedule, so this was its only run.
	oneShot bool
	// needsHuman is the API's reason when the provider said the consent needs a human
	// and connection (the BankConnection's name) was asked to check.
	needsHuman, connection string
}

// Stable messages of the SyncJob's conditions.
const (
	msgJobStarted        = "Reconciliation has started"
	msgRunInFlight       = "A run is in flight"
	msgFirstRunInFlight  = "The first run is in flight"
	msgJobSuspended      = "Suspended: no new runs are started"
	msgAwaitingFirstSlot = "Waiting for the first scheduled run"
	msgPlanFixed         = "The spec changed; waiting for the next run"
	msgRunDeferred       = "A scheduled run was deferred: it would exceed four unattended calls per account and endpoint in 24 hours"
	msgRunStored         = "The run stored its data"
	msgLastRunStored     = "The last run stored its data"
)

// updateJobConditions derives the job's conditions from what the reconcile found: the
// only place they are written (see the conditions contract in internal/conditions).
func updateJobConditions(conds *[]metav1.Condition, generation int64, rep jobReport) {
	conditions.InitReady(conds, generation, msgJobStarted)
	prior := apimeta.FindStatusCondition(*conds, bankingv1alpha1.ConditionReady)
	// The plan was refused before and is not any more: no run has said anything yet.
	planFixed := rep.planFits && prior.Reason == bankingv1alpha1.ReasonPlanExceedsBudget
	status := prior.Status
	if planFixed {
		status = metav1.ConditionUnknown
	}
	setJobStalledCondition(conds, generation, rep)
	setJobReconcilingCondition(conds, generation, rep)
	switch {
	case rep.scheduleProblem != "":
		setJobReadyCondition(conds, generation, metav1.ConditionFalse, bankingv1alpha1.ReasonInvalidSchedule, rep.scheduleProblem)
	case rep.runEnded != nil:
		status, reason, message := rep.runEnded.ready()
		setJobReadyCondition(conds, generation, status, reason, message)
	case rep.runInFlight && status == metav1.ConditionUnknown:
		setJobReadyCondition(conds, generation, metav1.ConditionUnknown, bankingv1alpha1.ReasonRunning, msgFirstRunInFlight)
	case rep.runInFlight:
		// Ready keeps what the last run said while the next one is in flight.
	case rep.suspended:
		setJobReadyCondition(conds, generation, status, bankingv1alpha1.ReasonSuspended, msgJobSuspended)
	case rep.waitingForConnection != "":
		setJobReadyCondition(conds, generation, metav1.ConditionFalse, bankingv1alpha1.ReasonWaitingForConnection, rep.waitingForConnection)
	case rep.planProblem != "":
		setJobReadyCondition(conds, generation, metav1.ConditionFalse, bankingv1alpha1.ReasonPlanExceedsBudget, rep.planProblem)
	case rep.awaitingFirstSlot:
		setJobReadyCondition(conds, generation, metav1.ConditionUnknown, bankingv1alpha1.ReasonScheduled, msgAwaitingFirstSlot)
	case rep.deferred:
		setJobReadyCondition(conds, generation, status, bankingv1alpha1.ReasonBudgetExhausted, msgRunDeferred)
	case planFixed:
		setJobReadyCondition(conds, generation, metav1.ConditionUnknown, bankingv1alpha1.ReasonScheduled, msgPlanFixed)
	}
}

// ready is what Ready says after the run: also the text of the run's event.
func (e runEnd) ready() (metav1.ConditionStatus, string, string) {
	if e.result == bankingv1alpha1.RunSucceeded {
		if e.oneShot {
			return metav1.ConditionTrue, bankingv1alpha1.ReasonCompleted, msgRunStored
		}
		return metav1.ConditionTrue, bankingv1alpha1.ReasonSucceeded, msgLastRunStored
	}
	reason, prefix := bankingv1alpha1.ReasonRunFailed, "The last run did not complete: "
	if e.needsHuman != "" {
		reason = e.needsHuman
		prefix = "The provider says the connection needs a human (" + reason + "); BankConnection " +
			e.connection + " was asked to check: "
	}
	return metav1.ConditionFalse, reason, prefix + truncate(e.message, 500)
}

func setJobReadyCondition(conds *[]metav1.Condition, generation int64, status metav1.ConditionStatus, reason, message string) {
	conditions.Set(conds, generation, bankingv1alpha1.ConditionReady, status, reason, message)
}

// setJobStalledCondition sets Stalled=True while only a change of the spec can move
// the job on (a schedule or a plan that cannot run), or removes it (abnormal-true).
func setJobStalledCondition(conds *[]metav1.Condition, generation int64, rep jobReport) {
	switch {
	case rep.scheduleProblem != "":
		conditions.MarkAbnormal(conds, generation, bankingv1alpha1.ConditionStalled, true, bankingv1alpha1.ReasonInvalidSchedule, rep.scheduleProblem)
	case rep.planProblem != "":
		conditions.MarkAbnormal(conds, generation, bankingv1alpha1.ConditionStalled, true, bankingv1alpha1.ReasonPlanExceedsBudget, rep.planProblem)
	default:
		conditions.MarkAbnormal(conds, generation, bankingv1alpha1.ConditionStalled, false, "", "")
	}
}

// setJobReconcilingCondition sets Reconciling=True while a run is in flight and
// removes it when the run ended or the job waits for its connection; otherwise it
// stands.
func setJobReconcilingCondition(conds *[]metav1.Condition, generation int64, rep jobReport) {
	switch {
	case rep.runEnded != nil || rep.waitingForConnection != "":
		conditions.MarkAbnormal(conds, generation, bankingv1alpha1.ConditionReconciling, false, "", "")
	case rep.runInFlight:
		conditions.MarkAbnormal(conds, generation, bankingv1alpha1.ConditionReconciling, true, bankingv1alpha1.ReasonRunning, msgRunInFlight)
	}
}
