package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SyncJobs holds the SyncJob metrics.
type SyncJobs struct {
	runs     *prometheus.CounterVec
	records  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	budget   *prometheus.GaugeVec
}

// NewSyncJobs creates the metrics and registers them with reg.
func NewSyncJobs(reg prometheus.Registerer) *SyncJobs {
	return &SyncJobs{
		runs: counter(reg, "consent_operator_syncjob_runs_total",
			"SyncJob runs by result (Succeeded, PartiallySucceeded, Failed, Deferred).",
			"namespace", "name", "result"),
		records: counter(reg, "consent_operator_syncjob_records_stored_total",
			"Records stored by SyncJob runs, by resource (new rows only).",
			"namespace", "name", "resource"),
		duration: histogram(reg, "consent_operator_syncjob_run_duration_seconds",
			"Duration of SyncJob runs from start to finish.",
			[]float64{.1, .5, 1, 5, 15, 60, 300, 900, 3600},
			"namespace", "name"),
		budget: gauge(reg, "consent_operator_unattended_calls_remaining",
			"Fewest unattended calls left in the rolling 24 hours over the accounts and endpoints of a connection.",
			"namespace", "connection"),
	}
}

// Run records a finished (or deferred) run.
func (m *SyncJobs) Run(namespace, name, result string, d time.Duration, stored map[string]int64) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(namespace, name, result).Inc()
	if d > 0 {
		m.duration.WithLabelValues(namespace, name).Observe(d.Seconds())
	}
	for r, n := range stored {
		m.records.WithLabelValues(namespace, name, r).Add(float64(n))
	}
}

// Budget records the remaining unattended calls of a connection.
func (m *SyncJobs) Budget(namespace, connection string, remaining int) {
	if m == nil {
		return
	}
	m.budget.WithLabelValues(namespace, connection).Set(float64(remaining))
}

// ForgetJob drops a deleted SyncJob's series.
func (m *SyncJobs) ForgetJob(namespace, name string) {
	if m == nil {
		return
	}
	match := prometheus.Labels{"namespace": namespace, "name": name}
	m.runs.DeletePartialMatch(match)
	m.records.DeletePartialMatch(match)
	m.duration.DeletePartialMatch(match)
}

// ForgetConnection drops the budget series of a connection that no longer exists.
func (m *SyncJobs) ForgetConnection(namespace, connection string) {
	if m == nil {
		return
	}
	m.budget.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "connection": connection})
}
