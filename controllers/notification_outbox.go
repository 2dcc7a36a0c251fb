package controllers

import (
	"context"
	"slices"

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
