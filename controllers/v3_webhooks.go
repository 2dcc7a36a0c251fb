package controllers

import (
	"context"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/gateway"
)

// v3CheckRequest prefixes the refresh-requested-at value a Data API v3
// connection_management webhook sets; a failed connection's reason follows
// v3FailedRequest, so the check that answers it knows the journey failed (the probe
// cannot tell a failed connection from a pending one).
const (
	v3CheckRequest  = "v3-webhook/"
	v3FailedRequest = v3CheckRequest + gateway.V3ConnectionFailed + "/"
)

// notifyTimeout bounds the apiserver calls a webhook makes.
const notifyTimeout = 10 * time.Second

// NotifyV3Connection handles a connection_management webhook (connection_authorized,
// connection_failed): when it names one of this operator's v3 connections (by the
// metadata the operator set and the data connection id in its status) it asks the
// reconciler to check with TrueLayer at once, through the refresh-requested-at
// annotation, as the gateway's return page does.
func (r *BankConnectionReconciler) NotifyV3Connection(e gateway.V3Event) bool {
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	if e.Namespace == "" || e.Name == "" {
		return false
	}
	bc := &bankingv1alpha1.BankConnection{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: e.Namespace, Name: e.Name}, bc); err != nil {
		return false
	}
	if !isV3(bc) || !signedFor(bc, e) || bc.Status.ProviderRefs == nil || bc.Status.ProviderRefs.DataConnectionID != e.ConnectionID {
		return false
	}
	if c := bc.Status.Consent; c != nil && c.Status == bankingv1alpha1.ConsentActive {
		return true // already known to be authorised: nothing to check
	}
	value := v3CheckRequest + e.Type + "/" + e.EventID
	if e.Type == gateway.V3ConnectionFailed {
		value = v3FailedRequest + orDefault(e.FailureReason, "unknown") + "/" + e.EventID
	}
	if cur := bc.Annotations[bankingv1alpha1.AnnotationRefreshRequestedAt]; cur != "" && cur != bc.Status.LastHandledRefreshAt &&
		!strings.HasPrefix(value, v3FailedRequest) {
		return true // a check is already asked for
	}
	patch := client.MergeFrom(bc.DeepCopy())
	if bc.Annotations == nil {
		bc.Annotations = map[string]string{}
	}
	bc.Annotations[bankingv1alpha1.AnnotationRefreshRequestedAt] = value
	if err := r.Patch(ctx, bc, patch); err != nil {
		log.FromContext(ctx).Error(err, "Requesting a check after a Data API v3 webhook", "bankconnection", client.ObjectKeyFromObject(bc))
		return false
	}
	return true
}

// v3FailureReason returns the failure reason of a check request a connection_failed
// webhook set, and whether it is one.
func v3FailureReason(requested string) (string, bool) {
	rest, ok := strings.CutPrefix(requested, v3FailedRequest)
	if !ok {
		return "", false
	}
	reason, _, _ := strings.Cut(rest, "/")
	return reason, true
}

// NotifyV3Transactions handles a transaction_requests webhook: it wakes the SyncJob
// whose active run waits for that transactions request of that data connection.
func (r *SyncJobReconciler) NotifyV3Transactions(e gateway.V3Event) bool {
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	var conns bankingv1alpha1.BankConnectionList
	if err := r.List(ctx, &conns); err != nil {
		return false
	}
	for _, bc := range conns.Items {
		if !isV3(&bc) || !signedFor(&bc, e) || bc.Status.ProviderRefs == nil || bc.Status.ProviderRefs.DataConnectionID != e.ConnectionID {
			continue
		}
		var jobs bankingv1alpha1.SyncJobList
		if err := r.List(ctx, &jobs, client.InNamespace(bc.Namespace), client.MatchingFields{connectionRefIndex: bc.Name}); err != nil {
			return false
		}
		for i := range jobs.Items {
			if r.wakeRun(&jobs.Items[i], "", e.RequestID) {
				return true
			}
		}
	}
	return false
}

// signedFor is true when the webhook was signed by a key of bc's environment: a
// Sandbox key wakes no Live connection.
func signedFor(bc *bankingv1alpha1.BankConnection, e gateway.V3Event) bool {
	env := bc.Spec.Environment
	if env == "" {
		env = bankingv1alpha1.EnvironmentSandbox
	}
	return string(env) == e.Environment
}
