// Package manager assembles the consent-operator manager: the scheme, the cache, the
// controllers and the servers. cmd/consent-operator parses flags into Options; tests
// and the dev environment call Run in-process.
package manager

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/webhooksig"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Options configure the manager. Every field has a command-line flag (see BindFlags).
type Options struct {
	// MetricsAddr is where Prometheus metrics are served ("0" disables).
	MetricsAddr string
	// MetricsSecure serves metrics over HTTPS to callers the apiserver authenticates
	// and authorizes for `get /metrics`; off, they are plain HTTP for anyone.
	MetricsSecure bool
	// MetricsCertDir holds the metrics serving certificate and key (MetricsCertName,
	// MetricsKeyName); empty means a self-signed certificate made at start.
	MetricsCertDir, MetricsCertName, MetricsKeyName string
	// ProbeAddr is where /healthz and /readyz are served ("0" disables).
	ProbeAddr string
	// PprofAddr is where Go's profiler (/debug/pprof/) is served; "0", the default,
	// disables it. Profiles show memory contents, so it is opt-in and belongs on
	// loopback or behind port-forwarding.
	PprofAddr string
	// LeaderElect enables leader election so only one replica reconciles.
	LeaderElect bool
	// LeaderElectionNamespace is where the lease lives (default: the pod's namespace).
	LeaderElectionNamespace string
	// MaxConcurrentReconciles bounds parallel reconciles per controller.
	MaxConcurrentReconciles int
	// Namespace, when set, limits the manager to one namespace.
	Namespace string

	// TrueLayerAuthURL overrides the TrueLayer auth host of both environments.
	TrueLayerAuthURL string
	// TrueLayerAPIURL overrides the TrueLayer API host of both environments.
	TrueLayerAPIURL string
	// CodatURL overrides the Codat API host.
	CodatURL string

	// ProviderQPS and ProviderBurst bound requests per second to each provider host.
	ProviderQPS   float64
	ProviderBurst int
	// ProviderTimeout bounds each provider HTTP request.
	ProviderTimeout time.Duration

	// GatewayAddr is where the gateway (connect links, OAuth callback, webhooks) listens.
	GatewayAddr string
	// GatewayListener, when set, is used instead of listening on GatewayAddr (tests and
	// make dev pick a free port before they know the public URL).
	GatewayListener net.Listener
	// GatewayPublicURL is how users and providers reach the gateway.
	GatewayPublicURL string
	// OperatorNamespace holds the operator's own Secrets (the state-signing key).
	OperatorNamespace string
	// StateKeySecret names the Secret holding the journey key (OAuth states, PKCE
	// verifiers, handed-over codes, webhook tokens).
	StateKeySecret string
	// GatewayLimits are the gateway's token buckets per client address and per
	// connection.
	GatewayLimits gateway.Limits
	// GatewayOutcomeWait bounds how long the page after the callback waits for the
	// outcome before it says the connection is being finished.
	GatewayOutcomeWait time.Duration
	// TrueLayerWebhookJWKSSandbox and TrueLayerWebhookJWKSLive are the only JWKS URLs
	// (comma separated) webhook signing keys are fetched from, per environment.
	TrueLayerWebhookJWKSSandbox, TrueLayerWebhookJWKSLive string
	// TrueLayerResponseMode is how TrueLayer returns the user: "form_post" (default:
	// the code travels in a POST body, not in URLs that reach logs) or "query".
	TrueLayerResponseMode string

	// Store is the database: a SQLite file path ("sqlite:///path" or a plain path) or a
	// postgres:// DSN. Empty means a SQLite file in DataDir.
	Store string
	// StoreDSNFile reads the DSN from a file (a mounted Secret), so the password is
	// not on the command line. CONSENT_OPERATOR_STORE_DSN does the same from the
	// environment.
	StoreDSNFile string
	// DataDir holds the embedded SQLite store by default.
	DataDir string
	// PollInterval is the first wait for async results when no webhook arrives.
	PollInterval time.Duration

	// Notifications configure the signed events sent to applications.
	Notifications NotificationOptions

	// GracefulShutdownTimeout bounds how long runnables get to stop.
	GracefulShutdownTimeout time.Duration

	// SkipControllerNameValidation lets one process build several managers (tests);
	// controller names are otherwise unique per process.
	SkipControllerNameValidation bool

	// Clock is the time source; nil means the real clock. Tests share the bank
	// sandbox's controllable clock.
	Clock interface{ Now() time.Time }
}

