// Package metrics defines the operator's Prometheus metrics. They are registered with
// controller-runtime's registry and served on the manager's metrics endpoint. Labels
// never carry token values, user ids or URLs with ids.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// Connections holds the BankConnection metrics.
type Connections struct {
	consentExpiry *prometheus.GaugeVec
	tokenExpiry   *prometheus.GaugeVec
	condition     *prometheus.GaugeVec
	refreshes     *prometheus.CounterVec
	requests      *prometheus.HistogramVec
}

// NewConnections creates the metrics and registers them with reg.
func NewConnections(reg prometheus.Registerer) *Connections {
	return &Connections{
		consentExpiry: gauge(reg, "consent_operator_consent_expiry_timestamp_seconds",
			"When the connection's consent ends (Unix time).",
			"namespace", "name", "provider"),
		tokenExpiry: gauge(reg, "consent_operator_token_expiry_timestamp_seconds",
			"When the connection's current access token expires (Unix time).",
			"namespace", "name", "provider"),
		condition: gauge(reg, "consent_operator_connection_condition",
			"1 when the connection has the condition with the status and reason, per connection.",
			"namespace", "name", "type", "status", "reason"),
		refreshes: counter(reg, "consent_operator_token_refreshes_total",
			"Token refreshes by result (success, failure) and failure reason.",
			"provider", "result", "reason"),
		requests: histogram(reg, "consent_operator_provider_request_duration_seconds",
			"Duration of requests to providers by endpoint and HTTP status (0: no answer).",
			[]float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
			"provider", "endpoint", "status"),
	}
}

// Observe records a connection's current expiry times and conditions.
// tokenExpiresAt is the access token's expiry (zero: no token), read from the token
// Secret: status holds no per-refresh times.
func (m *Connections) Observe(bc *bankingv1alpha1.BankConnection, tokenExpiresAt time.Time) {
	if m == nil {
		return
	}
	p := string(bc.Spec.Provider)
	if c := bc.Status.Consent; c != nil && c.ExpiresAt != nil {
		m.consentExpiry.WithLabelValues(bc.Namespace, bc.Name, p).Set(unix(c.ExpiresAt))
	} else {
		m.consentExpiry.DeleteLabelValues(bc.Namespace, bc.Name, p)
	}
	if !tokenExpiresAt.IsZero() {
		m.tokenExpiry.WithLabelValues(bc.Namespace, bc.Name, p).Set(float64(tokenExpiresAt.Unix()))
	} else {
		m.tokenExpiry.DeleteLabelValues(bc.Namespace, bc.Name, p)
	}
	m.condition.DeletePartialMatch(prometheus.Labels{"namespace": bc.Namespace, "name": bc.Name})
	for _, t := range []string{bankingv1alpha1.ConditionReady, bankingv1alpha1.ConditionStalled, bankingv1alpha1.ConditionConsentExpiring, bankingv1alpha1.ConditionReconciling} {
		if c := apimeta.FindStatusCondition(bc.Status.Conditions, t); c != nil {
			m.condition.WithLabelValues(bc.Namespace, bc.Name, t, string(c.Status), c.Reason).Set(1)
		}
	}
}

// Forget drops a deleted connection's series.
func (m *Connections) Forget(namespace, name string) {
	if m == nil {
		return
	}
	match := prometheus.Labels{"namespace": namespace, "name": name}
	m.consentExpiry.DeletePartialMatch(match)
	m.tokenExpiry.DeletePartialMatch(match)
	m.condition.DeletePartialMatch(match)
}

// Refreshed counts a refresh; reason is empty on success.
func (m *Connections) Refreshed(provider string, err error, reason string) {
	if m == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "failure"
	}
	m.refreshes.WithLabelValues(provider, result, reason).Inc()
}

// ProviderRequest records one provider request. endpoint is a route pattern.
func (m *Connections) ProviderRequest(provider, endpoint string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(provider, endpoint, strconv.Itoa(status)).Observe(d.Seconds())
}

func unix(t *metav1.Time) float64 { return float64(t.Unix()) }
