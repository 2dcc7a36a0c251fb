package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// msgNoDebugIDs answers a debug id request where the provider has none.
const msgNoDebugIDs = "The provider issues no debug ids; quote the trace id shown in the failed call's error (conditions, SyncJob runs) to its support"

// stepDebugID answers a new debug-id-requested-at value with the provider's debug
// id in status.debug (this reconciler is its only writer) and an event. It runs
// before the stall check: a failing connection is when support needs one. It never
// stops the reconcile; a failure is recorded in the answer, and a new value asks
// again.
func (r *BankConnectionReconciler) stepDebugID(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	requested := bc.Annotations[bankingv1alpha1.AnnotationDebugIDRequestedAt]
	if requested == "" || (bc.Status.Debug != nil && bc.Status.Debug.RequestedAt == requested) {
		return false, nil
	}
	answer := &bankingv1alpha1.DebugStatus{RequestedAt: truncate(requested, 253)}
	pc, conn, err := r.connection(ctx, s)
	dbg, ok := pc.(provider.Debugger)
	sess, consented, serr := s.kind.session(ctx, s)
	switch {
	case err == nil && serr != nil:
		answer.Message = truncate("The access token could not be read: "+serr.Error(), 1024)
	case err != nil:
		answer.Message = truncate("The provider could not be asked: "+err.Error(), 1024)
	case !ok:
		answer.Message = msgNoDebugIDs
	case !consented:
		answer.Message = "There is no access token to debug yet: the user has not consented"
	default:
		d, err := dbg.DebugID(ctx, conn, sess)
		if pe, isPE := provider.AsError(err); isPE && pe.Class == provider.ClassInvalidRequest && pe.Status == 0 {
			answer.Message = truncate(pe.Description, 1024) // the data API has none
		} else if err != nil {
			answer.Message = truncate("The provider gave no debug id: "+err.Error(), 1024)
		} else {
			answer.ID, answer.ProviderID = d.ID, d.ProviderID
			answer.IssuedAt = timePtr(s.now.UTC().Truncate(time.Second))
		}
	}
	bc.Status.Debug = answer
	if answer.ID != "" {
		r.event(bc, corev1.EventTypeNormal, "DebugID", "DebugID", "Debug id for the provider's support: "+answer.ID+" (bank "+answer.ProviderID+")")
	} else {
		r.event(bc, corev1.EventTypeWarning, "DebugID", "DebugID", answer.Message)
	}
	return false, nil
}
