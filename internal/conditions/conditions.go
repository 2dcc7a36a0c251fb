// Package conditions applies the project's conditions contract (kstatus, Flux, Argo CD)
// to an object's condition list: Ready is always present, Reconciling and Stalled are
// abnormal-true and are removed rather than set to False, and every condition carries
// the generation it was computed for.
package conditions

import (
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// Set records a condition. SetStatusCondition keeps lastTransitionTime when the status
// does not change, so re-setting an unchanged condition writes nothing new.
func Set(conds *[]metav1.Condition, generation int64, condType string, status metav1.ConditionStatus, reason, message string) {
	apimeta.SetStatusCondition(conds, metav1.Condition{
		Type:               condType,
		Status:             status,
		ObservedGeneration: generation,
		Reason:             reason,
		Message:            message,
	})
}

// MarkAbnormal sets an abnormal-true condition (Reconciling, Stalled) to True, or
// removes it when active is false, as Flux and kstatus expect.
func MarkAbnormal(conds *[]metav1.Condition, generation int64, condType string, active bool, reason, message string) {
	if !active {
		apimeta.RemoveStatusCondition(conds, condType)
		return
	}
	Set(conds, generation, condType, metav1.ConditionTrue, reason, message)
}

// InitReady puts Ready=Unknown on an object that has no Ready condition yet, so that
// kstatus does not read an empty status as Current and Argo CD does not show Degraded
// while the first reconcile runs.
func InitReady(conds *[]metav1.Condition, generation int64, message string) {
	if apimeta.FindStatusCondition(*conds, bankingv1alpha1.ConditionReady) != nil {
		return
	}
	Set(conds, generation, bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonProgressing, message)
}
