package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// The job's view of its BankConnection: whether it is Ready, and asking it for a
// fresh token.

// stepConnection waits, without failing, until the connection is Ready: the job is
// Ready=False (WaitingForConnection) while its connection is missing, being deleted
// or not Ready, and its connection's changes wake it.
func (r *SyncJobReconciler) stepConnection(ctx context.Context, s *jobScope) (bool, error) {
	bc, reason, err := r.readyConnection(ctx, s.sj)
	if err != nil {
		return false, err
	}
	if reason != "" {
		s.report.waitingForConnection = reason
		return true, nil // the connection's changes wake this job
	}
	s.bc = bc
	return false, nil
}

// readyConnection returns the job's connection, or why the job must wait for it.
func (r *SyncJobReconciler) readyConnection(ctx context.Context, sj *bankingv1alpha1.SyncJob) (*bankingv1alpha1.BankConnection, string, error) {
	bc := &bankingv1alpha1.BankConnection{}
	name := sj.Spec.ConnectionRef.Name
	if err := r.Get(ctx, types.NamespacedName{Namespace: sj.Namespace, Name: name}, bc); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.ForgetConnection(sj.Namespace, name) // its budget series outlive it otherwise
			return nil, fmt.Sprintf("BankConnection %s does not exist", name), nil
		}
		return nil, "", fmt.Errorf("reading BankConnection %s: %w", name, err)
	}
	if !bc.DeletionTimestamp.IsZero() {
		return nil, fmt.Sprintf("BankConnection %s is being deleted", name), nil
	}
	ready := apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue {
		why := "not Ready yet"
		if ready != nil {
			why = "not Ready (" + ready.Reason + ")"
		}
		return nil, fmt.Sprintf("BankConnection %s is %s", name, why), nil
	}
	return bc, "", nil
}

// requestRefresh asks the BankConnection controller for a fresh token (OnDemand).
func (r *SyncJobReconciler) requestRefresh(ctx context.Context, bc *bankingv1alpha1.BankConnection, now time.Time) error {
	if v := bc.Annotations[bankingv1alpha1.AnnotationRefreshRequestedAt]; v != "" && v != bc.Status.LastHandledRefreshAt {
		return nil // already asked
	}
	patch := client.MergeFrom(bc.DeepCopy())
	if bc.Annotations == nil {
		bc.Annotations = map[string]string{}
	}
	bc.Annotations[bankingv1alpha1.AnnotationRefreshRequestedAt] = "syncjob-" + now.UTC().Format(time.RFC3339)
	if err := r.Patch(ctx, bc, patch); err != nil {
		return fmt.Errorf("requesting a token refresh: %w", err)
	}
	return nil
}
