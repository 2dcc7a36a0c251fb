package controllers

import (
	"testing"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/gateway"
)

// TestSignedFor: a v3 webhook wakes only connections of the environment whose key
// signed it (unset means Sandbox).
func TestSignedFor(t *testing.T) {
	for _, tc := range []struct {
		conn, signed bankingv1alpha1.Environment
		want         bool
	}{
		{"", bankingv1alpha1.EnvironmentSandbox, true},
		{bankingv1alpha1.EnvironmentSandbox, bankingv1alpha1.EnvironmentSandbox, true},
		{bankingv1alpha1.EnvironmentLive, bankingv1alpha1.EnvironmentLive, true},
		{bankingv1alpha1.EnvironmentLive, bankingv1alpha1.EnvironmentSandbox, false},
		{"", bankingv1alpha1.EnvironmentLive, false},
		{bankingv1alpha1.EnvironmentSandbox, "", false},
	} {
		bc := &bankingv1alpha1.BankConnection{}
		bc.Spec.Environment = tc.conn
		if got := signedFor(bc, gateway.V3Event{Environment: string(tc.signed)}); got != tc.want {
			t.Errorf("connection %q, signed by %q: %v, want %v", tc.conn, tc.signed, got, tc.want)
		}
	}
}
