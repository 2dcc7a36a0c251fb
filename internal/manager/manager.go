package manager

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/controllers"
)

// leaderElectionID names the Lease replicas compete for.
const leaderElectionID = "consent-operator.banking.consent-operator.dev"

// New builds a manager with both controllers registered, ready to Start.
func New(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	cacheOpts := cache.Options{
		// Only Secrets the operator manages are cached: a cluster with thousands of
		// unrelated Secrets must not cost the manager memory. Credentials Secrets are
		// read uncached (see client.Options.Cache below).
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{bankingv1alpha1.LabelManagedBy: bankingv1alpha1.ManagedByValue})},
		},
	}
	if o.Namespace != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{o.Namespace: {}}
	}

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  NewScheme(),
		Cache:                   cacheOpts,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:  o.ProbeAddr,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        leaderElectionID,
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// The manager exits when it loses the lease, so a replacement starts clean.
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &o.GracefulShutdownTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}

	if err := (&controllers.BankConnectionReconciler{
		Client:                  mgr.GetClient(),
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	if err := (&controllers.SyncJobReconciler{
		Client:                  mgr.GetClient(),
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding ready check: %w", err)
	}
	return mgr, nil
}

// Run builds the manager and runs it until ctx is cancelled.
func Run(ctx context.Context, cfg *rest.Config, o Options) error {
	mgr, err := New(cfg, o)
	if err != nil {
		return err
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running manager: %w", err)
	}
	return nil
}
