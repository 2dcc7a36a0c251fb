// Package controllers holds the reconcilers. They are thin: fetch the object, run
// ordered phases whose decisions live in internal/ packages, and write status once.
package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/conditions"
)

// BankConnectionReconciler reconciles BankConnection objects.
type BankConnectionReconciler struct {
	client.Client
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=bankconnections,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=bankconnections/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=bankconnections/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one BankConnection's status in line with its spec.
func (r *BankConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	logger := log.FromContext(ctx)

	bc := &bankingv1alpha1.BankConnection{}
	if err := r.Get(ctx, req.NamespacedName, bc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := bc.DeepCopy()

	defer func() {
		bc.Status.ObservedGeneration = bc.Generation
		err := patchStatus(ctx, r.Client, before, bc, func(o *bankingv1alpha1.BankConnection) any { return o.Status })
		if apierrors.IsConflict(err) {
			logger.V(1).Info("Status patch conflicted, requeueing")
			result, retErr = ctrl.Result{Requeue: true}, nil
			return
		}
		if err != nil && retErr == nil {
			retErr = err
		}
	}()

	conditions.InitReady(&bc.Status.Conditions, bc.Generation, "Reconciliation has started")
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler with the manager.
func (r *BankConnectionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := ctrl.NewControllerManagedBy(mgr).
		For(&bankingv1alpha1.BankConnection{}).
		Named("bankconnection").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r); err != nil {
		return fmt.Errorf("setting up bankconnection controller: %w", err)
	}
	return nil
}
