package controllers

import (
	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// A connection's failed provider calls are counted in status.token (failedAttempts,
// lastFailureAt; the BankConnection reconciler is their only writer). Every provider
// call the reconciler makes on its own (not a refresh, which DecideRefresh spaces out
// from the same fields) waits for mayCall, so a status write, which triggers another
// reconcile, never causes an extra call. The delays are consent's (internal/consent).

// recordFailure counts a failed provider call and requeues at its retry.
func recordFailure(s *connectionScope, pe *provider.Error) {
	tok := tokenStatus(s.bc)
	tok.FailedAttempts++
	tok.LastFailureAt = timePtr(s.now)
	s.requeueAt(consent.RetryAt(string(s.bc.UID), tok.FailedAttempts, s.now, pe.RetryAfter))
}

// mayCall is false while the backoff after a failed provider call runs; the
// reconcile then requeues at its end.
func (r *BankConnectionReconciler) mayCall(s *connectionScope) bool {
	tok := s.bc.Status.Token
	if tok == nil || tok.FailedAttempts == 0 || tok.LastFailureAt == nil {
		return true
	}
	retry := consent.RetryAt(string(s.bc.UID), tok.FailedAttempts, tok.LastFailureAt.Time, 0)
	if s.now.Before(retry) {
		s.requeueAt(retry)
		return false
	}
	return true
}

func tokenStatus(bc *bankingv1alpha1.BankConnection) *bankingv1alpha1.TokenStatus {
	if bc.Status.Token == nil {
		bc.Status.Token = &bankingv1alpha1.TokenStatus{}
	}
	return bc.Status.Token
}

// resetFailures forgets the failures once a call succeeded.
func resetFailures(bc *bankingv1alpha1.BankConnection) {
	if bc.Status.Token != nil {
		bc.Status.Token.FailedAttempts = 0
		bc.Status.Token.LastFailureAt = nil
	}
}

// resetKeptFailures is resetFailures for a consent the provider keeps, whose
// status.token holds nothing else: it goes altogether.
func resetKeptFailures(bc *bankingv1alpha1.BankConnection) {
	resetFailures(bc)
	if t := bc.Status.Token; t != nil && *t == (bankingv1alpha1.TokenStatus{}) {
		bc.Status.Token = nil
	}
}
