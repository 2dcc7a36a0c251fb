package controllers

import (
	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// checkRequest is an open ask to refresh the tokens or check the consent now. It
// comes from the refresh-requested-at annotation (users, SyncJobs meeting the
// consent's end) or from the gateway's status.checkRequest (a user's return from a
// provider that keeps the consent, a verified provider webhook). Each is acknowledged
// in its own field: status.lastHandledRefreshAt and status.lastHandledCheckRequest.
type checkRequest struct {
	annotation string
	gateway    *bankingv1alpha1.CheckRequest
}

// openRequest returns what bc asks for that the reconciler has not acted on yet.
func openRequest(bc *bankingv1alpha1.BankConnection) checkRequest {
	var q checkRequest
	if v := bc.Annotations[bankingv1alpha1.AnnotationRefreshRequestedAt]; v != "" && v != bc.Status.LastHandledRefreshAt {
		q.annotation = v
	}
	q.gateway = bc.Status.OpenCheckRequest()
	return q
}

// open is true when something asks.
func (q checkRequest) open() bool { return q.annotation != "" || q.gateway != nil }

// handled acknowledges the request in bc's status.
func (q checkRequest) handled(bc *bankingv1alpha1.BankConnection) {
	if q.annotation != "" {
		bc.Status.LastHandledRefreshAt = q.annotation
	}
	if q.gateway != nil {
		bc.Status.LastHandledCheckRequest = q.gateway.ID
	}
}

// failureReason is the provider's reason when a verified webhook reported that the
// journey failed (the provider's consent probe cannot tell a failed journey from a
// pending one).
func (q checkRequest) failureReason() (string, bool) {
	if q.gateway == nil || q.gateway.Source != bankingv1alpha1.CheckSourceFailed {
		return "", false
	}
	return q.gateway.FailureReason, true
}
