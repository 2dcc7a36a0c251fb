package chart_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/klog/v2"
	"k8s.io/kube-state-metrics/v2/pkg/customresourcestate"
	"k8s.io/kube-state-metrics/v2/pkg/metric"
	"sigs.k8s.io/yaml"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	opmetrics "github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// sample is one series as Prometheus would store it.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

func (s sample) matches(ms []*labels.Matcher) bool {
	for _, m := range ms {
		v := s.labels[m.Name]
		if m.Name == model.MetricNameLabel {
			v = s.name
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// statusFixtures reads the objects in testdata/status (multi-document YAML).
func statusFixtures(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob("testdata/status/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no status fixtures: %v", err)
	}
	var out []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := testenv.DecodeObjects(string(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, objs...)
	}
	return out
}

// operatorSamples are the manager's own series (internal/metrics) after it observed
// the fixture BankConnections and one failed and one successful refresh.
func operatorSamples(t *testing.T, fixtures []*unstructured.Unstructured) []sample {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m := opmetrics.NewConnections(reg)
	for _, u := range fixtures {
		if u.GetKind() != "BankConnection" {
			continue
		}
		data, err := u.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var bc bankingv1alpha1.BankConnection
		if err := yaml.UnmarshalStrict(data, &bc); err != nil {
			t.Fatalf("fixture %s is not a valid BankConnection: %v", u.GetName(), err)
		}
		m.Observe(&bc, time.Time{}) // the token's expiry comes from its Secret, which fixtures do not have
	}
	m.Refreshed(string(bankingv1alpha1.ProviderTrueLayer), errors.New("503"), bankingv1alpha1.ReasonProviderUnavailable)
	m.Refreshed(string(bankingv1alpha1.ProviderTrueLayer), nil, "")
	m.ProviderRequest(string(bankingv1alpha1.ProviderTrueLayer), "/data/v1/accounts", 503, time.Second)
	n := opmetrics.NewNotifications(reg)
	n.Outcome("tenant", string(bankingv1alpha1.NotificationConnectionReady), "delivered")
	n.Outcome("tenant", string(bankingv1alpha1.NotificationSyncCompleted), "timeout")
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			lbls := map[string]string{}
			for _, l := range mt.GetLabel() {
				lbls[l.GetName()] = l.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out = append(out, sample{f.GetName(), lbls, mt.GetCounter().GetValue()})
			case dto.MetricType_GAUGE:
				out = append(out, sample{f.GetName(), lbls, mt.GetGauge().GetValue()})
			case dto.MetricType_HISTOGRAM:
				out = append(out, sample{f.GetName() + "_count", lbls, float64(mt.GetHistogram().GetSampleCount())},
					sample{f.GetName() + "_sum", lbls, mt.GetHistogram().GetSampleSum()})
			default:
				t.Fatalf("unexpected metric type %s of %s", f.GetType(), f.GetName())
			}
		}
	}
	return out
}

// ksmConfig is the CustomResourceStateMetrics config from the rendered ConfigMap,
// decoded strictly into kube-state-metrics' own types.
func ksmConfig(t *testing.T) customresourcestate.Metrics {
	t.Helper()
	objs := mustRender(t, productionValues)
	cm := suffixed[corev1.ConfigMap](t, objs, "ConfigMap", "-kube-state-metrics")
	// kube-state-metrics ignores the top-level kind (its documentation writes it);
	// everything else must be a field it knows.
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(cm.Data["custom-resource-state.yaml"]), &doc); err != nil {
		t.Fatalf("kube-state-metrics config: %v", err)
	}
	if doc["kind"] != "CustomResourceStateMetrics" {
		t.Errorf("kind %v, want CustomResourceStateMetrics", doc["kind"])
	}
	delete(doc, "kind")
	data, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var cfg customresourcestate.Metrics
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		t.Fatalf("kube-state-metrics config: %v", err)
	}
	// FromConfig lower-cases metric types (the documentation writes Gauge, StateSet)
	// before compiling; it needs a live discoverer, so the tests do the same here.
	for i := range cfg.Spec.Resources {
		for j := range cfg.Spec.Resources[i].Metrics {
			m := &cfg.Spec.Resources[i].Metrics[j]
			m.Each.Type = metric.Type(strings.ToLower(string(m.Each.Type)))
		}
	}
	return cfg
}

