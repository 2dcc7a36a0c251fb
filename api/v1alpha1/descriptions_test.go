package v1alpha1_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/consent-operator/consent-operator/internal/repo"
)

// TestDescriptionsBreakOnlyBetweenSentences: kubectl explain keeps a description's line
// breaks and wraps long lines on top of them, so a Go doc comment wrapped mid-sentence
// shows as a sentence cut in two ("When set,\n the\n user skips"). The API types keep
// one sentence per line; this checks the generated CRDs, where controller-gen puts them.
func TestDescriptionsBreakOnlyBetweenSentences(t *testing.T) {
	dir, err := repo.Path("config", "crd", "bases")
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(paths) != 2 {
		t.Fatalf("CRDs in %s: %v, %v", dir, paths, err)
	}
	checked := 0
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(raw, &crd); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, v := range crd.Spec.Versions {
			walkDescriptions(crd.Spec.Names.Kind, v.Schema.OpenAPIV3Schema, func(field, desc string) {
				checked++
				if desc == "" {
					t.Errorf("%s has no description", field)
				}
				for _, line := range strings.Split(desc, "\n") {
					if !strings.HasSuffix(line, ".") {
						t.Errorf("%s: the line %q ends inside a sentence", field, line)
					}
				}
			})
		}
	}
	if checked < 100 {
		t.Fatalf("checked %d descriptions: the walk missed the schemas", checked)
	}
}

// walkDescriptions calls fn with the description of s and of every field below it,
// except those written upstream (apiVersion, kind, metadata, metav1.Condition).
func walkDescriptions(field string, s *apiextensionsv1.JSONSchemaProps, fn func(field, desc string)) {
	if s == nil {
		return
	}
	fn(field, s.Description)
	for name, p := range s.Properties {
		if name == "apiVersion" || name == "kind" || name == "metadata" {
			continue
		}
		if name == "conditions" {
			continue // []metav1.Condition: Kubernetes' own text
		}
		walkDescriptions(field+"."+name, &p, fn)
	}
	if s.Items != nil && s.Items.Schema != nil {
		// An item type's description, when it has one, is printed after its field's;
		// a list of strings or times needs none.
		items := *s.Items.Schema
		if items.Description == "" {
			for name, p := range items.Properties {
				walkDescriptions(field+"[]."+name, &p, fn)
			}
			return
		}
		walkDescriptions(field+"[]", &items, fn)
	}
}
