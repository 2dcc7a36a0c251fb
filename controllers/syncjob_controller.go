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

// SyncJobReconciler reconciles SyncJob objects.
type SyncJobReconciler struct {
	client.Client
	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=syncjobs,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=syncjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=syncjobs/finalizers,verbs=update

// Reconcile brings one SyncJob's status in line with its spec.
func (r *SyncJobReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	logger := log.FromContext(ctx)

	sj := &bankingv1alpha1.SyncJob{}
	if err := r.Get(ctx, req.NamespacedName, sj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := sj.DeepCopy()

	defer func() {
		sj.Status.ObservedGeneration = sj.Generation
		err := patchStatus(ctx, r.Client, before, sj, func(o *bankingv1alpha1.SyncJob) any { return o.Status })
		if apierrors.IsConflict(err) {
			logger.V(1).Info("Status patch conflicted, requeueing")
			result, retErr = ctrl.Result{Requeue: true}, nil
			return
		}
		if err != nil && retErr == nil {
			retErr = err
		}
	}()

	conditions.InitReady(&sj.Status.Conditions, sj.Generation, "Reconciliation has started")
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler with the manager.
func (r *SyncJobReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := ctrl.NewControllerManagedBy(mgr).
		For(&bankingv1alpha1.SyncJob{}).
		Named("syncjob").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r); err != nil {
		return fmt.Errorf("setting up syncjob controller: %w", err)
	}
	return nil
}
