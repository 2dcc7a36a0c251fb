package metrics

import "github.com/prometheus/client_golang/prometheus"

// Notifications holds the metrics of signed notifications to applications.
type Notifications struct {
	outcomes *prometheus.CounterVec
}

// NewNotifications creates the metrics and registers them with reg.
func NewNotifications(reg prometheus.Registerer) *Notifications {
	return &Notifications{outcomes: counter(reg, "consent_operator_notifications_total",
		"Notification delivery attempts and outbox decisions by namespace, event type and outcome (delivered, failed, timeout, refused, misconfigured, abandoned, undeliverable, dropped).",
		"namespace", "type", "outcome")}
}

// Outcome counts one attempt or decision.
func (m *Notifications) Outcome(namespace, eventType, outcome string) {
	if m == nil {
		return
	}
	m.outcomes.WithLabelValues(namespace, eventType, outcome).Inc()
}
