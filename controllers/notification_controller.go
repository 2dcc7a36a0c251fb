package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/notify"
)

// NotificationReconciler delivers the events in BankConnections' and SyncJobs'
// outboxes (status.notifications.pending). Its reconciles only decide what is due and
// hand the sending to the dispatcher's workers, so neither they nor the reconcilers
// that record the events ever wait for a destination. It is the one writer of
// status.notifications.delivery, and runs only on the leader.
type NotificationReconciler struct {
	client.Client
	// APIReader reads the object before sending (the cache may not show the last
	// acknowledgement yet) and the signing Secret (Secrets of users are not cached).
	APIReader  client.Reader
	Clock      Clock
	Dispatcher *notify.Dispatcher
	Sender     *notify.Sender
	Metrics    *metrics.Notifications
	// Timeout bounds one delivery attempt.
	Timeout time.Duration
	// MaxAttempts is how many times an event is tried before it is given up.
	MaxAttempts int32
}

// notificationKind is the NotificationReconciler for one kind.
type notificationKind struct {
	*NotificationReconciler
	name      string
	newObject func() client.Object
	// wake enqueues an object once its delivery job finished, for its next event.
	wake chan event.GenericEvent
}

// SetupWithManager registers a controller per kind and the dispatcher.
func (r *NotificationReconciler) SetupWithManager(mgr ctrl.Manager) error {
	kinds := []*notificationKind{
		{NotificationReconciler: r, name: "bankconnection-notifications", newObject: func() client.Object { return &bankingv1alpha1.BankConnection{} }},
		{NotificationReconciler: r, name: "syncjob-notifications", newObject: func() client.Object { return &bankingv1alpha1.SyncJob{} }},
	}
	for _, k := range kinds {
		k.wake = make(chan event.GenericEvent, 1024)
		if err := ctrl.NewControllerManagedBy(mgr).
			// Only objects with something to deliver are looked at.
			For(k.newObject(), builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
				_, _, ok := nextUndelivered(o)
				return ok
			}))).
			WatchesRawSource(source.Channel(k.wake, &handler.EnqueueRequestForObject{})).
			Named(k.name).
			WithOptions(controller.Options{MaxConcurrentReconciles: 2}).
			Complete(k); err != nil {
			return fmt.Errorf("setting up the %s controller: %w", k.name, err)
		}
	}
	if err := mgr.Add(r.Dispatcher); err != nil {
		return fmt.Errorf("adding the notification dispatcher: %w", err)
	}
	return nil
}

// Reconcile hands the object's oldest undelivered event to the dispatcher when its
// next attempt is due.
func (k *notificationKind) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := k.newObject()
	if err := k.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ev, d, ok := nextUndelivered(obj)
	if !ok {
		return ctrl.Result{}, nil
	}
	now := k.Clock.Now()
	if d != nil && d.NextAttemptAt != nil && now.Before(d.NextAttemptAt.Time) {
		return ctrl.Result{RequeueAfter: d.NextAttemptAt.Sub(now)}, nil
	}
	bc := k.connectionOf(ctx, obj)
	target, found, err := targetFor(ctx, k.Client, req.Namespace, bc)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("reading the notification destination: %w", err)
	}
	if !found {
		// The destination was removed after the event was recorded: nowhere to send it.
		err := &notify.DeliveryError{Outcome: notify.OutcomeUndeliverable, Err: errors.New("no notification destination is configured")}
		return ctrl.Result{}, k.settle(ctx, obj, ev, err, now)
	}
	key := k.name + "/" + req.String()
	k.Dispatcher.Submit(destinationOf(target.URL), key, func(ctx context.Context) {
		k.deliver(ctx, req.NamespacedName, ev.ID, target, bc)
	}, func() { k.wakeUp(req.NamespacedName) })
	// The attempt's status write wakes this controller again; this requeue is for an
	// attempt that could not record its outcome.
	return ctrl.Result{RequeueAfter: 2*k.Timeout + time.Second}, nil
}

// wakeUp looks at an object again once its delivery job is done.
func (k *notificationKind) wakeUp(key types.NamespacedName) {
	o := k.newObject()
	o.SetNamespace(key.Namespace)
	o.SetName(key.Name)
	select {
	case k.wake <- event.GenericEvent{Object: o}:
	default: // full: the requeue that Reconcile asked for looks again
	}
}

// deliver makes one attempt, on a dispatcher worker.
func (k *notificationKind) deliver(ctx context.Context, key types.NamespacedName, id string, target notificationTarget, bc *bankingv1alpha1.BankConnection) {
	logger := log.FromContext(ctx).WithValues("controller", k.name, "namespace", key.Namespace, "name", key.Name, "event", id)
	obj := k.newObject()
	if err := k.APIReader.Get(ctx, key, obj); err != nil {
		if client.IgnoreNotFound(err) != nil {
			logger.Error(err, "Reading the object before a notification")
		}
		return
	}
	ev, d, ok := nextUndelivered(obj)
	at := k.Clock.Now()
	if !ok || ev.ID != id || d != nil && d.NextAttemptAt != nil && at.Before(d.NextAttemptAt.Time) {
		return // delivered, superseded or tried meanwhile (the cache was behind)
	}
	err := k.send(ctx, obj, ev, target, bc, at)
	if err != nil {
		logger.V(1).Info("Notification not delivered", "type", ev.Type, "error", err.Error())
	}
	// The outcome is recorded even when the manager is stopping, so a delivered event
	// is not sent again by the next leader.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := k.settle(wctx, obj, ev, err, at); err != nil {
		logger.Error(err, "Recording a notification attempt")
	}
}

