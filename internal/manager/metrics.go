package manager

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// The metrics series name every tenant's namespace, connection and consent state, so the
// endpoint asks the apiserver who is calling (TokenReview) and whether they may
// `get /metrics` (SubjectAccessReview).
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// metricsServerOptions configures the metrics endpoint: HTTPS with authentication and
// authorization unless o.MetricsSecure is off.
func metricsServerOptions(o ServingOptions) (metricsserver.Options, error) {
	if !o.MetricsSecure || o.MetricsAddr == "0" {
		return metricsserver.Options{BindAddress: o.MetricsAddr}, nil
	}
	opts := metricsserver.Options{
		BindAddress:    o.MetricsAddr,
		SecureServing:  true,
		FilterProvider: filters.WithAuthenticationAndAuthorization,
		// A scrape needs only HTTP/1.1; refusing HTTP/2 keeps the endpoint out of the
		// HTTP/2 stream-reset attacks (CVE-2023-44487, CVE-2023-39325).
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if o.MetricsCertDir == "" {
		// controller-runtime generates a self-signed certificate at start.
		return opts, nil
	}
	// controller-runtime silently falls back to a self-signed certificate when the
	// files are missing; a certificate that was asked for and is absent is an error.
	for _, name := range []string{o.MetricsCertName, o.MetricsKeyName} {
		if _, err := os.Stat(filepath.Join(o.MetricsCertDir, name)); err != nil {
			return metricsserver.Options{}, fmt.Errorf("metrics serving certificate: %w", err)
		}
	}
	// The files are watched, so a renewed certificate (cert-manager) is served without a restart.
	opts.CertDir, opts.CertName, opts.KeyName = o.MetricsCertDir, o.MetricsCertName, o.MetricsKeyName
	return opts, nil
}
