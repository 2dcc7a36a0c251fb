package metrics

import "github.com/prometheus/client_golang/prometheus"

// Gateway holds the gateway process's metrics.
type Gateway struct {
	webhooks *prometheus.CounterVec
}

// NewGateway creates the metrics and registers them with reg.
func NewGateway(reg prometheus.Registerer) *Gateway {
	return &Gateway{webhooks: counter(reg, "consent_operator_webhooks_total",
		"Provider webhooks received by the gateway, by result (accepted, unknown, malformed, unauthenticated).",
		"result")}
}

// Webhook counts a webhook received by the gateway.
func (m *Gateway) Webhook(result string) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(result).Inc()
}
