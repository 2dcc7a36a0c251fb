package codat

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/consent-operator/consent-operator/internal/providerdocs"
)

// The Codat OpenAPI documents are the contract; responses are validated
// against their component schemas (OpenAPI 3.1 schemas are JSON Schema 2020-12).
// internal/providerdocs finds them; without them TestMain stops the package.
func TestMain(m *testing.M) { providerdocs.Main(m, providerdocs.Codat) }

const (
	platformDoc = "Codat-Platform.json"
	bankingDoc  = "Codat-Banking.json"
)

type contract struct {
	once     sync.Once
	compiler *jsonschema.Compiler
	err      error
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
}

var codatContract contract

func (c *contract) load() error {
	c.once.Do(func() {
		comp := jsonschema.NewCompiler()
		comp.DefaultDraft(jsonschema.Draft2020)
		// Ids and URIs are part of the contract (format uuid, uri,
		// uri-reference), so formats are asserted.
		comp.AssertFormat()
		dir, err := providerdocs.Dir()
		if err != nil {
			c.err = err
			return
		}
		for _, name := range []string{platformDoc, bankingDoc} {
			raw, err := os.ReadFile(filepath.Join(dir, providerdocs.Codat+name))
			if err != nil {
				c.err = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				c.err = err
				return
			}
			if err := comp.AddResource("file:///codat/"+name, doc); err != nil {
				c.err = err
				return
			}
		}
		c.compiler = comp
		c.compiled = map[string]*jsonschema.Schema{}
	})
	return c.err
}

// schema compiles (once) the named component schema of doc.
func (c *contract) schema(t testing.TB, doc, name string) *jsonschema.Schema {
	t.Helper()
	if err := c.load(); err != nil {
		t.Fatalf("loading the Codat OpenAPI documents: %v", err)
	}
	loc := "file:///codat/" + doc + "#/components/schemas/" + name
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.compiled[loc]; ok {
		return s
	}
	s, err := c.compiler.Compile(loc)
	if err != nil {
		t.Fatalf("compiling schema %s: %v", loc, err)
	}
	c.compiled[loc] = s
	return s
}

// assertSchema validates a JSON body against a component schema.
func assertSchema(t testing.TB, doc, name string, body []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, truncate(body))
	}
	if err := codatContract.schema(t, doc, name).Validate(inst); err != nil {
		t.Fatalf("response does not match %s schema %s: %v\nbody: %s", doc, name, err, truncate(body))
	}
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "..."
	}
	return string(b)
}

// TestContractSchemasRejectWrongShapes shows the validation can fail: bodies
// that break the contract are refused.
func TestContractSchemasRejectWrongShapes(t *testing.T) {
	cases := []struct {
		doc, schema, body string
	}{
		{platformDoc, "Connection", `{"id":"not-a-uuid","integrationId":"b9a6b8d2-6f3c-4f53-9c36-3b0f6c1d7e11","sourceId":"5d7c4a3e-0c1b-4f2a-9e8d-1a2b3c4d5e01","platformName":"x","linkUrl":"http://h/x","status":"Linked","created":"2022-01-01T00:00:00Z","sourceType":"Banking"}`},
		{platformDoc, "Connection", `{"id":"ee2eb431-c0fa-4dc9-93fa-d29781c12bcd","integrationId":"b9a6b8d2-6f3c-4f53-9c36-3b0f6c1d7e11","sourceId":"5d7c4a3e-0c1b-4f2a-9e8d-1a2b3c4d5e01","platformName":"x","linkUrl":"http://h/x","status":"Linked","created":"2022-01-01T00:00:00Z","sourceType":"Banking","extra":1}`},
		{platformDoc, "Connection", `{"id":"ee2eb431-c0fa-4dc9-93fa-d29781c12bcd","integrationId":"b9a6b8d2-6f3c-4f53-9c36-3b0f6c1d7e11","sourceId":"5d7c4a3e-0c1b-4f2a-9e8d-1a2b3c4d5e01","platformName":"x","linkUrl":"http://h/x","status":"Connected","created":"2022-01-01T00:00:00Z","sourceType":"Banking"}`},
		{platformDoc, "Integrations", `{"results":[],"pageNumber":1,"pageSize":100,"totalResults":0}`},
		{platformDoc, "PullOperation", `{"id":"ee2eb431-c0fa-4dc9-93fa-d29781c12bcd","status":"Complete"}`},
		{bankingDoc, "Transaction", `{"id":"1","accountId":"2","currency":"GBP","code":"Shopping"}`},
		{bankingDoc, "Account", `{"id":"1","name":"n","type":"Debit","balance":{"current":1,"overdraft":2},"identifiers":{"type":"Depository"},"currency":"GBP","institution":{}}`},
	}
	for _, tc := range cases {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(tc.body)))
		if err != nil {
			t.Fatal(err)
		}
		if err := codatContract.schema(t, tc.doc, tc.schema).Validate(inst); err == nil {
			t.Errorf("%s %s accepted an invalid body: %s", tc.doc, tc.schema, tc.body)
		}
	}
}
