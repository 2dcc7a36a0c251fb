package dataapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

var update = flag.Bool("update", false, "rewrite openapi.json from the routes and views")

// TestOpenAPIDocumentIsCurrent: the checked-in, served document is what the routes
// and views generate (go generate ./internal/dataapi rewrites it).
func TestOpenAPIDocumentIsCurrent(t *testing.T) {
	doc, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("openapi.json", doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(doc, openAPIDocument) {
		t.Fatal("openapi.json is stale: run go generate ./internal/dataapi")
	}
}

func loadDocument(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("loading openapi.json: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// concrete fills a documented path's parameters.
func concrete(path string) string {
	return strings.NewReplacer("{namespace}", "team-a", "{name}", "alice-monzo", "{userRef}", "alice").Replace(path)
}

// TestEveryServedRouteIsDocumented: each operation of the document reaches a
// handler of the mux with the same pattern, and every pattern the mux serves is
// an operation of the document.
func TestEveryServedRouteIsDocumented(t *testing.T) {
	doc := loadDocument(t)
	mux := (&Server{}).Handler().(*http.ServeMux)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			pattern := method + " " + path
			documented[pattern] = true
			_, got := mux.Handler(httptest.NewRequest(method, concrete(path), nil))
			if got != pattern {
				t.Errorf("documented %s is served by %q", pattern, got)
			}
		}
	}
	served := []string{"GET " + OpenAPIPath}
	for _, rt := range routes() {
		served = append(served, rt.pattern())
	}
	for _, p := range served {
		if !documented[p] {
			t.Errorf("the mux serves %s, the document does not list it", p)
		}
	}
	if len(served) != len(documented) {
		t.Errorf("%d operations served, %d documented", len(served), len(documented))
	}
	if len(served) < 20 {
		t.Fatalf("only %d operations: the route table lost some", len(served))
	}
}

// TestAnswersMatchTheDocument calls every operation over fixture data and checks
// the answer against the document's schema of its 200 response, and refusals
// against Problem.
func TestAnswersMatchTheDocument(t *testing.T) {
	doc := loadDocument(t)
	f := newFixture(t)
	for _, rt := range routes() {
		if rt.method == http.MethodDelete {
			continue // erases the fixture: TestEraseUser
		}
		path := concrete(rt.prefix + rt.path)
		t.Run(rt.id, func(t *testing.T) {
			code, body := f.do(rt.method, path, tokenApp)
			if code != http.StatusOK {
				t.Fatalf("%s %s: %d %s", rt.method, path, code, body)
			}
			validate(t, doc, rt.prefix+rt.path, rt.method, "200", body)
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			if items, ok := v["items"].([]any); ok && len(items) == 0 {
				t.Fatalf("%s answered no items: the fixture has some", rt.id)
			}
			code, body = f.do(rt.method, path, "")
			if code != http.StatusUnauthorized {
				t.Fatalf("without a token: %d", code)
			}
			validate(t, doc, rt.prefix+rt.path, rt.method, "401", body)
		})
	}
}

func validate(t *testing.T, doc *openapi3.T, path, method, status string, body []byte) {
	t.Helper()
	if err := schemaError(doc, path, method, status, body); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
}

// schemaError checks body against the document's schema of one answer.
func schemaError(doc *openapi3.T, path, method, status string, body []byte) error {
	op := doc.Paths.Find(path).GetOperation(method)
	if op == nil {
		return fmt.Errorf("%s %s is not in the document", method, path)
	}
	resp := op.Responses.Value(status)
	if resp == nil {
		return fmt.Errorf("%s %s documents no %s answer", method, path, status)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s %s: answer is not JSON: %w", method, path, err)
	}
	if err := resp.Value.Content.Get("application/json").Schema.Value.VisitJSON(v); err != nil {
		return fmt.Errorf("%s %s: %s answer does not match its schema: %w", method, path, status, err)
	}
	return nil
}

// TestSchemasRefuseWhatTheyDoNotDescribe: the check above has teeth.
func TestSchemasRefuseWhatTheyDoNotDescribe(t *testing.T) {
	doc := loadDocument(t)
	path := connectionPrefix + "/transactions"
	for _, body := range []string{
		`{"items":[{"connection":"c","connectionUID":"u","accountId":"a","timestamp":"2026-01-01T00:00:00Z","amount":"1","bogus":1}]}`,
		`{"items":[{"connection":"c","connectionUID":"u","accountId":"a","amount":"1"}]}`,
		`{"items":"none"}`,
	} {
		if schemaError(doc, path, "GET", "200", []byte(body)) == nil {
			t.Errorf("the schema accepts %s", body)
		}
	}
}
