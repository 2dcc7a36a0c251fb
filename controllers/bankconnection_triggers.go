package controllers

import (
	"maps"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// What wakes the BankConnection reconciler. Its own writes do not: a status patch, the
// finalizer and the token Secret it creates or updates would each run another
// reconcile that finds nothing to do, on a cache that may not show the write yet (a
// third of a consent's reconciles were such). Timed work comes back through
// RequeueAfter, a lost optimistic lock through requeueSoon.

// connectionTriggers wakes the reconciler on creation, deletion and the updates that
// wakesReconciler names.
var connectionTriggers = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, okOld := e.ObjectOld.(*bankingv1alpha1.BankConnection)
		cur, okNew := e.ObjectNew.(*bankingv1alpha1.BankConnection)
		return !okOld || !okNew || wakesReconciler(old, cur)
	},
}

// tokenSecretTriggers: only a token Secret's deletion (by hand, or by a namespace
// cleanup) is news; the reconciler writes the Secret itself.
var tokenSecretTriggers = predicate.Funcs{
	CreateFunc: func(event.CreateEvent) bool { return false },
	UpdateFunc: func(event.UpdateEvent) bool { return false },
}

// wakesReconciler is true when an update changed something another writer owns: the
// spec (generation), the metadata users and SyncJobs write (annotations such as
// refresh-requested-at, labels), the deletion, the gateway's hand-over fields
// (status.handoff, status.checkRequest) or the notifier's delivery record (the
// reconciler then drops acknowledged events from the outbox).
func wakesReconciler(old, cur *bankingv1alpha1.BankConnection) bool {
	switch {
	case old.Generation != cur.Generation,
		!maps.Equal(old.Annotations, cur.Annotations),
		!maps.Equal(old.Labels, cur.Labels),
		old.DeletionTimestamp.IsZero() != cur.DeletionTimestamp.IsZero():
		return true
	case !equality.Semantic.DeepEqual(old.Status.Handoff, cur.Status.Handoff),
		!equality.Semantic.DeepEqual(old.Status.CheckRequest, cur.Status.CheckRequest):
		return true
	}
	return !equality.Semantic.DeepEqual(deliveryOf(old), deliveryOf(cur))
}

func deliveryOf(bc *bankingv1alpha1.BankConnection) *bankingv1alpha1.NotificationDelivery {
	if bc.Status.Notifications == nil {
		return nil
	}
	return bc.Status.Notifications.Delivery
}
