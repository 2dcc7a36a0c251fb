package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
)

// The end of a run: its record in the store and in status.recentRuns, and what it
// means for the job (reported as jobReport.runEnded).

// finish ends the run: Succeeded, PartiallySucceeded (some fetches failed), or Failed.
// A cause of errRequeue ends nothing: the reconcile looks again.
func (r *SyncJobReconciler) finish(ctx context.Context, s *jobScope, rc *runContext, cause error) error {
	if errors.Is(cause, errRequeue) {
		return cause
	}
	sj := s.sj
	run := sj.Status.ActiveRun
	end := runEndOf(run, cause)
	end.oneShot = sj.Spec.Schedule == ""
	if run.Attended {
		if err := r.consumePSUIP(ctx, sj, run.PSUIP); err != nil {
			return err
		}
	}
	if err := r.recordRunEnd(ctx, s, end); err != nil {
		return err
	}
	s.report.runEnded = &end
	if end.result == bankingv1alpha1.RunSucceeded {
		r.event(sj, "Normal", bankingv1alpha1.ReasonSucceeded, "Run", msgRunStored)
	} else if err := r.reportRunFailure(ctx, s, rc, cause, &end); err != nil {
		return err
	}
	if s.sched != nil {
		next := s.sched.Next(s.now)
		sj.Status.NextScheduleTime = timePtr(next)
		s.requeueAt(next)
	}
	return nil
}

// runEndOf is how run ended, given what ended it (nil when both phases were answered).
func runEndOf(run *bankingv1alpha1.ActiveRun, cause error) runEnd {
	switch {
	case cause != nil:
		end := runEnd{result: bankingv1alpha1.RunFailed, message: cause.Error()}
		if errors.Is(cause, errBudget) {
			end.message = "Stopped: " + cause.Error()
		}
		if len(run.Counts) > 0 {
			end.result = bankingv1alpha1.RunPartiallySucceeded
		}
		return end
	case len(run.Errors) > 0:
		return runEnd{result: bankingv1alpha1.RunPartiallySucceeded, message: strings.Join(run.Errors, "; ")}
	}
	return runEnd{result: bankingv1alpha1.RunSucceeded}
}

// recordRunEnd records the ended run in the store, in status.recentRuns and in the
// metrics, and clears status.activeRun.
func (r *SyncJobReconciler) recordRunEnd(ctx context.Context, s *jobScope, end runEnd) error {
	sj := s.sj
	run := sj.Status.ActiveRun
	now := metav1.NewTime(s.now.UTC().Truncate(time.Second))
	counts := map[string]int64{}
	for _, c := range run.Counts {
		counts[string(c.Resource)] = c.Stored
	}
	if err := r.Store.FinishSyncRun(ctx, store.RunResult{
		Namespace: sj.Namespace, RunID: run.ID, FinishedAt: s.now, Status: storeStatus(end.result), Counts: counts,
		Error: truncate(end.message, 1000),
	}); err != nil {
		return fmt.Errorf("recording run end: %w", err)
	}
	r.recordRun(sj, bankingv1alpha1.RunRecord{
		ID: run.ID, StartedAt: run.StartedAt, FinishedAt: &now, Result: end.result, Attended: run.Attended,
		Counts: run.Counts, Error: truncate(end.message, 1024),
	})
	r.Metrics.Run(sj.Namespace, sj.Name, string(end.result), s.now.Sub(run.StartedAt.Time), counts)
	sj.Status.ActiveRun = nil
	if end.result == bankingv1alpha1.RunSucceeded {
		sj.Status.LastSuccessfulTime = &now
	}
	return nil
}

// reportRunFailure says why the run did not complete. When the provider says the
// connection needs a human, the connection is asked to check with the provider now
// (it stalls itself if a human must act) rather than at its next scheduled look: its
// conditions are its own reconciler's to write.
func (r *SyncJobReconciler) reportRunFailure(ctx context.Context, s *jobScope, rc *runContext, cause error, end *runEnd) error {
	if pe, ok := provider.AsError(cause); ok && pe.Class == provider.ClassNeedsHuman && rc != nil {
		if err := r.requestRefresh(ctx, rc.bc, s.now); err != nil {
			return err // not asked: the job says only that the run failed
		}
		end.needsHuman, end.connection = stallReason(pe.Reason), rc.bc.Name
	}
	_, reason, message := end.ready()
	r.event(s.sj, "Warning", reason, "Run", message)
	return nil
}

// consumePSUIP removes the psu-ip annotation an attended run was started with, so
// it marks that one run: a later run-requested-at without a new psu-ip is counted as
// unattended. The JSON patch tests the value first, so a psu-ip the user set again
// meanwhile (for the next run) stays. It patches a copy: the reconcile's status
// changes in sj must not be overwritten by the answer.
func (r *SyncJobReconciler) consumePSUIP(ctx context.Context, sj *bankingv1alpha1.SyncJob, value string) error {
	if value == "" || sj.Annotations[bankingv1alpha1.AnnotationPSUIP] != value {
		return nil
	}
	path := "/metadata/annotations/" + strings.ReplaceAll(strings.ReplaceAll(bankingv1alpha1.AnnotationPSUIP, "~", "~0"), "/", "~1")
	ops, err := json.Marshal([]map[string]string{{"op": "test", "path": path, "value": value}, {"op": "remove", "path": path}})
	if err != nil {
		return fmt.Errorf("encoding the psu-ip removal: %w", err)
	}
	err = r.Patch(ctx, sj.DeepCopy(), client.RawPatch(types.JSONPatchType, ops))
	if apierrors.IsInvalid(err) || apierrors.IsNotFound(err) || isTestFailed(err) {
		return nil // changed or gone meanwhile: nothing of this run's to remove
	}
	if err != nil {
		return fmt.Errorf("removing the psu-ip annotation after the attended run: %w", err)
	}
	return nil
}

// isTestFailed reports a JSON patch whose test operation failed (the apiserver
// answers 422 or, for some versions, 409/500 with the test's message).
func isTestFailed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "test operation")
}

func storeStatus(r bankingv1alpha1.RunResult) store.RunStatus {
	switch r {
	case bankingv1alpha1.RunSucceeded:
		return store.RunSucceeded
	case bankingv1alpha1.RunPartiallySucceeded:
		return store.RunPartiallySucceeded
	default:
		return store.RunFailed
	}
}

func syncRunRecord(sj *bankingv1alpha1.SyncJob, bc *bankingv1alpha1.BankConnection, runID string, now time.Time) store.SyncRun {
	return store.SyncRun{RunID: runID, SyncJob: sj.Name, Owner: connection.StoreOwner(bc), StartedAt: now, Status: store.RunRunning}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
