package controllers

import (
	"context"
	"maps"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

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

// userPresentPriority ranks reconciles a user waits for above every other kind
// (events default to 0, timed requeues and resyncs are handler.LowPriority).
const userPresentPriority = 100

// priorityHandler raises the priority of a BankConnection someone waits for; the For()
// handler enqueues every event, and the higher of the two priorities wins. A handoff
// from the gateway means a user waits in a browser: userPresentPriority. After a
// restart, the initial list enqueues every connection at handler.LowPriority; a
// connection a user waits for, or one never reconciled (its link not published yet),
// must not queue behind all the others' refreshes.
type priorityHandler struct{}

func (priorityHandler) Create(_ context.Context, e event.TypedCreateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	bc, ok := e.Object.(*bankingv1alpha1.BankConnection)
	if !ok || !e.IsInInitialList {
		return
	}
	if priority, raise := initialListPriority(bc); raise {
		addWithPriority(q, bc, priority)
	}
}

// initialListPriority is the priority of a connection found by the initial list that
// someone waits for (raise false: the initial list's low priority is right).
func initialListPriority(bc *bankingv1alpha1.BankConnection) (priority int, raise bool) {
	switch {
	case userWaits(bc):
		return userPresentPriority, true
	case bc.Status.ObservedGeneration == 0:
		return 0, true // never reconciled: its user waits for the link
	}
	return 0, false
}

func addWithPriority(q workqueue.TypedRateLimitingInterface[reconcile.Request], bc *bankingv1alpha1.BankConnection, priority int) {
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(bc)}
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(priority)}, req)
		return
	}
	q.Add(req)
}

func (priorityHandler) Delete(context.Context, event.TypedDeleteEvent[client.Object], workqueue.TypedRateLimitingInterface[reconcile.Request]) {
}
func (priorityHandler) Generic(context.Context, event.TypedGenericEvent[client.Object], workqueue.TypedRateLimitingInterface[reconcile.Request]) {
}

func (priorityHandler) Update(_ context.Context, e event.TypedUpdateEvent[client.Object], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	old, okOld := e.ObjectOld.(*bankingv1alpha1.BankConnection)
	cur, okNew := e.ObjectNew.(*bankingv1alpha1.BankConnection)
	if !okOld || !okNew {
		return
	}
	// Only a handoff: a second enqueue beside the For() handler's can run a reconcile on
	// a cache that does not show the first one's status yet, and for a check request
	// that would ask the provider twice (a handoff is guarded by the journey recorded on
	// the token Secret).
	if cur.Status.Handoff == nil || equality.Semantic.DeepEqual(old.Status.Handoff, cur.Status.Handoff) {
		return
	}
	addWithPriority(q, cur, userPresentPriority)
}
