package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// TestReadyStatus: a missing Ready condition reads as Unknown.
func TestReadyStatus(t *testing.T) {
	if got := readyStatus(nil); got != metav1.ConditionUnknown {
		t.Fatalf("readyStatus(nil) = %s, want Unknown", got)
	}
	conds := []metav1.Condition{{Type: bankingv1alpha1.ConditionReady, Status: metav1.ConditionFalse}}
	if got := readyStatus(conds); got != metav1.ConditionFalse {
		t.Fatalf("readyStatus = %s, want False", got)
	}
}