// DefaultOptions returns the options a production deployment starts from.
func DefaultOptions() Options {
	return Options{
		MetricsAddr:                 ":8443",
		MetricsSecure:               true,
		MetricsCertName:             "tls.crt",
		MetricsKeyName:              "tls.key",
		ProbeAddr:                   ":8081",
		PprofAddr:                   "0",
		MaxConcurrentReconciles:     4,
		ProviderQPS:                 20,
		ProviderBurst:               40,
		ProviderTimeout:             30 * time.Second,
		GatewayAddr:                 ":8082",
		GatewayPublicURL:            "http://localhost:8082",
		OperatorNamespace:           envOr("POD_NAMESPACE", "consent-operator-system"),
		StateKeySecret:              "consent-operator-state-key",
		GatewayOutcomeWait:          gateway.DefaultOutcomeWait,
		TrueLayerResponseMode:       "form_post",
		TrueLayerWebhookJWKSSandbox: webhooksig.TrueLayerSandboxJWKS,
		TrueLayerWebhookJWKSLive:    webhooksig.TrueLayerLiveJWKS,
		DataDir:                     "/var/lib/consent-operator",
		PollInterval:                15 * time.Second,
		GracefulShutdownTimeout:     30 * time.Second,
		Notifications:               NotificationOptions{Workers: 4, Timeout: 10 * time.Second, MaxAttempts: 20},
	}
}