// send signs and posts ev.
func (k *notificationKind) send(ctx context.Context, obj client.Object, ev bankingv1alpha1.NotificationEvent, target notificationTarget, bc *bankingv1alpha1.BankConnection, at time.Time) error {
	body, err := notify.Body(ev, subjectOf(obj, bc))
	if err != nil {
		return &notify.DeliveryError{Outcome: notify.OutcomeMisconfigured, Err: err}
	}
	secret, err := signingKey(ctx, k.APIReader, obj.GetNamespace(), target.Secret)
	if err != nil {
		return &notify.DeliveryError{Outcome: notify.OutcomeMisconfigured, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, k.Timeout)
	defer cancel()
	return k.Sender.Send(ctx, notify.Message{URL: target.URL, ID: ev.ID, Body: body, Key: secret, At: at})
}

// settle records an attempt's outcome in status.notifications.delivery: delivered
// or given up, the event is acknowledged (its reconciler then drops it from pending);
// otherwise it is tried again after a capped exponential backoff.
func (k *notificationKind) settle(ctx context.Context, obj client.Object, ev bankingv1alpha1.NotificationEvent, sendErr error, at time.Time) error {
	before := obj.DeepCopyObject().(client.Object)
	st := *notificationsOf(obj)
	if st.Delivery == nil {
		st.Delivery = &bankingv1alpha1.NotificationDelivery{}
	}
	d := st.Delivery
	outcome := notify.OutcomeDelivered
	if sendErr == nil {
		d.LastDelivered = &bankingv1alpha1.DeliveredNotification{ID: ev.ID, Type: ev.Type, At: metav1.NewTime(at.UTC().Truncate(time.Second))}
		d.LastError = ""
		acknowledge(st, ev.ID)
	} else {
		outcome = notify.OutcomeFailed
		var de *notify.DeliveryError
		if errors.As(sendErr, &de) {
			outcome = de.Outcome
		}
		d.Failures++
		d.LastError = truncate(capitalize(sendErr.Error()), 512)
		d.NextAttemptAt = timePtr(notify.NextAttempt(at, d.Failures))
		if outcome == notify.OutcomeUndeliverable || d.Failures >= k.MaxAttempts {
			if outcome != notify.OutcomeUndeliverable {
				k.Metrics.Outcome(obj.GetNamespace(), string(ev.Type), outcome)
				outcome = notify.OutcomeAbandoned
			}
			acknowledge(st, ev.ID)
		}
	}
	k.Metrics.Outcome(obj.GetNamespace(), string(ev.Type), outcome)
	// A merge patch of the delivery fields only: pending is the reconciler's.
	if err := k.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("recording the notification outcome: %w", err)
	}
	return nil
}

// acknowledge marks id as done: the next event starts with a clean slate. Ids whose
// events already left pending are forgotten.
func acknowledge(st *bankingv1alpha1.NotificationStatus, id string) {
	d := st.Delivery
	acked := []string{}
	for _, a := range d.Acknowledged {
		if a != id && slices.ContainsFunc(st.Pending, func(p bankingv1alpha1.NotificationEvent) bool { return p.ID == a }) {
			acked = append(acked, a)
		}
	}
	d.Acknowledged = append(acked, id)
	d.Failures = 0
	d.NextAttemptAt = nil
}

// nextUndelivered is the oldest pending event of o not yet acknowledged.
func nextUndelivered(o client.Object) (bankingv1alpha1.NotificationEvent, *bankingv1alpha1.NotificationDelivery, bool) {
	p := notificationsOf(o)
	if p == nil || *p == nil {
		return bankingv1alpha1.NotificationEvent{}, nil, false
	}
	st := *p
	for _, ev := range st.Pending {
		if st.Delivery == nil || !slices.Contains(st.Delivery.Acknowledged, ev.ID) {
			return ev, st.Delivery, true
		}
	}
	return bankingv1alpha1.NotificationEvent{}, nil, false
}

// notificationsOf is the outbox of a BankConnection or SyncJob.
func notificationsOf(o client.Object) **bankingv1alpha1.NotificationStatus {
	switch o := o.(type) {
	case *bankingv1alpha1.BankConnection:
		return &o.Status.Notifications
	case *bankingv1alpha1.SyncJob:
		return &o.Status.Notifications
	}
	return nil
}

// connectionOf is the BankConnection whose destination o's events go to: o itself,
// or a SyncJob's connection (nil when it is gone).
func (k *notificationKind) connectionOf(ctx context.Context, o client.Object) *bankingv1alpha1.BankConnection {
	switch o := o.(type) {
	case *bankingv1alpha1.BankConnection:
		return o
	case *bankingv1alpha1.SyncJob:
		bc := &bankingv1alpha1.BankConnection{}
		if err := k.Get(ctx, types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.ConnectionRef.Name}, bc); err != nil {
			return nil
		}
		return bc
	}
	return nil
}

// subjectOf names what o's events are about, in the payload.
func subjectOf(o client.Object, bc *bankingv1alpha1.BankConnection) notify.Subject {
	s := notify.Subject{Namespace: o.GetNamespace(), Connection: o.GetName()}
	if sj, ok := o.(*bankingv1alpha1.SyncJob); ok {
		s.Connection, s.SyncJob = sj.Spec.ConnectionRef.Name, sj.Name
	}
	if bc != nil {
		s.UserRef, s.Provider = bc.Spec.UserRef, string(bc.Spec.Provider)
	}
	return s
}
