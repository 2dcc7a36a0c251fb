package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// revokeDeadline bounds how long deletion waits for the provider to accept the
// revocation before giving up (with a Warning event) so a dead provider cannot block
// deletion forever.
const revokeDeadline = 5 * time.Minute

// finalize revokes the consent at the provider, then removes (or releases) the token
// Secret and the finalizer.
func (r *BankConnectionReconciler) finalize(ctx context.Context, bc *bankingv1alpha1.BankConnection) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(bc, bankingv1alpha1.FinalizerRevoke) {
		return ctrl.Result{}, nil
	}
	logger := log.FromContext(ctx)
	s := newConnectionScope(r, bc)

	if res, done, err := r.revoke(ctx, s); !done || err != nil {
		return res, err
	}
	if err := r.eraseData(ctx, bc); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.releaseTokenSecret(ctx, bc); err != nil {
		return ctrl.Result{}, err
	}
	patch := client.MergeFrom(bc.DeepCopy())
	controllerutil.RemoveFinalizer(bc, bankingv1alpha1.FinalizerRevoke)
	if err := r.Patch(ctx, bc, patch); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("removing finalizer: %w", err))
	}
	r.Metrics.Forget(bc.Namespace, bc.Name)
	r.checks.forget(client.ObjectKeyFromObject(bc))
	logger.Info("BankConnection finalized")
	return ctrl.Result{}, nil
}

// revoke asks the provider to end the consent. done is false while a retryable failure
// is retried within revokeDeadline.
func (r *BankConnectionReconciler) revoke(ctx context.Context, s *connectionScope) (ctrl.Result, bool, error) {
	bc := s.bc
	var err error
	if keptByProvider(bc) {
		// What the provider keeps goes even when the consent ended (a Codat company
		// or connection outlives a deauthorisation); an unauthorised v3 connection
		// is deleted too.
		if !journeyStarted(bc) {
			return ctrl.Result{}, true, nil // no journey was started: nothing at the provider
		}
		pc, conn, cerr := r.connection(ctx, s)
		if err = cerr; err == nil {
			conn.CodatDeleteCompany = bc.Annotations[bankingv1alpha1.AnnotationCodatDeleteCompany] == "true"
			err = pc.Revoke(ctx, conn, provider.Session{Refs: conn.Refs})
		}
	} else {
		if c := bc.Status.Consent; c != nil && (c.Status == bankingv1alpha1.ConsentExpired || c.Status == bankingv1alpha1.ConsentRevoked) {
			return ctrl.Result{}, true, nil // nothing left to revoke
		}
		sealer, serr := r.Tokens.Sealer(ctx, bc)
		if serr != nil {
			r.event(bc, corev1.EventTypeWarning, bankingv1alpha1.ReasonRevokeFailed, "Revoke", "Cannot read the token Secret to revoke the consent: "+serr.Error())
			return ctrl.Result{}, true, nil
		}
		snap, lerr := r.Tokens.Load(ctx, bc, sealer, true)
		if lerr != nil || !snap.HasTokens {
			return ctrl.Result{}, true, nil // never authorized, or tokens unreadable: nothing to revoke with
		}
		s.sealer, s.snap = sealer, snap
		pc, conn, cerr := r.connection(ctx, s)
		if err = cerr; err == nil {
			var sess provider.Session
			if sess, err = r.session(ctx, s); err == nil { // read whole above: no second read
				err = pc.Revoke(ctx, conn, sess)
			}
		}
	}
	if err == nil {
		r.event(bc, corev1.EventTypeNormal, "Revoked", "Revoke", "The consent was revoked at the provider")
		return ctrl.Result{}, true, nil
	}
	var nh *connection.NeedsHumanError
	switch provider.ClassOf(err) {
	case provider.ClassRetryLater, provider.ClassRateLimited:
		if errors.As(err, &nh) {
			break // the credentials Secret is gone or incomplete: waiting cannot help
		}
		if s.now.Before(bc.DeletionTimestamp.Add(revokeDeadline)) {
			return ctrl.Result{RequeueAfter: 10 * time.Second}, false, nil
		}
	case provider.ClassNeedsHuman:
		if pe, _ := provider.AsError(err); pe != nil && pe.Reason != provider.ReasonInvalidClientCredentials {
			return ctrl.Result{}, true, nil // consent already ended at the provider
		}
	}
	r.event(bc, corev1.EventTypeWarning, bankingv1alpha1.ReasonRevokeFailed, "Revoke",
		"The consent could not be revoked and may still be active at the provider: "+err.Error())
	return ctrl.Result{}, true, nil
}

// releaseTokenSecret deletes the token Secret, or, with the keep annotation, removes
// the connection's ownerRef so the Secret survives. Deleting explicitly (rather than
// relying on garbage collection) frees the tokens even where no garbage collector runs.
func (r *BankConnectionReconciler) releaseTokenSecret(ctx context.Context, bc *bankingv1alpha1.BankConnection) error {
	sec := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: bc.Namespace, Name: tokensecret.Name(bc)}, sec); err != nil {
		return client.IgnoreNotFound(err)
	}
	if tokensecret.CheckOwned(sec, bc) != nil {
		return nil // not ours: leave it alone
	}
	if bc.Annotations[bankingv1alpha1.AnnotationKeepTokenSecret] == "true" {
		patch := client.MergeFrom(sec.DeepCopy())
		var owners []metav1.OwnerReference
		for _, o := range sec.OwnerReferences {
			if o.UID != bc.UID {
				owners = append(owners, o)
			}
		}
		sec.OwnerReferences = owners
		return client.IgnoreNotFound(r.Patch(ctx, sec, patch))
	}
	if err := r.Delete(ctx, sec, client.Preconditions{UID: &sec.UID}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting token Secret: %w", err)
	}
	return nil
}

// eraseData removes every stored row of the connection unless spec.dataRetention is
// Retain: the user's data leaves with the connection. A store that cannot be reached
// keeps the finalizer (the error is retried with backoff), so nothing is left behind.
func (r *BankConnectionReconciler) eraseData(ctx context.Context, bc *bankingv1alpha1.BankConnection) error {
	if bc.Spec.DataRetention == bankingv1alpha1.DataRetentionRetain || r.Store == nil {
		return nil
	}
	key := connection.StoreOwner(bc).Key()
	counts, err := r.Store.Counts(ctx, key)
	if err != nil {
		return fmt.Errorf("counting the connection's stored data: %w", err)
	}
	// Deleting runs even when nothing is counted: rows of the name written before rows
	// carried a UID are not counted under it, and DeleteConnection removes them too.
	if err := r.Store.DeleteConnection(ctx, key); err != nil {
		return fmt.Errorf("erasing the connection's stored data: %w", err)
	}
	if counts == (store.Counts{}) {
		// Nothing stored, or erased by an earlier pass of this finalizer (sync runs go
		// with the data: a connection without data rows has had its runs erased too).
		return nil
	}
	r.event(bc, corev1.EventTypeNormal, bankingv1alpha1.ReasonDataErased, "Finalize", "Every stored row of this connection was erased")
	return nil
}
