package controllers

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/notify"
)

// Outbox is how the BankConnection and SyncJob reconcilers record the events they
// observe for the notifier. Each reconciler writes its own object's
// status.notifications.pending, in the same status patch as the transition the event
// reports, and drops what the notifier acknowledged.
type Outbox struct {
	// Reader reads the namespace's default (the cache holds only ConfigMaps of that name).
	Reader  client.Reader
	Metrics *metrics.Notifications
}

// +kubebuilder:rbac:groups="",resources=configmaps,resourceNames=consent-operator-notifications,verbs=get;list;watch

// record updates the outbox in *st: drops acknowledged events, appends new ones
// (an id already pending is the same event observed again) and keeps at most
// MaxPendingNotifications, dropping the oldest. Events of a connection with nowhere to
// send them (no spec.notifications, no namespace default) are not recorded, so
// connections without notifications cost no writes.
func (o *Outbox) record(ctx context.Context, st **bankingv1alpha1.NotificationStatus, namespace string, bc *bankingv1alpha1.BankConnection, events []bankingv1alpha1.NotificationEvent) {
	if o == nil {
		return
	}
	if *st != nil {
		pruneAcknowledged(*st)
	}
	if len(events) == 0 {
		return
	}
	if _, ok, err := targetFor(ctx, o.Reader, namespace, bc); err != nil || !ok {
		if err != nil {
			log.FromContext(ctx).Error(err, "Reading the namespace's notification defaults; the events are not recorded")
		}
		return
	}
	if *st == nil {
		*st = &bankingv1alpha1.NotificationStatus{}
	}
	s := *st
	for _, ev := range events {
		if slices.ContainsFunc(s.Pending, func(p bankingv1alpha1.NotificationEvent) bool { return p.ID == ev.ID }) {
			continue
		}
		s.Pending = append(s.Pending, ev)
	}
	for len(s.Pending) > bankingv1alpha1.MaxPendingNotifications {
		o.Metrics.Outcome(namespace, string(s.Pending[0].Type), notify.OutcomeDropped)
		s.Pending = s.Pending[1:]
		s.Dropped++
	}
}

// pruneAcknowledged removes the events the notifier acknowledged from pending.
func pruneAcknowledged(s *bankingv1alpha1.NotificationStatus) {
	if s.Delivery == nil || len(s.Delivery.Acknowledged) == 0 || len(s.Pending) == 0 {
		return
	}
	kept := slices.DeleteFunc(slices.Clone(s.Pending), func(p bankingv1alpha1.NotificationEvent) bool {
		return slices.Contains(s.Delivery.Acknowledged, p.ID)
	})
	if len(kept) == 0 {
		kept = nil
	}
	s.Pending = kept
}

// notificationTarget is where one object's events go.
type notificationTarget struct {
	URL    string
	Secret bankingv1alpha1.SecretKeyReference
}

// namespaceDefault reads the namespace's default destination, if it has one.
func namespaceDefault(ctx context.Context, r client.Reader, namespace string) (notificationTarget, bool, error) {
	cm := &corev1.ConfigMap{}
	err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: bankingv1alpha1.NotificationDefaultsConfigMap}, cm)
	if err != nil {
		return notificationTarget{}, false, client.IgnoreNotFound(err)
	}
	t := notificationTarget{URL: cm.Data[bankingv1alpha1.NotificationDefaultsURL], Secret: bankingv1alpha1.SecretKeyReference{
		Name: cm.Data[bankingv1alpha1.NotificationDefaultsSecretName], Key: cm.Data[bankingv1alpha1.NotificationDefaultsSecretKey]}}
	return t, t.URL != "", nil
}

// targetFor is where bc's events go: its spec, else the namespace's default.
func targetFor(ctx context.Context, r client.Reader, namespace string, bc *bankingv1alpha1.BankConnection) (notificationTarget, bool, error) {
	if bc != nil && bc.Spec.Notifications != nil {
		return notificationTarget{URL: bc.Spec.Notifications.URL, Secret: bc.Spec.Notifications.SigningSecretRef}, true, nil
	}
	return namespaceDefault(ctx, r, namespace)
}
