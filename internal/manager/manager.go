package manager

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/controllers"
	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/codat"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// leaderElectionID names the Lease replicas compete for.
const leaderElectionID = "consent-operator.banking.consent-operator.dev"

// realClock is the production time source.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Metrics are registered once per process: controller-runtime's registry is global.
var (
	connectionMetrics = metrics.NewConnections(crmetrics.Registry)
	syncJobMetrics    = metrics.NewSyncJobs(crmetrics.Registry)
)

// New builds a manager with the controllers and the gateway registered, ready to Start.
func New(ctx context.Context, cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	scheme := NewScheme()
	cacheOpts := cache.Options{
		// The operator never reads managedFields; dropping them from cached objects
		// roughly halves the memory a BankConnection and its Secret cost.
		DefaultTransform: cache.TransformStripManagedFields(),
		// Only Secrets the operator manages are cached: a cluster with thousands of
		// unrelated Secrets must not cost the manager memory. Users' credentials
		// Secrets are read uncached, when a provider call needs them.
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{bankingv1alpha1.LabelManagedBy: bankingv1alpha1.ManagedByValue})},
		},
	}
	if o.Namespace != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{o.Namespace: {}}
	}

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   cacheOpts,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:  o.ProbeAddr,
		PprofBindAddress:        o.PprofAddr,
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

	// The state key is needed before the first reconcile signs a state; the cache is
	// not running yet, so read it directly.
	direct, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating direct client: %w", err)
	}
	key, err := gateway.EnsureStateKey(ctx, direct, o.OperatorNamespace, o.StateKeySecret)
	if err != nil {
		return nil, err
	}

	tl, err := truelayer.New(truelayer.Options{
		// Data API v3 client-credentials tokens are shared by replicas and restarts.
		TokenCache: &tokensecret.ClientTokenCache{Client: mgr.GetClient(), Namespace: o.OperatorNamespace, Name: o.StateKeySecret + "-client-tokens"},
		AuthURL:    o.TrueLayerAuthURL,
		APIURL:     o.TrueLayerAPIURL,
		Timeout:    o.ProviderTimeout,
		RateLimit:  truelayer.RateLimit{PerSecond: o.ProviderQPS, Burst: o.ProviderBurst},
		Clock:      o.Clock.Now,
		Observer: func(endpoint string, status int, d time.Duration) {
			connectionMetrics.ProviderRequest(string(bankingv1alpha1.ProviderTrueLayer), endpoint, status, d)
		},
		Logger: ctrl.Log.WithName("truelayer"),
	})
	if err != nil {
		return nil, fmt.Errorf("creating TrueLayer client: %w", err)
	}
	cd, err := codat.New(codat.Options{
		BaseURL:   o.CodatURL,
		Timeout:   o.ProviderTimeout,
		RateLimit: codat.RateLimit{PerSecond: o.ProviderQPS, Burst: o.ProviderBurst},
		Clock:     o.Clock.Now,
		Observer: func(endpoint string, status int, d time.Duration) {
			connectionMetrics.ProviderRequest(string(bankingv1alpha1.ProviderCodat), endpoint, status, d)
		},
		Logger: ctrl.Log.WithName("codat"),
	})
	if err != nil {
		return nil, fmt.Errorf("creating Codat client: %w", err)
	}
	providers := provider.Registry{
		string(bankingv1alpha1.ProviderTrueLayer): tl,
		string(bankingv1alpha1.ProviderCodat):     cd,
	}
	// The gateway finds the BankConnection of a TrueLayer v3 return by its data
	// connection id (the return carries no state).
	if err := mgr.GetFieldIndexer().IndexField(ctx, &bankingv1alpha1.BankConnection{}, gateway.IndexDataConnectionID, gateway.DataConnectionIDOf); err != nil {
		return nil, fmt.Errorf("indexing BankConnections by data connection id: %w", err)
	}
	tokens := &tokensecret.Store{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}

	gw := &gateway.Server{
		Client:    mgr.GetClient(),
		Reader:    mgr.GetAPIReader(),
		Providers: providers,
		Tokens:    tokens,
		Key:       key,
		PublicURL: o.GatewayPublicURL,
		Addr:      o.GatewayAddr,
		Listener:  o.GatewayListener,
		Clock:     o.Clock,
		Recorder:  mgr.GetEventRecorder("consent-operator-gateway"),
		Log:       ctrl.Log.WithName("gateway"),
	}
	if o.GatewayAddr != "0" || o.GatewayListener != nil {
		if err := mgr.Add(gw); err != nil {
			return nil, fmt.Errorf("adding gateway: %w", err)
		}
	}

	if err := (&controllers.BankConnectionReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Providers:               providers,
		Links:                   gw,
		Tokens:                  tokens,
		Clock:                   o.Clock,
		Recorder:                mgr.GetEventRecorder("consent-operator"),
		Metrics:                 connectionMetrics,
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
	}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	db, err := openStore(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(closeOnStop{db}); err != nil {
		return nil, fmt.Errorf("adding store: %w", err)
	}
	jobs := &controllers.SyncJobReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Providers:               providers,
		Store:                   db,
		Tokens:                  tokens,
		Links:                   gw,
		Clock:                   o.Clock,
		Recorder:                mgr.GetEventRecorder("consent-operator"),
		Metrics:                 syncJobMetrics,
		PollInterval:            o.PollInterval,
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
	}
	if err := jobs.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	gw.Handle("POST /webhooks/truelayer/{token}", gateway.WebhookHandler(key, jobs.Notify, syncJobMetrics.Webhook, ctrl.Log.WithName("webhook")))

	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("informers", CacheSynced(mgr.GetCache())); err != nil {
		return nil, fmt.Errorf("adding ready check: %w", err)
	}
	if err := mgr.AddReadyzCheck("store", StoreReachable(db)); err != nil {
		return nil, fmt.Errorf("adding ready check: %w", err)
	}
	return mgr, nil
}

// Run builds the manager and runs it until ctx is cancelled.
func Run(ctx context.Context, cfg *rest.Config, o Options) error {
	mgr, err := New(ctx, cfg, o)
	if err != nil {
		return err
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running manager: %w", err)
	}
	return nil
}