// ksmSamples runs kube-state-metrics' custom-resource-state generator over the
// fixtures. It logs errors through klog instead of returning them, so they are
// captured and fail the test (a path that does not resolve, a value it cannot parse).
func ksmSamples(t *testing.T, fixtures []*unstructured.Unstructured) []sample {
	t.Helper()
	var logErrs []string
	klog.SetLogger(funcr.New(func(prefix, args string) {
		if strings.Contains(args, `"error"=`) {
			logErrs = append(logErrs, args)
		}
	}, funcr.Options{}))
	defer klog.ClearLogger()

	var out []sample
	for _, res := range ksmConfig(t).Spec.Resources {
		factory, err := customresourcestate.NewCustomResourceMetrics(res)
		if err != nil {
			t.Fatalf("%s: %v", res.GroupVersionKind, err)
		}
		for _, u := range fixtures {
			if u.GetKind() != res.GroupVersionKind.Kind || u.GroupVersionKind().Group != res.GroupVersionKind.Group {
				continue
			}
			for _, gen := range factory.MetricFamilyGenerators() {
				fam := gen.Generate(u)
				for _, m := range fam.Metrics {
					lbls := map[string]string{}
					for i, k := range m.LabelKeys {
						lbls[k] = m.LabelValues[i]
					}
					out = append(out, sample{fam.Name, lbls, m.Value})
				}
			}
		}
	}
	for _, e := range logErrs {
		t.Errorf("kube-state-metrics: %s", e)
	}
	return out
}

func TestKubeStateMetricsSeries(t *testing.T) {
	got := ksmSamples(t, statusFixtures(t))
	want := []sample{
		{"kube_customresource_bankconnection_status_condition", map[string]string{"namespace": "team-a", "name": "alice-monzo", "type": "ConsentExpiring", "reason": "ConsentExpiringSoon", "status": "True"}, 1},
		{"kube_customresource_bankconnection_status_condition", map[string]string{"namespace": "team-a", "name": "alice-monzo", "type": "Ready", "reason": "Authorized", "status": "False"}, 0},
		{"kube_customresource_bankconnection_status_condition", map[string]string{"namespace": "team-b", "name": "dave-lloyds", "type": "Ready", "reason": "ProviderUnavailable", "status": "Unknown"}, 1},
		{"kube_customresource_bankconnection_consent_expiry_timestamp_seconds", map[string]string{"namespace": "team-a", "name": "alice-monzo"}, float64(time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC).Unix())},
		{"kube_customresource_bankconnection_info", map[string]string{"namespace": "team-a", "name": "alice-monzo", "provider": "TrueLayer"}, 1},
		{"kube_customresource_syncjob_status_condition", map[string]string{"namespace": "team-a", "name": "alice-daily", "type": "Ready", "reason": "RunFailed", "status": "False"}, 1},
		{"kube_customresource_syncjob_next_schedule_timestamp_seconds", map[string]string{"namespace": "team-a", "name": "alice-daily"}, float64(time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC).Unix())},
		{"kube_customresource_syncjob_spec_suspend", map[string]string{"namespace": "team-b", "name": "new-job"}, 0},
		{"kube_customresource_syncjob_info", map[string]string{"namespace": "team-a", "name": "alice-daily", "connection": "alice-monzo", "schedule": "@every 6h"}, 1},
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if g.name == w.name && subset(w.labels, g.labels) {
				found = true
				if g.value != w.value {
					t.Errorf("%s%v = %v, want %v", w.name, w.labels, g.value, w.value)
				}
			}
		}
		if !found {
			t.Errorf("no series %s%v", w.name, w.labels)
		}
	}
	// An object without status yields no condition or timestamp series (and no errors).
	for _, g := range got {
		if g.labels["name"] == "new-job" && (strings.Contains(g.name, "condition") || strings.Contains(g.name, "timestamp")) {
			t.Errorf("series for a job without status: %s%v", g.name, g.labels)
		}
	}
}

func subset(want, got map[string]string) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

type alertRule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func renderedAlerts(t *testing.T) []alertRule {
	t.Helper()
	rules := testenv.Find(mustRender(t, productionValues), "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("want one PrometheusRule, got %d", len(rules))
	}
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	var out []alertRule
	for _, g := range groups {
		data, err := yaml.Marshal(g.(map[string]any)["rules"])
		if err != nil {
			t.Fatal(err)
		}
		var rs []alertRule
		if err := yaml.UnmarshalStrict(data, &rs); err != nil {
			t.Fatal(err)
		}
		out = append(out, rs...)
	}
	return out
}

