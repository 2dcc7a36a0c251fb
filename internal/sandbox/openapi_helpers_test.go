package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/consent-operator/consent-operator/internal/providerdocs"
)

// openapiFile is TrueLayer's published OpenAPI document name: the contract, found
// by internal/providerdocs (TestMain has checked it is there).
func openapiFile(t testing.TB, name string) string {
	t.Helper()
	return providerdocs.File(t, providerdocs.TrueLayer+name)
}

// oas30 validates responses against an OpenAPI 3.0 document with kin-openapi.
type oas30 struct {
	doc    *openapi3.T
	prefix string // server path prefix not present in the document's paths
}

var (
	oasMu    sync.Mutex
	oasCache = map[string]*oas30{}
)

func loadOAS30(t testing.TB, name, prefix string) *oas30 {
	t.Helper()
	oasMu.Lock()
	defer oasMu.Unlock()
	if o, ok := oasCache[name]; ok {
		return o
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(openapiFile(t, name))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	o := &oas30{doc: doc, prefix: prefix}
	oasCache[name] = o
	return o
}

// check validates r as the answer of method+template (a path template of the
// document, without the server prefix): the status must be documented and
// the body must match the schema of that status and media type.
func (o *oas30) check(t testing.TB, method, template string, r response) {
	t.Helper()
	item := o.doc.Paths.Find(template)
	if item == nil {
		t.Fatalf("%s: path %s is not in the document", method, template)
	}
	op := item.GetOperation(strings.ToUpper(method))
	if op == nil {
		t.Fatalf("%s %s: no such operation in the document", method, template)
	}
	ref := op.Responses.Status(r.status)
	if ref == nil {
		ref = op.Responses.Default()
	}
	if ref == nil || ref.Value == nil {
		t.Fatalf("%s %s: status %d is not documented (body %s)", method, template, r.status, r.body)
	}
	if len(ref.Value.Content) == 0 {
		if len(r.body) != 0 {
			t.Fatalf("%s %s %d: documented without a body, got %s", method, template, r.status, r.body)
		}
		return
	}
	mt := mediaType(r.header.Get("Content-Type"))
	media := ref.Value.Content.Get(mt)
	if media == nil {
		t.Fatalf("%s %s %d: media type %q not documented (have %v)", method, template, r.status, mt, keys(ref.Value.Content))
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%s %s %d: body is not JSON: %v", method, template, r.status, err)
	}
	if err := media.Schema.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		t.Fatalf("%s %s %d: body does not match the schema: %v\nbody: %s", method, template, r.status, err, r.body)
	}
}

func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(mt)
}

func keys(c openapi3.Content) []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	return out
}

// oas31 validates bodies against component schemas of an OpenAPI 3.1
// document with a JSON Schema 2020-12 validator.
type oas31 struct {
	url string
	c   *jsonschema.Compiler
	mu  sync.Mutex
	sch map[string]*jsonschema.Schema
}

func loadOAS31(t testing.TB, name string) *oas31 {
	t.Helper()
	f, err := os.Open(openapiFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	u := "https://contract.invalid/" + name
	if err := c.AddResource(u, doc); err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	return &oas31{url: u, c: c, sch: map[string]*jsonschema.Schema{}}
}

// check validates a body against #/components/schemas/<component>.
func (o *oas31) check(t testing.TB, component string, body []byte) {
	t.Helper()
	if err := o.validate(component, body); err != nil {
		t.Fatalf("%v\nbody: %s", err, body)
	}
}

func (o *oas31) validate(component string, body []byte) error {
	o.mu.Lock()
	sch, ok := o.sch[component]
	if !ok {
		var err error
		sch, err = o.c.Compile(o.url + "#/components/schemas/" + component)
		if err != nil {
			o.mu.Unlock()
			return fmt.Errorf("compile %s: %w", component, err)
		}
		o.sch[component] = sch
	}
	o.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(body)))
	if err != nil {
		return fmt.Errorf("%s: body is not JSON: %w", component, err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("body does not match %s: %w", component, err)
	}
	return nil
}

var _ = context.Background
