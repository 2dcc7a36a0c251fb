package controllers

import (
	"slices"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/conditions"
	"github.com/consent-operator/consent-operator/internal/consent"
)

// A reconcile's steps record what they found in a connectionReport; the conditions
// are derived from it in one place (updateConditions), as Cluster API's
// updateStatus does. The BankConnection reconciler is the only writer of
// status.conditions.

// outcome is where a reconcile left the connection, as far as a reader of Ready,
// Stalled and Reconciling is concerned.
type outcome int

const (
	// outcomeNone: nothing new to say; the conditions stand.
	outcomeNone outcome = iota
	// outcomeSuspended: spec.suspend; Ready keeps its status, with reason Suspended.
	outcomeSuspended
	// outcomeAwaitingUser: the user has a link to consent at and has not used it.
	outcomeAwaitingUser
	// outcomeReady: the consent is active and usable.
	outcomeReady
	// outcomeStalled: only a human can move it on (re-consent, fix a Secret or the spec).
	outcomeStalled
	// outcomeRetrying: a provider call failed and is retried with backoff.
	outcomeRetrying
)

// connectionReport is what a reconcile's steps found.
type connectionReport struct {
	outcome outcome
	// reason and message explain Stalled, Retrying and Ready's text.
	reason, message string
	// usable is true when a retried failure leaves a working connection (Ready stays
	// True): the current access token still works, or the provider keeps the consent.
	usable bool

	// window is where the consent stands in its life ("" when this reconcile did not
	// place it: ConsentExpiring stands).
	window        consent.WindowState
	windowMessage string

	// linkRetry is set when getting the user's link failed and is retried with
	// backoff; it shows as Reconciling, whatever the outcome.
	linkRetry *cause
}

// cause is why a condition is set: its reason and message.
type cause struct{ reason, message string }

func (r *connectionReport) suspended(message string) {
	r.set(outcomeSuspended, bankingv1alpha1.ReasonSuspended, message)
}

func (r *connectionReport) awaitingUser(message string) {
	r.set(outcomeAwaitingUser, bankingv1alpha1.ReasonAwaitingAuthorization, message)
}

func (r *connectionReport) ready(message string) {
	r.set(outcomeReady, bankingv1alpha1.ReasonAuthorized, message)
}

func (r *connectionReport) stalled(reason, message string) { r.set(outcomeStalled, reason, message) }

func (r *connectionReport) retrying(reason, message string, usable bool) {
	r.set(outcomeRetrying, reason, message)
	r.usable = usable
}

// set records an outcome; a later step's outcome replaces an earlier one's.
func (r *connectionReport) set(o outcome, reason, message string) {
	r.outcome, r.reason, r.message, r.usable = o, reason, message, false
}

// placeWindow records what the consent's end means now.
func (r *connectionReport) placeWindow(w consent.WindowState, message string) {
	r.window, r.windowMessage = w, message
}

// Stable messages of ConsentExpiring.
const (
	msgWindowValid   = "The consent is valid beyond the warning window"
	msgWindowExpired = "The consent has expired"
)

// updateConditions derives the connection's conditions from what the reconcile
// found: the only place they are written (see the conditions contract in
// internal/conditions).
func updateConditions(conds *[]metav1.Condition, generation int64, rep connectionReport) {
	conditions.InitReady(conds, generation, "Reconciliation has started")
	switch rep.outcome {
	case outcomeSuspended:
		setReadyCondition(conds, generation, readyStatus(*conds), rep.reason, rep.message)
		setReconcilingCondition(conds, generation, nil)
	case outcomeAwaitingUser:
		setStalledCondition(conds, generation, nil)
		setReconcilingCondition(conds, generation, nil)
		setReadyCondition(conds, generation, metav1.ConditionUnknown, rep.reason, rep.message)
	case outcomeReady:
		setStalledCondition(conds, generation, nil)
		setReconcilingCondition(conds, generation, nil)
		setReadyCondition(conds, generation, metav1.ConditionTrue, rep.reason, rep.message)
	case outcomeStalled:
		setStalledCondition(conds, generation, &cause{rep.reason, rep.message})
		setReconcilingCondition(conds, generation, nil)
		setReadyCondition(conds, generation, metav1.ConditionFalse, rep.reason, rep.message)
	case outcomeRetrying:
		status := metav1.ConditionUnknown
		if rep.usable {
			status = metav1.ConditionTrue
		}
		setReadyCondition(conds, generation, status, rep.reason, rep.message)
		setReconcilingCondition(conds, generation, &cause{rep.reason, rep.message})
	}
	if rep.linkRetry != nil && rep.outcome != outcomeRetrying {
		setReconcilingCondition(conds, generation, rep.linkRetry)
	}
	setConsentExpiringCondition(conds, generation, rep.window, rep.windowMessage)
}

// derivedConditions are the conditions as the report so far would leave them: what a
// step that depends on an earlier step's outcome reads.
func derivedConditions(bc *bankingv1alpha1.BankConnection, rep connectionReport) []metav1.Condition {
	conds := slices.Clone(bc.Status.Conditions)
	updateConditions(&conds, bc.Generation, rep)
	return conds
}

func setReadyCondition(conds *[]metav1.Condition, generation int64, status metav1.ConditionStatus, reason, message string) {
	conditions.Set(conds, generation, bankingv1alpha1.ConditionReady, status, reason, message)
}

// setStalledCondition sets Stalled=True for stall, or removes it (abnormal-true).
func setStalledCondition(conds *[]metav1.Condition, generation int64, stall *cause) {
	if stall == nil {
		conditions.MarkAbnormal(conds, generation, bankingv1alpha1.ConditionStalled, false, "", "")
		return
	}
	conditions.MarkAbnormal(conds, generation, bankingv1alpha1.ConditionStalled, true, stall.reason, stall.message)
}

// setReconcilingCondition sets Reconciling=True while retry runs, or removes it.
func setReconcilingCondition(conds *[]metav1.Condition, generation int64, retry *cause) {
	if retry == nil {
		conditions.MarkAbnormal(conds, generation, bankingv1alpha1.ConditionReconciling, false, "", "")
		return
	}
	conditions.MarkAbnormal(conds, generation, bankingv1alpha1.ConditionReconciling, true, retry.reason, retry.message)
}

func setConsentExpiringCondition(conds *[]metav1.Condition, generation int64, w consent.WindowState, message string) {
	switch w {
	case consent.WindowValid:
		conditions.Set(conds, generation, bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionFalse,
			bankingv1alpha1.ReasonConsentValid, msgWindowValid)
	case consent.WindowExpiring:
		conditions.Set(conds, generation, bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionTrue,
			bankingv1alpha1.ReasonConsentExpiringSoon, message)
	case consent.WindowExpired:
		conditions.Set(conds, generation, bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionFalse,
			bankingv1alpha1.ReasonConsentExpired, msgWindowExpired)
	}
}

// readyStatus is Ready's status in conds (Unknown when absent).
func readyStatus(conds []metav1.Condition) metav1.ConditionStatus {
	if c := apimeta.FindStatusCondition(conds, bankingv1alpha1.ConditionReady); c != nil {
		return c.Status
	}
	return metav1.ConditionUnknown
}
