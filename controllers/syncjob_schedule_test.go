package controllers_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// TestInvalidScheduleReportsEveryProblemOnce: a schedule and a time zone of the right
// shape (the CRD's CEL rules let them through) but unusable values make the job
// Stalled with both problems in one message, and one Warning event per new set of
// problems, not one per reconcile. A fixed spec clears Stalled.
func TestInvalidScheduleReportsEveryProblemOnce(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "schedule")
	sj := newSyncJob(ns, "bad-schedule", "nobody", "61 * * * *", bankingv1alpha1.SyncModeSync)
	sj.Spec.TimeZone = "Mars/Olympus"
	create(t, sj)

	both := `The schedule cannot be used: spec.schedule "61 * * * *": end of range (61) above maximum (59): 61; spec.timeZone "Mars/Olympus" is not a known IANA time zone`
	waitForStalled(t, sj, both)
	if err := hasJobCondition(sj, bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonInvalidSchedule); err != nil {
		t.Fatal(err)
	}

	// A new generation with the same problems reconciles again and records no event.
	patch := client.MergeFrom(sj.DeepCopy())
	sj.Spec.Suspend = true
	if err := env.Client.Patch(ctx, sj, patch); err != nil {
		t.Fatal(err)
	}
	waitReconciled(t, sj)
	// A different problem is a new event. Events of one recorder arrive in order, so
	// once it is there, an event for the reconcile before it would be there too.
	patch = client.MergeFrom(sj.DeepCopy())
	sj.Spec.Schedule = "0 6 * * *"
	if err := env.Client.Patch(ctx, sj, patch); err != nil {
		t.Fatal(err)
	}
	zoneOnly := `The schedule cannot be used: spec.timeZone "Mars/Olympus" is not a known IANA time zone`
	waitForStalled(t, sj, zoneOnly)
	notes := invalidScheduleNotes(t, ns, sj.Name, 2)
	if len(notes) != 2 || !slices.Contains(notes, both) || !slices.Contains(notes, zoneOnly) {
		t.Fatalf("InvalidSchedule events %q, want one with %q and one with %q", notes, both, zoneOnly)
	}

	patch = client.MergeFrom(sj.DeepCopy())
	sj.Spec.TimeZone = "Europe/London"
	if err := env.Client.Patch(ctx, sj, patch); err != nil {
		t.Fatal(err)
	}
	waitReconciled(t, sj)
	if c := apimeta.FindStatusCondition(sj.Status.Conditions, bankingv1alpha1.ConditionStalled); c != nil {
		t.Fatalf("still Stalled after the fix: %s", c.Message)
	}
}

// invalidScheduleNotes waits for at least want InvalidSchedule events about job name
// and returns their notes, checking that each is a Warning recorded once.
func invalidScheduleNotes(t *testing.T, ns, name string, want int) []string {
	t.Helper()
	ctx := context.Background()
	var notes []string
	testenv.Eventually(t, 30*time.Second, func() error {
		notes = notes[:0]
		evs := &eventsv1.EventList{}
		if err := env.Client.List(ctx, evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, ev := range evs.Items {
			if ev.Reason != bankingv1alpha1.ReasonInvalidSchedule || ev.Regarding.Name != name {
				continue
			}
			if ev.Type != "Warning" {
				t.Errorf("event %q has type %s, want Warning", ev.Note, ev.Type)
			}
			if ev.Series != nil {
				t.Errorf("event %q was recorded %d times", ev.Note, ev.Series.Count)
			}
			notes = append(notes, ev.Note)
		}
		if len(notes) < want {
			return fmt.Errorf("InvalidSchedule events so far: %q", notes)
		}
		return nil
	})
	return notes
}

// waitReconciled waits until the job's status describes its current generation.
func waitReconciled(t *testing.T, sj *bankingv1alpha1.SyncJob) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if sj.Status.ObservedGeneration != sj.Generation {
			return fmt.Errorf("generation %d not reconciled yet", sj.Generation)
		}
		return nil
	})
}

// waitForStalled waits until the job is Stalled for InvalidSchedule with message.
func waitForStalled(t *testing.T, sj *bankingv1alpha1.SyncJob, message string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if err := hasJobCondition(sj, bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonInvalidSchedule); err != nil {
			return err
		}
		if c := apimeta.FindStatusCondition(sj.Status.Conditions, bankingv1alpha1.ConditionStalled); c.Message != message {
			return fmt.Errorf("Stalled says %q, want %q", c.Message, message)
		}
		return nil
	})
}
