package controllers

import (
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// emitTransitionEvents records an event when Ready or ConsentExpiring really changed,
// so routine reconciles (refreshes included) create no events.
func (r *BankConnectionReconciler) emitTransitionEvents(before, after *bankingv1alpha1.BankConnection) {
	was := apimeta.FindStatusCondition(before.Status.Conditions, bankingv1alpha1.ConditionReady)
	now := apimeta.FindStatusCondition(after.Status.Conditions, bankingv1alpha1.ConditionReady)
	// A new connection waiting for its user is news to no one: no event (kstatus and
	// kubectl wait read the condition), so a consent costs one event, Authorized.
	awaiting := now != nil && now.Reason == bankingv1alpha1.ReasonAwaitingAuthorization && (was == nil || was.Reason == bankingv1alpha1.ReasonProgressing)
	if now != nil && !awaiting && (was == nil || was.Status != now.Status || was.Reason != now.Reason) {
		kind := corev1.EventTypeNormal
		if now.Status == "False" || now.Reason == bankingv1alpha1.ReasonProviderUnavailable || now.Reason == bankingv1alpha1.ReasonRateLimited {
			kind = corev1.EventTypeWarning
		}
		r.event(after, kind, now.Reason, "Reconcile", now.Message)
	}
	wasExp := apimeta.IsStatusConditionTrue(before.Status.Conditions, bankingv1alpha1.ConditionConsentExpiring)
	if !wasExp && apimeta.IsStatusConditionTrue(after.Status.Conditions, bankingv1alpha1.ConditionConsentExpiring) {
		r.event(after, corev1.EventTypeWarning, bankingv1alpha1.ReasonConsentExpiringSoon, "Warn",
			"The consent expires soon; the user must renew it at status.reconsentURL")
	}
}

// event records an event when a recorder is configured.
func (r *BankConnectionReconciler) event(bc *bankingv1alpha1.BankConnection, kind, reason, action, note string) {
	if r.Recorder == nil {
		return
	}
	r.Recorder.Eventf(bc, nil, kind, reason, action, "%s", note)
}
