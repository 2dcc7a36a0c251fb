package manager

import (
	"flag"
	"net"
	"time"

	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/webhooksig"
)

// GatewayOptions configure the gateway process (`consent-operator gateway`). Every
// field has a command-line flag (see BindFlags).
type GatewayOptions struct {
	// ServingOptions are the metrics and health endpoints.
	ServingOptions
	// Addr is where the gateway (connect links, OAuth callback, webhooks) listens.
	Addr string
	// Listener, when set, is used instead of listening on Addr (tests and make dev pick
	// a free port before they know the public URL).
	Listener net.Listener
	// PublicURL is how users and providers reach the gateway.
	PublicURL string
	// Namespace, when set, limits the gateway to one namespace (as the manager's).
	Namespace string
	// OperatorNamespace and StateKeySecret locate the journey key the manager creates.
	OperatorNamespace, StateKeySecret string
	// Limits are the gateway's token buckets per client address and per connection.
	Limits gateway.Limits
	// OutcomeWait bounds how long the page after the callback waits for the outcome
	// before it says the connection is being finished.
	OutcomeWait time.Duration
	// TrueLayerWebhookJWKSSandbox and TrueLayerWebhookJWKSLive are the only JWKS URLs
	// (comma separated) webhook signing keys are fetched from, per environment.
	TrueLayerWebhookJWKSSandbox, TrueLayerWebhookJWKSLive string
	// KeyWait bounds how long the gateway waits at start for the manager to create
	// the journey key.
	KeyWait time.Duration
	// GracefulShutdownTimeout bounds how long runnables get to stop.
	GracefulShutdownTimeout time.Duration
	// Clock is the time source; nil means the real clock.
	Clock interface{ Now() time.Time }
}

// ServingOptions are a process's metrics and health endpoints.
type ServingOptions struct {
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
}

// DefaultGatewayOptions returns the options a production gateway starts from.
func DefaultGatewayOptions() GatewayOptions {
	m := DefaultOptions()
	return GatewayOptions{
		ServingOptions:              defaultServing(),
		Addr:                        ":8082",
		PublicURL:                   m.GatewayPublicURL,
		OperatorNamespace:           m.OperatorNamespace,
		StateKeySecret:              m.StateKeySecret,
		Limits:                      gateway.Limits{PerClient: gateway.DefaultPerClient, ClientBurst: gateway.DefaultClientBurst, PerConnection: gateway.DefaultPerConnection, ConnectionBurst: gateway.DefaultConnectionBurst},
		OutcomeWait:                 gateway.DefaultOutcomeWait,
		TrueLayerWebhookJWKSSandbox: webhooksig.TrueLayerSandboxJWKS,
		TrueLayerWebhookJWKSLive:    webhooksig.TrueLayerLiveJWKS,
		KeyWait:                     2 * time.Minute,
		GracefulShutdownTimeout:     30 * time.Second,
	}
}

// BindFlags registers a flag for every option on fs, with o's values as defaults.
func (o *GatewayOptions) BindFlags(fs *flag.FlagSet) {
	o.ServingOptions.bindFlags(fs)
	fs.StringVar(&o.Addr, "bind-address", o.Addr, "Address the gateway (connect links, OAuth callback, webhooks) listens on.")
	fs.StringVar(&o.PublicURL, "public-url", o.PublicURL, "URL users and providers reach the gateway at; the same as the manager's --gateway-public-url.")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "Serve only connections of this namespace (default: all namespaces).")
	fs.StringVar(&o.OperatorNamespace, "operator-namespace", o.OperatorNamespace, "Namespace of the journey key Secret (default: $POD_NAMESPACE).")
	fs.StringVar(&o.StateKeySecret, "state-key-secret", o.StateKeySecret, "Secret (in --operator-namespace) holding the journey key; the manager creates it, the gateway only reads it.")
	fs.Float64Var(&o.Limits.PerClient, "rate-per-client", o.Limits.PerClient, "Sustained requests per second from one client address (negative: unlimited).")
	fs.IntVar(&o.Limits.ClientBurst, "burst-per-client", o.Limits.ClientBurst, "Burst of requests from one client address.")
	fs.Float64Var(&o.Limits.PerConnection, "rate-per-connection", o.Limits.PerConnection, "Sustained link opens and callbacks per second for one BankConnection (negative: unlimited).")
	fs.IntVar(&o.Limits.ConnectionBurst, "burst-per-connection", o.Limits.ConnectionBurst, "Burst of link opens and callbacks for one BankConnection.")
	fs.DurationVar(&o.OutcomeWait, "outcome-wait", o.OutcomeWait, "How long the page after the OAuth callback waits for the outcome before it refreshes itself.")
	fs.StringVar(&o.TrueLayerWebhookJWKSSandbox, "truelayer-webhook-jwks-sandbox", o.TrueLayerWebhookJWKSSandbox, "JWKS URLs (comma separated) keys of Sandbox webhook signatures (Tl-Signature jku) may be fetched from; no other jku is accepted.")
	fs.StringVar(&o.TrueLayerWebhookJWKSLive, "truelayer-webhook-jwks-live", o.TrueLayerWebhookJWKSLive, "JWKS URLs (comma separated) keys of Live webhook signatures may be fetched from.")
	fs.DurationVar(&o.KeyWait, "key-wait", o.KeyWait, "How long to wait at start for the manager to create the journey key Secret.")
	fs.DurationVar(&o.GracefulShutdownTimeout, "graceful-shutdown-timeout", o.GracefulShutdownTimeout, "How long in-flight requests get to finish on shutdown.")
}

func defaultServing() ServingOptions {
	return ServingOptions{MetricsAddr: ":8443", MetricsSecure: true, MetricsCertName: "tls.crt", MetricsKeyName: "tls.key", ProbeAddr: ":8081"}
}

func (o *ServingOptions) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "Address the Prometheus metrics endpoint binds to; \"0\" disables it.")
	fs.BoolVar(&o.MetricsSecure, "metrics-secure", o.MetricsSecure, "Serve metrics over HTTPS, only to callers whose token may get /metrics (TokenReview and SubjectAccessReview); false serves plain HTTP to anyone.")
	fs.StringVar(&o.MetricsCertDir, "metrics-cert-path", o.MetricsCertDir, "Directory holding the metrics serving certificate (watched for renewals); empty means a self-signed certificate.")
	fs.StringVar(&o.MetricsCertName, "metrics-cert-name", o.MetricsCertName, "File name of the metrics serving certificate in --metrics-cert-path.")
	fs.StringVar(&o.MetricsKeyName, "metrics-cert-key", o.MetricsKeyName, "File name of the metrics serving key in --metrics-cert-path.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "Address the /healthz and /readyz endpoints bind to.")
}