// BindFlags registers a flag for every option on fs, with o's values as defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "Address the Prometheus metrics endpoint binds to; \"0\" disables it.")
	fs.BoolVar(&o.MetricsSecure, "metrics-secure", o.MetricsSecure, "Serve metrics over HTTPS, only to callers whose token may get /metrics (TokenReview and SubjectAccessReview); false serves plain HTTP to anyone.")
	fs.StringVar(&o.MetricsCertDir, "metrics-cert-path", o.MetricsCertDir, "Directory holding the metrics serving certificate (watched for renewals); empty means a self-signed certificate.")
	fs.StringVar(&o.MetricsCertName, "metrics-cert-name", o.MetricsCertName, "File name of the metrics serving certificate in --metrics-cert-path.")
	fs.StringVar(&o.MetricsKeyName, "metrics-cert-key", o.MetricsKeyName, "File name of the metrics serving key in --metrics-cert-path.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "Address the /healthz and /readyz endpoints bind to.")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", o.PprofAddr, "Address Go's profiler (/debug/pprof/) binds to, for example 127.0.0.1:6060; \"0\" (the default) disables it. Profiles expose memory contents: keep it on loopback.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Enable leader election so that only one replica reconciles.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the leader-election Lease (default: the pod's namespace).")
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", o.MaxConcurrentReconciles, "Maximum number of objects of one kind reconciled in parallel.")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "Watch only this namespace (default: all namespaces).")
	fs.StringVar(&o.TrueLayerAuthURL, "truelayer-auth-url", o.TrueLayerAuthURL, "TrueLayer auth server base URL, used instead of the Sandbox/Live host when set.")
	fs.StringVar(&o.TrueLayerAPIURL, "truelayer-api-url", o.TrueLayerAPIURL, "TrueLayer API base URL, used instead of the Sandbox/Live host when set.")
	fs.StringVar(&o.CodatURL, "codat-url", o.CodatURL, "Codat API base URL, used instead of the default host when set.")
	fs.Float64Var(&o.ProviderQPS, "provider-qps", o.ProviderQPS, "Maximum requests per second to each provider host.")
	fs.IntVar(&o.ProviderBurst, "provider-burst", o.ProviderBurst, "Burst of requests allowed above --provider-qps.")
	fs.DurationVar(&o.ProviderTimeout, "provider-timeout", o.ProviderTimeout, "Timeout of one provider HTTP request.")
	fs.StringVar(&o.GatewayAddr, "gateway-bind-address", o.GatewayAddr, "Address the gateway (connect links, OAuth callback, webhooks) listens on.")
	fs.StringVar(&o.GatewayPublicURL, "gateway-public-url", o.GatewayPublicURL, "URL users and providers reach the gateway at; its /callback is the OAuth redirect URI to register.")
	fs.StringVar(&o.OperatorNamespace, "operator-namespace", o.OperatorNamespace, "Namespace of the operator's own Secrets (default: $POD_NAMESPACE).")
	fs.StringVar(&o.StateKeySecret, "state-key-secret", o.StateKeySecret, "Secret (in --operator-namespace) holding the OAuth state-signing key; created on first start.")
	fs.Float64Var(&o.GatewayLimits.PerClient, "gateway-rate-per-client", gateway.DefaultPerClient, "Sustained gateway requests per second from one client address (negative: unlimited).")
	fs.IntVar(&o.GatewayLimits.ClientBurst, "gateway-burst-per-client", gateway.DefaultClientBurst, "Burst of gateway requests from one client address.")
	fs.Float64Var(&o.GatewayLimits.PerConnection, "gateway-rate-per-connection", gateway.DefaultPerConnection, "Sustained link opens and callbacks per second for one BankConnection (negative: unlimited).")
	fs.IntVar(&o.GatewayLimits.ConnectionBurst, "gateway-burst-per-connection", gateway.DefaultConnectionBurst, "Burst of link opens and callbacks for one BankConnection.")
	fs.DurationVar(&o.GatewayOutcomeWait, "gateway-outcome-wait", o.GatewayOutcomeWait, "How long the page after the OAuth callback waits for the outcome before it refreshes itself.")
	fs.StringVar(&o.TrueLayerResponseMode, "truelayer-response-mode", o.TrueLayerResponseMode, "How TrueLayer returns the user to the callback: form_post (the code in a POST body) or query.")
	fs.StringVar(&o.TrueLayerWebhookJWKSSandbox, "truelayer-webhook-jwks-sandbox", o.TrueLayerWebhookJWKSSandbox, "JWKS URLs (comma separated) keys of Sandbox webhook signatures (Tl-Signature jku) may be fetched from; no other jku is accepted.")
	fs.StringVar(&o.TrueLayerWebhookJWKSLive, "truelayer-webhook-jwks-live", o.TrueLayerWebhookJWKSLive, "JWKS URLs (comma separated) keys of Live webhook signatures may be fetched from.")
	fs.StringVar(&o.Store, "store", o.Store, "Database for fetched data: a SQLite file (path or sqlite:///path) or a postgres:// DSN (prefer --store-dsn-file or $CONSENT_OPERATOR_STORE_DSN for DSNs with passwords). Default: SQLite in --data-dir.")
	fs.StringVar(&o.StoreDSNFile, "store-dsn-file", o.StoreDSNFile, "File holding the database DSN (a mounted Secret).")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory of the embedded SQLite store.")
	fs.DurationVar(&o.PollInterval, "poll-interval", o.PollInterval, "First wait for async results when no webhook arrives (doubles up to 10m).")
	fs.IntVar(&o.Notifications.Workers, "notifications-workers", o.Notifications.Workers, "Notification deliveries in flight at once (one per destination at a time); 0 disables notifications.")
	fs.DurationVar(&o.Notifications.Timeout, "notifications-timeout", o.Notifications.Timeout, "Timeout of one notification delivery attempt.")
	var maxAttempts = int(o.Notifications.MaxAttempts)
	fs.Func("notifications-max-attempts", fmt.Sprintf("Attempts before a notification is given up (backoff 5s doubling to 1h) (default %d).", maxAttempts), func(v string) error {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			return fmt.Errorf("want a whole number of at least 1")
		}
		o.Notifications.MaxAttempts = int32(n)
		return nil
	})
	fs.BoolVar(&o.Notifications.AllowHTTP, "notifications-allow-http", o.Notifications.AllowHTTP, "Allow http notification URLs (development and tests only); otherwise https is required.")
	fs.StringVar(&o.Notifications.AllowCIDRs, "notifications-allow-cidrs", o.Notifications.AllowCIDRs, "CIDRs (comma separated) notifications may reach although they are loopback, link-local or metadata addresses (for example 127.0.0.0/8 in tests).")
	fs.StringVar(&o.Notifications.DenyCIDRs, "notifications-deny-cidrs", o.Notifications.DenyCIDRs, "CIDRs (comma separated) notifications must never reach, for example the cluster's pod and Service ranges.")
	fs.DurationVar(&o.GracefulShutdownTimeout, "graceful-shutdown-timeout", o.GracefulShutdownTimeout, "How long running work gets to finish on shutdown.")
}

// NotificationOptions configure the delivery of signed events to applications.
type NotificationOptions struct {
	// Workers bounds deliveries in flight; 0 disables notifications.
	Workers int
	// Timeout bounds one attempt.
	Timeout time.Duration
	// MaxAttempts is how many times an event is tried before it is given up.
	MaxAttempts int32
	// AllowHTTP admits http URLs (development and tests).
	AllowHTTP bool
	// AllowCIDRs and DenyCIDRs (comma-separated CIDRs) admit blocked addresses and
	// refuse more ranges.
	AllowCIDRs, DenyCIDRs string
}