// Every alert parses as PromQL, carries the annotations on-call needs, and every
// series selector in it matches a series that the operator or kube-state-metrics
// really produces for the fixtures: a renamed metric or label, or a condition reason
// that does not exist, fails here instead of never firing in production.
func TestAlerts(t *testing.T) {
	fixtures := statusFixtures(t)
	series := append(operatorSamples(t, fixtures), ksmSamples(t, fixtures)...)
	// up is written by Prometheus itself for every scrape target.
	series = append(series, sample{"up", map[string]string{"job": "consent-operator-metrics", "namespace": releaseNamespace}, 1})

	alerts := renderedAlerts(t)
	wantAlerts := []string{
		"ConsentOperatorConsentExpiringSoon", "ConsentOperatorConsentExpiredOrRevoked", "ConsentOperatorInvalidClientCredentials",
		"ConsentOperatorTokenRefreshFailing", "ConsentOperatorConnectionRefreshFailing",
		"ConsentOperatorSyncJobFailing", "ConsentOperatorSyncJobBudgetExhausted", "ConsentOperatorNotificationsFailing", "ConsentOperatorDown",
	}
	var names []string
	for _, a := range alerts {
		names = append(names, a.Alert)
	}
	if fmt.Sprint(names) != fmt.Sprint(wantAlerts) {
		t.Errorf("alerts %v, want %v", names, wantAlerts)
	}

	readme, err := os.ReadFile(repoPath(t, "charts", "consent-operator", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	p := parser.NewParser(parser.Options{})
	for _, a := range alerts {
		t.Run(a.Alert, func(t *testing.T) {
			expr, err := p.ParseExpr(a.Expr)
			if err != nil {
				t.Fatalf("PromQL: %v", err)
			}
			selectors := 0
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok {
					return nil
				}
				selectors++
				for _, s := range series {
					if s.matches(vs.LabelMatchers) {
						return nil
					}
				}
				t.Errorf("selector %s matches no series the operator or kube-state-metrics produce", vs)
				return nil
			})
			if selectors == 0 {
				t.Error("expression selects no series")
			}
			if sev := a.Labels["severity"]; sev != "warning" && sev != "critical" {
				t.Errorf("severity %q", sev)
			}
			if a.Labels["team"] != "payments" {
				t.Error("additionalRuleLabels not applied")
			}
			if _, err := time.ParseDuration(a.For); err != nil {
				t.Errorf("for: %v", err)
			}
			for _, k := range []string{"summary", "description", "runbook", "runbook_url"} {
				if strings.TrimSpace(a.Annotations[k]) == "" {
					t.Errorf("no %s annotation", k)
				}
			}
			if want := "README.md#" + strings.ToLower(a.Alert); !strings.HasSuffix(a.Annotations["runbook_url"], want) {
				t.Errorf("runbook_url %q does not end in %q", a.Annotations["runbook_url"], want)
			}
			// The runbook_url anchor must exist: GitHub derives it from the heading.
			if !strings.Contains(string(readme), "\n### "+a.Alert+"\n") {
				t.Errorf("chart README has no runbook section \"### %s\"", a.Alert)
			}
			checkAnnotationTemplates(t, a)
		})
	}
}

// checkAnnotationTemplates executes the annotations the way Prometheus does ($labels,
// $value and the humanize functions), so a template error surfaces here rather than
// as a broken notification.
func checkAnnotationTemplates(t *testing.T, a alertRule) {
	t.Helper()
	funcs := template.FuncMap{
		"humanizeTimestamp":  func(v float64) string { return time.Unix(int64(v), 0).UTC().String() },
		"humanizePercentage": func(v float64) string { return fmt.Sprintf("%.4g%%", v*100) },
	}
	data := struct {
		Labels map[string]string
		Value  float64
	}{Labels: map[string]string{"namespace": "team-a", "name": "alice-monzo", "reason": "ConsentRevoked", "provider": "TrueLayer"}, Value: 1.77e9}
	for k, text := range a.Annotations {
		tmpl, err := template.New(k).Funcs(funcs).Option("missingkey=error").
			Parse("{{$labels := .Labels}}{{$value := .Value}}" + text)
		if err != nil {
			t.Errorf("annotation %s: %v", k, err)
			continue
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, data); err != nil {
			t.Errorf("annotation %s: %v", k, err)
		}
		if strings.Contains(b.String(), "<no value>") {
			t.Errorf("annotation %s refers to a missing label: %s", k, b.String())
		}
	}
}
