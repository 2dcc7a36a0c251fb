package manager

import "testing"

// Only the secure endpoint authenticates; a disabled one needs no certificate.
func TestMetricsServerOptions(t *testing.T) {
	for _, tt := range []struct {
		name       string
		edit       func(*Options)
		wantSecure bool
	}{
		{"default", func(*Options) {}, true},
		{"insecure", func(o *Options) { o.MetricsSecure = false }, false},
		{"disabled with a certificate directory", func(o *Options) { o.MetricsAddr, o.MetricsCertDir = "0", t.TempDir() }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.edit(&o)
			got, err := metricsServerOptions(o.ServingOptions)
			if err != nil {
				t.Fatal(err)
			}
			if got.BindAddress != o.MetricsAddr || got.SecureServing != tt.wantSecure || (got.FilterProvider != nil) != tt.wantSecure {
				t.Errorf("bind %q secure %v filter %v, want bind %q secure and filter %v",
					got.BindAddress, got.SecureServing, got.FilterProvider != nil, o.MetricsAddr, tt.wantSecure)
			}
		})
	}
}
