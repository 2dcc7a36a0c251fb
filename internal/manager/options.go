// Package manager assembles the consent-operator manager: the scheme, the cache, the
// controllers and the servers. cmd/consent-operator parses flags into Options; tests
// and the dev environment call Run in-process.
package manager

import (
	"flag"
	"time"
)

// Options configure the manager. Every field has a command-line flag (see BindFlags).
type Options struct {
	// MetricsAddr is where Prometheus metrics are served ("0" disables).
	MetricsAddr string
	// ProbeAddr is where /healthz and /readyz are served ("0" disables).
	ProbeAddr string
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

	// GracefulShutdownTimeout bounds how long runnables get to stop.
	GracefulShutdownTimeout time.Duration
}

// DefaultOptions returns the options a production deployment starts from.
func DefaultOptions() Options {
	return Options{
		MetricsAddr:             ":8080",
		ProbeAddr:               ":8081",
		MaxConcurrentReconciles: 4,
		GracefulShutdownTimeout: 30 * time.Second,
	}
}

// BindFlags registers a flag for every option on fs, with o's values as defaults.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "Address the Prometheus metrics endpoint binds to; \"0\" disables it.")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "Address the /healthz and /readyz endpoints bind to.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Enable leader election so that only one replica reconciles.")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the leader-election Lease (default: the pod's namespace).")
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", o.MaxConcurrentReconciles, "Maximum number of objects of one kind reconciled in parallel.")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "Watch only this namespace (default: all namespaces).")
	fs.StringVar(&o.TrueLayerAuthURL, "truelayer-auth-url", o.TrueLayerAuthURL, "TrueLayer auth server base URL, used instead of the Sandbox/Live host when set.")
	fs.StringVar(&o.TrueLayerAPIURL, "truelayer-api-url", o.TrueLayerAPIURL, "TrueLayer API base URL, used instead of the Sandbox/Live host when set.")
	fs.StringVar(&o.CodatURL, "codat-url", o.CodatURL, "Codat API base URL, used instead of the default host when set.")
	fs.DurationVar(&o.GracefulShutdownTimeout, "graceful-shutdown-timeout", o.GracefulShutdownTimeout, "How long running work gets to finish on shutdown.")
}
