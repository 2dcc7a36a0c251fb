package controllers

import (
	"context"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/schedule"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// stepSchedule parses the schedule; a schedule that cannot run needs a human.
func (r *SyncJobReconciler) stepSchedule(_ context.Context, s *jobScope) (bool, error) {
	sj := s.sj
	if sj.Spec.Schedule == "" {
		return false, nil
	}
	sched, err := schedule.Parse(sj.Spec.Schedule, sj.Spec.TimeZone)
	if err != nil {
		// Every problem in one message (the CRD's CEL rules check only the shape), and
		// one Warning event per new set of problems, not one per reconcile.
		msg := "The schedule cannot be used: " + err.Error()
		if c := apimeta.FindStatusCondition(sj.Status.Conditions, bankingv1alpha1.ConditionStalled); c == nil || c.Message != msg {
			r.event(sj, "Warning", bankingv1alpha1.ReasonInvalidSchedule, "Validate", msg)
		}
		s.report.scheduleProblem = msg
		return true, nil
	}
	s.sched = sched
	return false, nil
}

// stepDue decides whether a run is due: a new run-requested-at value, a schedule
// slot that passed, or the single run of a job without a schedule.
func (r *SyncJobReconciler) stepDue(ctx context.Context, s *jobScope) (bool, error) {
	sj := s.sj
	if v := sj.Annotations[bankingv1alpha1.AnnotationRunRequestedAt]; v != "" && v != sj.Status.LastHandledRunRequestAt {
		s.manual, s.slot = v, s.now
		return false, nil
	}
	if s.sched == nil {
		if sj.Status.LastScheduleTime == nil {
			s.slot = s.now
			return false, nil
		}
		sj.Status.NextScheduleTime = nil
		return true, nil // ran once: nothing more to do
	}
	if r.deepHistoryDue(ctx, s) {
		s.slot = s.now
		return false, nil
	}
	d := s.sched.Decide(scheduleAnchor(sj, s.now), s.now)
	if !d.Due {
		sj.Status.NextScheduleTime = timePtr(d.Next)
		s.requeueAt(d.Next)
		s.report.awaitingFirstSlot = sj.Status.LastScheduleTime == nil
		return true, nil
	}
	// Until the run starts (the connection may not be Ready yet), the due slot stays
	// the next one, so it is not skipped.
	sj.Status.NextScheduleTime = timePtr(d.Slot)
	s.slot = d.Slot
	return false, nil
}

// deepHistoryDue is true when a scheduled job that reads more than 90 days back has
// not run yet and its connection's user authenticated within the SCA window: the
// first run goes now, ahead of the schedule, while the bank still serves the deep
// history; later runs are incremental.
func (r *SyncJobReconciler) deepHistoryDue(ctx context.Context, s *jobScope) bool {
	sj := s.sj
	if sj.Status.LastScheduleTime != nil || len(sj.Status.Watermarks) > 0 || !syncrun.DeepHistory(sj) {
		return false
	}
	bc := &bankingv1alpha1.BankConnection{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: sj.Namespace, Name: sj.Spec.ConnectionRef.Name}, bc); err != nil {
		return false // stepConnection reports a missing connection
	}
	auth := authenticatedAt(bc)
	return scaLimited(bc) && !auth.IsZero() && s.now.Before(auth.Add(syncrun.SCAWindow))
}

// scheduleAnchor is the time slots are counted from: the last run's slot; before the
// first run, just before the slot already published in status.nextScheduleTime; on
// first sight, the job's creation (or now, if the operator's clock is behind the
// apiserver's).
func scheduleAnchor(sj *bankingv1alpha1.SyncJob, now time.Time) time.Time {
	switch {
	case sj.Status.LastScheduleTime != nil:
		return sj.Status.LastScheduleTime.Time
	case sj.Status.NextScheduleTime != nil:
		return sj.Status.NextScheduleTime.Add(-time.Nanosecond)
	case sj.CreationTimestamp.Time.After(now):
		return now
	default:
		return sj.CreationTimestamp.Time
	}
}
