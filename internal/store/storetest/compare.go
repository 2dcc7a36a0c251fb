package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

// canonJSON re-encodes a JSON document so that documents equal as JSON are
// equal as bytes (PostgreSQL's jsonb reorders keys and adds spaces).
func canonJSON(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("stored JSON %q does not parse: %v", raw, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("re-encode JSON: %v", err)
	}
	return out
}

// canonMeta replaces every json.RawMessage field named Meta of the structs
// in list (a pointer to a slice of structs) with its canonical form.
func canonMeta[T any](t *testing.T, list []T) []T {
	t.Helper()
	out := make([]T, len(list))
	copy(out, list)
	for i := range out {
		f := reflect.ValueOf(&out[i]).Elem().FieldByName("Meta")
		f.Set(reflect.ValueOf(canonJSON(t, f.Interface().(json.RawMessage))))
	}
	return out
}

// equalRecords fails the test unless got and want are equal, comparing Meta
// as JSON.
func equalRecords[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	g, w := canonMeta(t, got), canonMeta(t, want)
	if len(g) != len(w) {
		t.Fatalf("%s: got %d records, want %d\n got: %+v\nwant: %+v", what, len(g), len(w), g, w)
	}
	for i := range g {
		if !reflect.DeepEqual(g[i], w[i]) {
			t.Fatalf("%s[%d] differs\n got: %+v\nwant: %+v", what, i, g[i], w[i])
		}
	}
}

func wantResult(t *testing.T, what string, got, want store.BatchResult) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func counts(t *testing.T, s store.Store, key store.ConnectionKey) store.Counts {
	t.Helper()
	c, err := s.Counts(t.Context(), key)
	must(t, "counts", err)
	return c
}
