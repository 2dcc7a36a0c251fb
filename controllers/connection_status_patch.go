package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// Attempts of patchConnectionStatus.
const (
	// lockOnce: a lost lock is the caller's to handle (it decided on what it read).
	lockOnce = 1
	// lockRetries: the change is computed again on the latest object, which is safe.
	lockRetries = 5
)

// patchConnectionStatus is the one way the fields of a BankConnection's status that
// its reconciler's own status patch leaves alone are written: status.unattendedCalls
// (the ledger: SyncJob runs and the BankConnection's v3 check reserve calls in it) and
// status.accounts (the SyncJob runs record what they discovered). It reads key through
// reader (the apiserver, not the cache), lets mutate change the status and, when mutate
// says it changed something, patches the status under an optimistic lock
// (MergeFromWithOptimisticLock), so no writer undoes another's. A lost lock reads and
// mutates again, up to attempts times in all: pass lockRetries only where mutate may
// run again safely, lockOnce where the caller must decide again itself.
//
// It returns the connection as written (as read, when mutate changed nothing). An
// error of mutate is returned as it is; a lock lost on the last attempt is returned as
// a conflict (apierrors.IsConflict).
func patchConnectionStatus(ctx context.Context, c client.Client, reader client.Reader, key client.ObjectKey, attempts int,
	mutate func(*bankingv1alpha1.BankConnection) (changed bool, err error)) (*bankingv1alpha1.BankConnection, error) {
	var err error
	for range max(attempts, 1) {
		latest := &bankingv1alpha1.BankConnection{}
		if err := reader.Get(ctx, key, latest); err != nil {
			return nil, fmt.Errorf("reading the latest BankConnection %s: %w", key.Name, err)
		}
		before := latest.DeepCopy()
		changed, mutErr := mutate(latest)
		if mutErr != nil {
			return nil, mutErr
		}
		if !changed {
			return latest, nil
		}
		err = c.Status().Patch(ctx, latest, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		if err == nil {
			return latest, nil
		}
		if !apierrors.IsConflict(err) {
			return nil, fmt.Errorf("patching the status of BankConnection %s: %w", key.Name, err)
		}
	}
	return nil, fmt.Errorf("patching the status of BankConnection %s: %w", key.Name, err)
}
