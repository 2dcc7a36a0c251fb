// Package chart_test renders charts/consent-operator with Helm's Go library and checks
// the result: CRDs equal to config/crd/bases, RBAC equal to the generated role, the
// Deployment's security settings, the values schema, the alerts and the
// kube-state-metrics config, and that every object passes a server-side dry run on a
// real kube-apiserver.
package chart_test

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/consent-operator/consent-operator/internal/repo"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

const (
	releaseName      = "consent-operator"
	releaseNamespace = "consent-operator-system"
	// productionValues is relative to this package's directory.
	productionValues = "testdata/production-values.yaml"
)

// valueSets are the configurations every structural test runs against.
var valueSets = []struct {
	name  string
	files []string
}{
	{name: "defaults"},
	{name: "production", files: []string{productionValues}},
}

func repoPath(t testing.TB, elem ...string) string {
	t.Helper()
	p, err := repo.Path(elem...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// renderChart renders the chart as `helm template` would: values files merged over
// values.yaml, validated against values.schema.json, templates executed. overrides,
// when not nil, is merged last (like --set).
func renderChart(t testing.TB, files []string, overrides map[string]any) ([]*unstructured.Unstructured, error) {
	t.Helper()
	ch, err := loader.Load(repoPath(t, "charts", "consent-operator"))
	if err != nil {
		return nil, fmt.Errorf("loading chart: %w", err)
	}
	vals := map[string]any{}
	for _, f := range files {
		v, err := loadValuesFile(f)
		if err != nil {
			return nil, err
		}
		vals = loader.MergeMaps(vals, v)
	}
	if overrides != nil {
		vals = loader.MergeMaps(vals, overrides)
	}
	top, err := util.ToRenderValuesWithSchemaValidation(ch, vals,
		common.ReleaseOptions{Name: releaseName, Namespace: releaseNamespace, Revision: 1, IsInstall: true}, nil, false)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	out, err := engine.Render(ch, top)
	if err != nil {
		return nil, fmt.Errorf("rendering: %w", err)
	}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	var objs []*unstructured.Unstructured
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		docs, err := testenv.DecodeObjects(out[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		objs = append(objs, docs...)
	}
	return objs, nil
}

func loadValuesFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading values: %w", err)
	}
	v, err := loader.LoadValues(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return v, nil
}

// mustRender renders and fails the test on error.
func mustRender(t testing.TB, files ...string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := renderChart(t, files, nil)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func kinds(objs []*unstructured.Unstructured) map[string]int {
	m := map[string]int{}
	for _, o := range objs {
		m[o.GetKind()]++
	}
	return m
}

func TestRenderedKinds(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  map[string]int
	}{
		{
			name: "defaults",
			want: map[string]int{
				"CustomResourceDefinition": 2, "ServiceAccount": 2, "ClusterRole": 3, "ClusterRoleBinding": 2,
				"Role": 2, "RoleBinding": 2, "Deployment": 2, "PersistentVolumeClaim": 1, "Service": 4,
				"NetworkPolicy": 2,
			},
		},
		{
			name:  "production",
			files: []string{productionValues},
			want: map[string]int{
				"CustomResourceDefinition": 2, "ServiceAccount": 2, "ClusterRole": 4, "ClusterRoleBinding": 4,
				"Role": 2, "RoleBinding": 2, "Deployment": 2, "Service": 4, "Ingress": 1, "ServiceMonitor": 1,
				"PrometheusRule": 1, "ConfigMap": 1, "PodDisruptionBudget": 1, "NetworkPolicy": 2,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := kinds(mustRender(t, tt.files...))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("rendered kinds:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestObjectsAreNamespacedToTheRelease(t *testing.T) {
	clusterScoped := map[string]bool{"CustomResourceDefinition": true, "ClusterRole": true, "ClusterRoleBinding": true}
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			for _, o := range mustRender(t, vs.files...) {
				ns := o.GetNamespace()
				if clusterScoped[o.GetKind()] != (ns == "") {
					t.Errorf("%s %s: namespace %q", o.GetKind(), o.GetName(), ns)
				}
				if ns != "" && ns != releaseNamespace {
					t.Errorf("%s %s: namespace %q, want the release namespace", o.GetKind(), o.GetName(), ns)
				}
				if o.GetLabels()["app.kubernetes.io/instance"] != releaseName {
					t.Errorf("%s %s: no app.kubernetes.io/instance label", o.GetKind(), o.GetName())
				}
			}
		})
	}
}
