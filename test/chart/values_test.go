package chart_test

import (
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
)

// Bad values must be refused before anything reaches the cluster, with a message that
// names the problem: by values.schema.json, or by the chart's own checks for
// combinations a schema cannot explain well.
func TestBadValuesAreRejected(t *testing.T) {
	tests := []struct {
		name      string
		files     []string
		overrides map[string]any
		wantErr   string
	}{
		{name: "unknown top-level key", overrides: map[string]any{"replicas": 2}, wantErr: "replicas"},
		{name: "typo in a nested key", overrides: map[string]any{"manager": map[string]any{"leaderElection": true}}, wantErr: "leaderElection"},
		{name: "replicaCount as a string", overrides: map[string]any{"replicaCount": "two"}, wantErr: "replicaCount"},
		{name: "unknown store type", overrides: map[string]any{"store": map[string]any{"type": "mysql"}}, wantErr: "/store/type"},
		{name: "postgres without a Secret", overrides: map[string]any{"store": map[string]any{"type": "postgres"}}, wantErr: "existingSecret"},
		{name: "sqlite with two replicas", overrides: map[string]any{"replicaCount": 2}, wantErr: "replicaCount"},
		{name: "public URL without scheme", overrides: map[string]any{"gateway": map[string]any{"publicURL": "consent.example.com"}}, wantErr: "publicURL"},
		{name: "duration without unit", overrides: map[string]any{"manager": map[string]any{"gracefulShutdownTimeout": "30"}}, wantErr: "gracefulShutdownTimeout"},
		{name: "log level", overrides: map[string]any{"manager": map[string]any{"log": map[string]any{"level": "verbose"}}}, wantErr: "/manager/log/level"},
		{name: "image digest", overrides: map[string]any{"image": map[string]any{"digest": "latest"}}, wantErr: "digest"},
		{name: "extraEnv overriding the DSN", overrides: map[string]any{"manager": map[string]any{"extraEnv": []any{map[string]any{"name": "CONSENT_OPERATOR_STORE_DSN", "value": "x"}}}}, wantErr: "extraEnv"},
		{name: "resources without requests", overrides: map[string]any{"resources": map[string]any{"requests": nil}}, wantErr: "requests"},
		{name: "PDB with one replica", overrides: map[string]any{"podDisruptionBudget": map[string]any{"enabled": true}}, wantErr: "replicaCount >= 2"},
		{name: "ingress without host", overrides: map[string]any{"gateway": map[string]any{"ingress": map[string]any{"enabled": true}}}, wantErr: "gateway.ingress.host"},
		{name: "provider CIDR", overrides: map[string]any{"networkPolicy": map[string]any{"egress": map[string]any{"providers": map[string]any{"cidrs": []any{"api.truelayer.com"}}}}}, wantErr: "/networkPolicy/egress/providers/cidrs/0"},
		{name: "metrics reader subject kind", overrides: map[string]any{"metrics": map[string]any{"reader": map[string]any{"subjects": []any{map[string]any{"kind": "Pod", "name": "prometheus"}}}}}, wantErr: "/metrics/reader/subjects/0/kind"},
		{name: "two replicas without leader election", files: []string{productionValues}, overrides: map[string]any{"manager": map[string]any{"leaderElect": false}}, wantErr: "leaderElect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderChart(t, tt.files, tt.overrides)
			if err == nil {
				t.Fatal("rendered without error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error does not mention %q:\n%v", tt.wantErr, err)
			}
		})
	}
}

// The value files the tests use are themselves valid (a control for the table above).
func TestGoodValuesAreAccepted(t *testing.T) {
	overrides := []map[string]any{
		{"image": map[string]any{"digest": "sha256:" + strings.Repeat("ab", 32)}},
		{"store": map[string]any{"sqlite": map[string]any{"persistence": map[string]any{"enabled": false}}}},
		{"metrics": map[string]any{"enabled": false}, "networkPolicy": map[string]any{"enabled": true}},
		{"manager": map[string]any{"watchNamespace": "team-a", "providers": map[string]any{"codatURL": "http://127.0.0.1:9000"}}},
	}
	for _, o := range overrides {
		if _, err := renderChart(t, nil, o); err != nil {
			t.Errorf("%v: %v", o, err)
		}
	}
}

// helm lint runs the same checks `helm lint` does (Chart.yaml, templates, schema).
func TestHelmLint(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			vals := map[string]any{}
			if len(vs.files) > 0 {
				var err error
				if vals, err = loadValuesFile(vs.files[0]); err != nil {
					t.Fatal(err)
				}
			}
			l := lint.RunAll(repoPath(t, "charts", "consent-operator"), vals, releaseNamespace)
			for _, m := range l.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				} else {
					t.Logf("helm lint: %s", m)
				}
			}
		})
	}
}
