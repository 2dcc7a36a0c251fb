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

	"github.com/consent-operator/consent-operator/internal/store"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Options configure the manager. Every field has a command-line flag (see BindFlags).
type Options struct {
	// ServingOptions are the metrics and health endpoints.
	ServingOptions
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

	// GatewayPublicURL is how users and providers reach the gateway (a separate
	// process, `consent-operator gateway`): the manager publishes its links.
	GatewayPublicURL string
	// OperatorNamespace holds the operator's own Secrets (the state-signing key).
	OperatorNamespace string
	// StateKeySecret names the Secret holding the journey key (OAuth states, PKCE
	// verifiers, handed-over codes, webhook tokens).
	StateKeySecret string
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

	// DataAPIAddr is where the data API (applications read their users' data) listens
	// ("0" disables).
	DataAPIAddr string
	// DataAPIListener, when set, is used instead of listening on DataAPIAddr (tests).
	DataAPIListener net.Listener
	// DataAPICertDir holds the data API's serving certificate and key
	// (DataAPICertName, DataAPIKeyName); empty means a self-signed certificate.
	DataAPICertDir, DataAPICertName, DataAPIKeyName string
	// Retention bounds sync_runs and balance history; zero keeps everything.
	Retention store.Retention
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
		ServingOptions:          defaultServing(),
		PprofAddr:               "0",
		MaxConcurrentReconciles: 4,
		ProviderQPS:             20,
		ProviderBurst:           40,
		ProviderTimeout:         30 * time.Second,
		GatewayPublicURL:        "http://localhost:8082",
		OperatorNamespace:       envOr("POD_NAMESPACE", "consent-operator-system"),
		StateKeySecret:          "consent-operator-state-key",
		TrueLayerResponseMode:   "form_post",
		DataDir:                 "/var/lib/consent-operator",
		PollInterval:            15 * time.Second,
		DataAPIAddr:             ":8444",
		DataAPICertName:         "tls.crt",
		DataAPIKeyName:          "tls.key",
		GracefulShutdownTimeout: 30 * time.Second,
		Notifications:           NotificationOptions{Workers: 4, Timeout: 10 * time.Second, MaxAttempts: 20},
	}
}

// BindFlags registers a flag for every option on fs, with o's values as defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	o.ServingOptions.bindFlags(fs)
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
	fs.StringVar(&o.GatewayPublicURL, "gateway-public-url", o.GatewayPublicURL, "URL users and providers reach the gateway at (the gateway's --public-url); its /callback is the OAuth redirect URI to register.")
	fs.StringVar(&o.OperatorNamespace, "operator-namespace", o.OperatorNamespace, "Namespace of the operator's own Secrets (default: $POD_NAMESPACE).")
	fs.StringVar(&o.StateKeySecret, "state-key-secret", o.StateKeySecret, "Secret (in --operator-namespace) holding the journey key (OAuth states, PKCE, handed-over codes, webhook tokens); the manager creates it on first start.")
	fs.StringVar(&o.TrueLayerResponseMode, "truelayer-response-mode", o.TrueLayerResponseMode, "How TrueLayer returns the user to the callback: form_post (the code in a POST body) or query.")
	fs.StringVar(&o.Store, "store", o.Store, "Database for fetched data: a SQLite file (path or sqlite:///path) or a postgres:// DSN (prefer --store-dsn-file or $CONSENT_OPERATOR_STORE_DSN for DSNs with passwords). Default: SQLite in --data-dir.")
	fs.StringVar(&o.StoreDSNFile, "store-dsn-file", o.StoreDSNFile, "File holding the database DSN (a mounted Secret).")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory of the embedded SQLite store.")
	fs.DurationVar(&o.PollInterval, "poll-interval", o.PollInterval, "First wait for async results when no webhook arrives (doubles up to 10m).")
	fs.StringVar(&o.DataAPIAddr, "data-api-bind-address", o.DataAPIAddr, "Address the data API (HTTPS; applications read and erase their users' data, authorized by bankconnections/data in their namespace) binds to; \"0\" disables it.")
	fs.StringVar(&o.DataAPICertDir, "data-api-cert-path", o.DataAPICertDir, "Directory holding the data API's serving certificate (watched for renewals); empty means a self-signed certificate.")
	fs.StringVar(&o.DataAPICertName, "data-api-cert-name", o.DataAPICertName, "File name of the data API's serving certificate in --data-api-cert-path.")
	fs.StringVar(&o.DataAPIKeyName, "data-api-cert-key", o.DataAPIKeyName, "File name of the data API's serving key in --data-api-cert-path.")
	fs.Var(syncRunRetention{&o.Retention}, "retention-sync-runs", "Sync runs kept: a count per SyncJob (50) or an age after which finished runs are deleted (720h); 0 keeps all.")
	fs.DurationVar(&o.Retention.BalancesMaxAge, "retention-balances", o.Retention.BalancesMaxAge, "Age after which balance observations are deleted (each account's latest is kept); 0 keeps all.")
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
