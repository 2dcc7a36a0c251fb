package manager

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/controllers"
	"github.com/consent-operator/consent-operator/internal/clock"
	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/codat"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/scheme"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// leaderElectionID names the Lease replicas compete for.
const leaderElectionID = "consent-operator.banking.consent-operator.dev"

// Metrics are registered once per process: controller-runtime's registry is global.
var (
	connectionMetrics   = metrics.NewConnections(crmetrics.Registry)
	syncJobMetrics      = metrics.NewSyncJobs(crmetrics.Registry)
	notificationMetrics = metrics.NewNotifications(crmetrics.Registry)
)

// New builds the manager: the controllers, the store and the manager's endpoints,
// ready to Start. It serves no public port: the gateway is its own process
// (NewGateway).
func New(ctx context.Context, cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	kinds := scheme.New()
	cacheOpts := CacheOptions(o)

	// Each component writes under its own user agent, so the apiserver's audit log
	// (and the scale harness reading it) attributes every write to its writer.
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = UserAgentManager
	metricsOpts, err := metricsServerOptions(o.ServingOptions)
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  kinds,
		Cache:                   cacheOpts,
		NewCache:                NewCache,
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  o.ProbeAddr,
		PprofBindAddress:        o.PprofAddr,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        leaderElectionID,
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// The manager exits when it loses the lease, so a replacement starts clean.
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &o.GracefulShutdownTimeout,
		Controller:                    config.Controller{SkipNameValidation: &o.SkipControllerNameValidation},
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}

	// The state key is needed before the first reconcile signs a state; the cache is
	// not running yet, so read it directly.
	direct, err := client.New(cfg, client.Options{Scheme: kinds})
	if err != nil {
		return nil, fmt.Errorf("creating direct client: %w", err)
	}
	keySecret, err := gateway.EnsureStateKey(ctx, direct, o.OperatorNamespace, o.StateKeySecret)
	if err != nil {
		return nil, err
	}
	current, accepted, err := gateway.KeysFrom(keySecret)
	if err != nil {
		return nil, err
	}
	journeys, err := journey.NewKeys(current, accepted...)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(&gateway.KeyWatcher{Config: cfg, Scheme: kinds, Namespace: o.OperatorNamespace, Name: o.StateKeySecret,
		Keys: journeys, Log: ctrl.Log.WithName("journey-keys")}); err != nil {
		return nil, fmt.Errorf("adding the state key watcher: %w", err)
	}

	tl, err := truelayer.New(truelayer.Options{
		// Data API v3 client-credentials tokens are shared by replicas and restarts.
		TokenCache:   &tokensecret.ClientTokenCache{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Namespace: o.OperatorNamespace, Name: o.StateKeySecret + "-client-tokens"},
		AuthURL:      o.TrueLayerAuthURL,
		APIURL:       o.TrueLayerAPIURL,
		HTTP:         providerHTTP(o, bankingv1alpha1.ProviderTrueLayer),
		ResponseMode: responseMode(o.TrueLayerResponseMode),
		Logger:       ctrl.Log.WithName("truelayer"),
	})
	if err != nil {
		return nil, fmt.Errorf("creating TrueLayer client: %w", err)
	}
	cd, err := codat.New(codat.Options{
		BaseURL: o.CodatURL,
		HTTP:    providerHTTP(o, bankingv1alpha1.ProviderCodat),
		Logger:  ctrl.Log.WithName("codat"),
	})
	if err != nil {
		return nil, fmt.Errorf("creating Codat client: %w", err)
	}
	providers := provider.Registry{
		string(bankingv1alpha1.ProviderTrueLayer): tl,
		string(bankingv1alpha1.ProviderCodat):     cd,
	}
	tokens := &tokensecret.Store{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}

	// The gateway, another process, serves these links; the manager publishes them.
	links := gateway.Links{PublicURL: o.GatewayPublicURL, Keys: journeys}

	db, err := openStore(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(closeOnStop{db}); err != nil {
		return nil, fmt.Errorf("adding store: %w", err)
	}
	if err := addDataAPI(ctx, mgr, cfg, o, db); err != nil {
		return nil, err
	}
	if err := addRetention(mgr, o, db); err != nil {
		return nil, err
	}
	outbox, err := setupNotifications(mgr, o)
	if err != nil {
		return nil, err
	}
	connections := &controllers.BankConnectionReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Providers:               providers,
		Links:                   links,
		Journeys:                journeys,
		Tokens:                  tokens,
		Store:                   db,
		Clock:                   o.Clock,
		Recorder:                mgr.GetEventRecorder("consent-operator"),
		Metrics:                 connectionMetrics,
		Outbox:                  outbox,
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
	}
	if err := connections.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	jobs := &controllers.SyncJobReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Providers:               providers,
		Store:                   db,
		Tokens:                  tokens,
		Links:                   links,
		Clock:                   o.Clock,
		Recorder:                mgr.GetEventRecorder("consent-operator"),
		Metrics:                 syncJobMetrics,
		Outbox:                  outbox,
		PollInterval:            o.PollInterval,
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
	}
	if err := jobs.SetupWithManager(mgr); err != nil {
		return nil, err
	}
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

// User agents of the components that write to the apiserver.
const (
	UserAgentManager = "consent-operator-manager"
	UserAgentGateway = "consent-operator-gateway"
)

// Run builds the manager and runs it until ctx is cancelled.
func Run(ctx context.Context, cfg *rest.Config, o Options) error {
	mgr, err := New(ctx, cfg, o)
	return start(ctx, "manager", mgr, err)
}

// start runs a built component until ctx is cancelled.
func start(ctx context.Context, component string, mgr ctrl.Manager, built error) error {
	if built != nil {
		return built
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the %s: %w", component, err)
	}
	return nil
}

// responseMode maps the --truelayer-response-mode flag to the client's option.
func responseMode(mode string) string {
	if mode == "query" {
		return ""
	}
	return mode
}

// providerHTTP is the HTTP settings of provider p's client: the flags' timeout
// and rate limit, the manager's clock, and the request-duration metric.
func providerHTTP(o Options, p bankingv1alpha1.Provider) httpx.Options {
	return httpx.Options{
		Timeout:   o.ProviderTimeout,
		RateLimit: httpx.RateLimit{PerSecond: o.ProviderQPS, Burst: o.ProviderBurst},
		Now:       o.Clock.Now,
		Observer: func(endpoint string, status int, d time.Duration) {
			connectionMetrics.ProviderRequest(string(p), endpoint, status, d)
		},
	}
}
