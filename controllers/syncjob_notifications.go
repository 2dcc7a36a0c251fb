package controllers

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/types"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/notify"
)

// runEvents are the events of the runs recorded between before and after:
// sync.completed for a run that stored data (fully or in part), sync.failed for one
// that did not. A deferred run sent nothing and is not reported.
func runEvents(before, after *bankingv1alpha1.SyncJob) []bankingv1alpha1.NotificationEvent {
	var out []bankingv1alpha1.NotificationEvent
	for _, run := range after.Status.RecentRuns {
		if run.Result == bankingv1alpha1.RunDeferred || slices.ContainsFunc(before.Status.RecentRuns, func(r bankingv1alpha1.RunRecord) bool { return r.ID == run.ID }) {
			continue
		}
		t := bankingv1alpha1.NotificationSyncCompleted
		if run.Result == bankingv1alpha1.RunFailed {
			t = bankingv1alpha1.NotificationSyncFailed
		}
		at := run.StartedAt
		if run.FinishedAt != nil {
			at = *run.FinishedAt
		}
		out = append(out, bankingv1alpha1.NotificationEvent{
			ID: notify.EventID(string(after.UID), string(t), run.ID), Type: t, OccurredAt: at,
			Run: &bankingv1alpha1.NotificationRun{ID: run.ID, Result: run.Result, Counts: slices.Clone(run.Counts), Error: run.Error},
		})
	}
	// Oldest first, as the outbox keeps them (recentRuns is newest first).
	slices.Reverse(out)
	return out
}

// recordNotifications puts the runs this reconcile recorded into the job's outbox,
// for the destination of its connection (bc, read from the cache when the reconcile
// did not need it).
func (r *SyncJobReconciler) recordNotifications(ctx context.Context, before, sj *bankingv1alpha1.SyncJob, bc *bankingv1alpha1.BankConnection) {
	events := runEvents(before, sj)
	if len(events) > 0 && bc == nil {
		bc = &bankingv1alpha1.BankConnection{}
		if err := r.Get(ctx, types.NamespacedName{Namespace: sj.Namespace, Name: sj.Spec.ConnectionRef.Name}, bc); err != nil {
			bc = nil // gone: only the namespace's default can still take the events
		}
	}
	r.Outbox.record(ctx, &sj.Status.Notifications, sj.Namespace, bc, events)
}
