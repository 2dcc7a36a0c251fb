package chart_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/consent-operator/consent-operator/internal/testenv"
)

// The chart ships a copy of config/crd/bases (make manifests copies it); a stale copy
// would install an old schema.
func TestCRDFilesAreCopiesOfConfig(t *testing.T) {
	want, err := filepath.Glob(repoPath(t, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(want) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	got, err := filepath.Glob(repoPath(t, "charts", "consent-operator", "files", "crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("chart has %d CRD files, config/crd/bases %d", len(got), len(want))
	}
	for _, w := range want {
		a, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(repoPath(t, "charts", "consent-operator", "files", "crds", filepath.Base(w)))
		if err != nil {
			t.Errorf("%v (run: cp config/crd/bases/*.yaml charts/consent-operator/files/crds/)", err)
			continue
		}
		if !bytes.Equal(a, b) {
			t.Errorf("charts/consent-operator/files/crds/%s differs from config/crd/bases; run: cp config/crd/bases/*.yaml charts/consent-operator/files/crds/", filepath.Base(w))
		}
	}
}

// The rendered CRDs must equal the generated ones except for the chart's labels and
// the keep policy: the template goes through fromYaml/toYaml, which must not lose or
// change anything in the schema.
func TestRenderedCRDsEqualConfig(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			crds := testenv.Find(mustRender(t, vs.files...), "CustomResourceDefinition")
			want := loadConfigCRDs(t)
			if len(crds) != len(want) {
				t.Fatalf("rendered %d CRDs, config/crd/bases has %d", len(crds), len(want))
			}
			for _, crd := range crds {
				if got := crd.GetAnnotations()["helm.sh/resource-policy"]; got != "keep" {
					t.Errorf("%s: helm.sh/resource-policy = %q, want keep (CRDs must survive helm uninstall)", crd.GetName(), got)
				}
				w, ok := want[crd.GetName()]
				if !ok {
					t.Errorf("rendered CRD %s is not in config/crd/bases", crd.GetName())
					continue
				}
				got := crd.DeepCopy()
				got.SetLabels(nil)
				ann := got.GetAnnotations()
				delete(ann, "helm.sh/resource-policy")
				got.SetAnnotations(ann)
				if !reflect.DeepEqual(got.Object, w.Object) {
					t.Errorf("%s: rendered CRD differs from config/crd/bases", crd.GetName())
				}
			}
		})
	}
}

func TestCRDsCanBeLeftOut(t *testing.T) {
	objs, err := renderChart(t, nil, map[string]any{"crds": map[string]any{"enabled": false}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(testenv.Find(objs, "CustomResourceDefinition")); n != 0 {
		t.Errorf("crds.enabled=false rendered %d CRDs", n)
	}
}

func loadConfigCRDs(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(repoPath(t, "config", "crd", "bases", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*unstructured.Unstructured{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := testenv.DecodeObjects(string(data))
		if err != nil || len(objs) != 1 {
			t.Fatalf("%s: want one object: %v", f, err)
		}
		out[objs[0].GetName()] = objs[0]
	}
	return out
}
