package manager

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/clock"
	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/index"
	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/scheme"
	"github.com/consent-operator/consent-operator/internal/webhooksig"
)

var gatewayMetrics = metrics.NewGateway(crmetrics.Registry)

// NewGateway builds the gateway process: the public HTTP server (connect links, the
// OAuth callback, provider webhooks) with a cache of BankConnections and SyncJobs and
// the journey key, ready to Start. It runs under its own identity, whose RBAC
// (config/rbac/gateway) reads those objects and patches only the status fields the
// gateway owns; it holds no provider credentials and no Secret rights beyond reading
// its key, so nothing it could be tricked into doing reaches a tenant's tokens.
func NewGateway(ctx context.Context, cfg *rest.Config, o GatewayOptions) (ctrl.Manager, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	kinds := scheme.New()
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = UserAgentGateway
	metricsOpts, err := metricsServerOptions(o.ServingOptions)
	if err != nil {
		return nil, err
	}
	cacheOpts := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if o.Namespace != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{o.Namespace: {}}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  kinds,
		Cache:                   cacheOpts,
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  o.ProbeAddr,
		GracefulShutdownTimeout: &o.GracefulShutdownTimeout,
		// Every replica serves; nothing in the gateway needs a leader.
		LeaderElection: false,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the gateway's manager: %w", err)
	}
	journeys, err := gatewayKeys(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(&gateway.KeyWatcher{Config: cfg, Scheme: kinds, Namespace: o.OperatorNamespace, Name: o.StateKeySecret,
		Keys: journeys, Log: ctrl.Log.WithName("journey-keys")}); err != nil {
		return nil, fmt.Errorf("adding the state key watcher: %w", err)
	}
	if err := gatewayIndexes(ctx, mgr); err != nil {
		return nil, err
	}
	gw := &gateway.Server{
		Client:      mgr.GetClient(),
		Reader:      mgr.GetAPIReader(),
		Journeys:    journeys,
		PublicURL:   o.PublicURL,
		Addr:        o.Addr,
		Listener:    o.Listener,
		Clock:       o.Clock,
		Recorder:    mgr.GetEventRecorder("consent-operator-gateway"),
		Log:         ctrl.Log.WithName("gateway"),
		Limits:      o.Limits,
		OutcomeWait: o.OutcomeWait,
	}
	webhooks := gateway.Webhooks{Keys: journeys, Clock: o.Clock, Signatures: webhookVerifier(o), Observe: gatewayMetrics.Webhook,
		Log: ctrl.Log.WithName("webhook")}
	wakes := gateway.Wakes{Client: mgr.GetClient(), Clock: o.Clock}
	gw.Handle("POST /webhooks/truelayer/{token}", gateway.WebhookHandler(webhooks, wakes.Run))
	gw.Handle("POST "+gateway.V3WebhookPath, gateway.V3WebhookHandler(webhooks, wakes.V3))
	if err := mgr.Add(gw); err != nil {
		return nil, fmt.Errorf("adding the gateway server: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("informers", CacheSynced(mgr.GetCache())); err != nil {
		return nil, fmt.Errorf("adding ready check: %w", err)
	}
	return mgr, nil
}

// RunGateway builds the gateway and runs it until ctx is cancelled.
func RunGateway(ctx context.Context, cfg *rest.Config, o GatewayOptions) error {
	mgr, err := NewGateway(ctx, cfg, o)
	return start(ctx, "gateway", mgr, err)
}

// gatewayKeys reads the journey key the manager creates, waiting for it at first
// install (the gateway may start first) for at most o.KeyWait.
func gatewayKeys(ctx context.Context, cfg *rest.Config, o GatewayOptions) (*journey.Keys, error) {
	direct, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, fmt.Errorf("creating direct client: %w", err)
	}
	key := types.NamespacedName{Namespace: o.OperatorNamespace, Name: o.StateKeySecret}
	sec := &corev1.Secret{}
	var lastErr error
	err = wait.PollUntilContextTimeout(ctx, time.Second, o.KeyWait, true, func(ctx context.Context) (bool, error) {
		lastErr = direct.Get(ctx, key, sec)
		return lastErr == nil, nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the journey key Secret %s (the manager creates it): %w", key, lastErr)
	}
	current, accepted, err := gateway.KeysFrom(sec)
	if err != nil {
		return nil, err
	}
	return journey.NewKeys(current, accepted...)
}

// gatewayIndexes are the lookups the gateway's handlers make in its cache.
func gatewayIndexes(ctx context.Context, mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	// A connect link's connection, by its secret.
	if err := idx.IndexField(ctx, &bankingv1alpha1.BankConnection{}, gateway.IndexJourneyNonce, gateway.JourneyNonceOf); err != nil {
		return fmt.Errorf("indexing BankConnections by journey: %w", err)
	}
	// A TrueLayer v3 return or webhook's connection, by its data connection id (they carry no state).
	if err := idx.IndexField(ctx, &bankingv1alpha1.BankConnection{}, gateway.IndexDataConnectionID, gateway.DataConnectionIDOf); err != nil {
		return fmt.Errorf("indexing BankConnections by data connection id: %w", err)
	}
	// The SyncJobs a v3 transactions webhook may wake.
	if err := idx.IndexField(ctx, &bankingv1alpha1.SyncJob{}, index.SyncJobConnection, index.SyncJobConnectionOf); err != nil {
		return fmt.Errorf("indexing SyncJobs by connection: %w", err)
	}
	return nil
}

// webhookVerifier trusts webhook signing keys only from the allow-listed JWKS URLs.
func webhookVerifier(o GatewayOptions) *webhooksig.Verifier {
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
