package manager

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/controllers"
	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/codat"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
	"github.com/consent-operator/consent-operator/internal/webhooksig"
)

// leaderElectionID names the Lease replicas compete for.
const leaderElectionID = "consent-operator.banking.consent-operator.dev"

// realClock is the production time source.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Metrics are registered once per process: controller-runtime's registry is global.
var (
	connectionMetrics   = metrics.NewConnections(crmetrics.Registry)
	syncJobMetrics      = metrics.NewSyncJobs(crmetrics.Registry)
	notificationMetrics = metrics.NewNotifications(crmetrics.Registry)
)

// New builds a manager with the controllers and the gateway registered, ready to Start.
func New(ctx context.Context, cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	scheme := NewScheme()
	cacheOpts := CacheOptions(o)

	// Each component writes under its own user agent, so the apiserver's audit log
	// (and the scale harness reading it) attributes every write to its writer.
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = UserAgentManager
	metricsOpts, err := metricsServerOptions(o)
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Cache:                   cacheOpts,
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
	direct, err := client.New(cfg, client.Options{Scheme: scheme})
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
	if err := mgr.Add(&gateway.KeyWatcher{Config: cfg, Scheme: scheme, Namespace: o.OperatorNamespace, Name: o.StateKeySecret,
		Keys: journeys, Log: ctrl.Log.WithName("journey-keys")}); err != nil {
		return nil, fmt.Errorf("adding the state key watcher: %w", err)
	}

	tl, err := truelayer.New(truelayer.Options{
		// Data API v3 client-credentials tokens are shared by replicas and restarts.
		TokenCache:   &tokensecret.ClientTokenCache{Client: mgr.GetClient(), Namespace: o.OperatorNamespace, Name: o.StateKeySecret + "-client-tokens"},
		AuthURL:      o.TrueLayerAuthURL,
		APIURL:       o.TrueLayerAPIURL,
		Timeout:      o.ProviderTimeout,
		RateLimit:    truelayer.RateLimit{PerSecond: o.ProviderQPS, Burst: o.ProviderBurst},
		Clock:        o.Clock.Now,
		ResponseMode: responseMode(o.TrueLayerResponseMode),
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
	// The gateway finds a connect link's connection by its secret.
	if err := mgr.GetFieldIndexer().IndexField(ctx, &bankingv1alpha1.BankConnection{}, gateway.IndexJourneyNonce, gateway.JourneyNonceOf); err != nil {
		return nil, fmt.Errorf("indexing BankConnections by journey: %w", err)
	}
	tokens := &tokensecret.Store{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}

	gwClient, err := gatewayClient(cfg, mgr)
	if err != nil {
		return nil, err
	}
	gw := &gateway.Server{
		Client:      gwClient,
		Reader:      mgr.GetAPIReader(),
		Journeys:    journeys,
		PublicURL:   o.GatewayPublicURL,
		Addr:        o.GatewayAddr,
		Listener:    o.GatewayListener,
		Clock:       o.Clock,
		Recorder:    mgr.GetEventRecorder("consent-operator-gateway"),
		Log:         ctrl.Log.WithName("gateway"),
		Limits:      o.GatewayLimits,
		OutcomeWait: o.GatewayOutcomeWait,
	}
	if o.GatewayAddr != "0" || o.GatewayListener != nil {
		if err := mgr.Add(gw); err != nil {
			return nil, fmt.Errorf("adding gateway: %w", err)
		}
	}

	db, err := openStore(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(closeOnStop{db}); err != nil {
		return nil, fmt.Errorf("adding store: %w", err)
	}
	outbox, err := setupNotifications(mgr, o)
	if err != nil {
		return nil, err
	}
	connections := &controllers.BankConnectionReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Providers:               providers,
		Links:                   gw,
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
		Links:                   gw,
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
	webhooks := gateway.Webhooks{Keys: journeys, Clock: o.Clock, Signatures: webhookVerifier(o), Observe: syncJobMetrics.Webhook,
		Log: ctrl.Log.WithName("webhook")}
	gw.Handle("POST /webhooks/truelayer/{token}", gateway.WebhookHandler(webhooks, jobs.Notify))
	gw.Handle("POST "+gateway.V3WebhookPath, gateway.V3WebhookHandler(webhooks, func(e gateway.V3Event) bool {
		switch e.Type {
		case gateway.V3ConnectionAuthorized, gateway.V3ConnectionFailed:
			return connections.NotifyV3Connection(e)
		}
		return jobs.NotifyV3Transactions(e)
	}))

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

// gatewayClient reads through the manager's cache and writes (status.handoff) under
// the gateway's own user agent.
func gatewayClient(cfg *rest.Config, mgr ctrl.Manager) (client.Client, error) {
	gcfg := rest.CopyConfig(cfg)
	gcfg.UserAgent = UserAgentGateway
	c, err := client.New(gcfg, client.Options{Scheme: mgr.GetScheme(), Cache: &client.CacheOptions{Reader: mgr.GetCache()}})
	if err != nil {
		return nil, fmt.Errorf("creating the gateway's client: %w", err)
	}
	return c, nil
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

// responseMode maps the --truelayer-response-mode flag to the client's option.
func responseMode(mode string) string {
	if mode == "query" {
		return ""
	}
	return mode
}

// webhookVerifier trusts webhook signing keys only from the allow-listed JWKS URLs.
func webhookVerifier(o Options) *webhooksig.Verifier {
	allowed := map[string]string{}
	for env, list := range map[bankingv1alpha1.Environment]string{
		bankingv1alpha1.EnvironmentSandbox: o.TrueLayerWebhookJWKSSandbox,
		bankingv1alpha1.EnvironmentLive:    o.TrueLayerWebhookJWKSLive,
	} {
		for _, u := range strings.Split(list, ",") {
			if u = strings.TrimSpace(u); u != "" {
				allowed[u] = string(env)
			}
		}
	}
	return &webhooksig.Verifier{Allowed: allowed, Now: o.Clock.Now}
}
