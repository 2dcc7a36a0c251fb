package sqlcore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// item names a record of a batch in error messages; formatting is deferred
// to the error path, which keeps it off the per-row cost of large batches.
type item struct {
	kind  string
	index int
}

func (i item) String() string { return i.kind + " " + strconv.Itoa(i.index) }

// TimeLayout is how instants read back from SelectExpr(…, Time) look, and
// how SQLite stores them: fixed width so that text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// NormTime brings t to the store's resolution: UTC, whole microseconds.
// PostgreSQL would round to microseconds; truncating first makes both
// databases return exactly what the other does.
func NormTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// ParseTime reads a TimeLayout string.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

// Stored JSON is read by people and other programs straight from the database
// (SQLite keeps it as text), so it is written without encoding/json's HTML
// escaping: "M&S <Foodhall>" stays as it is, not "M\u0026S \u003cFoodhall\u003e".

// normObject validates a meta document: absent, null or a JSON object.
// It returns the compact form without HTML escapes, or nil for absent/null.
func normObject(raw json.RawMessage, what item) ([]byte, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, nil
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: %s meta is not a JSON object", store.ErrInvalid, what)
	}
	// Compact validates as it goes: one pass over the document.
	buf := bytes.NewBuffer(make([]byte, 0, len(trimmed)))
	if err := json.Compact(buf, trimmed); err != nil {
		return nil, fmt.Errorf("%w: %s meta is not valid JSON: %v", store.ErrInvalid, what, err)
	}
	return unescapeHTML(buf.Bytes()), nil
}

var htmlEscapes = map[string]byte{"003c": '<', "003e": '>', "0026": '&'}

// unescapeHTML turns the \u003c, \u003e and \u0026 escapes of valid JSON (what
// json.Marshal writes for <, > and &, so most producers' meta has them) back
// into the characters. Every backslash of valid JSON starts an escape inside a
// string, so escapes are stepped over whole and "\\u0026" is left alone.
func unescapeHTML(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b // the common case: nothing to do, no copy
	}
	out := b[:0] // never longer than the input, so it is rewritten in place
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+5 < len(b) {
			if c, ok := htmlEscapes[strings.ToLower(string(b[i+2:i+6]))]; ok {
				out, i = append(out, c), i+5
				continue
			}
		}
		out, i = append(out, b[i], b[i+1]), i+1
	}
	return out
}

// jsonList encodes a list column; an empty list is stored as NULL and reads
// back as nil.
func jsonList[T any](list []T) ([]byte, error) {
	if len(list) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(list); err != nil {
		return nil, fmt.Errorf("encode list: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func checkAmounts(what item, amounts ...store.Amount) error {
	for _, a := range amounts {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// canon is the amount as written to the database (see Amount.Canonical).
func canon(a store.Amount) store.Amount { return a.Canonical() }

// encodeRow encodes logical values (in t.Columns order) for the driver.
func encodeRow(d Dialect, t *Table, vals ...any) []any {
	if len(vals) != len(t.Columns) {
		panic(fmt.Sprintf("sqlcore: %s row has %d values for %d columns", t.Name, len(vals), len(t.Columns)))
	}
	for i, c := range t.Columns {
		vals[i] = d.Encode(c.Kind, vals[i])
	}
	return vals
}

// keyedRows collects rows unique by key, the last occurrence winning, and
// returns them sorted by key so that concurrent writers lock rows in the
// same order.
type keyedRows struct {
	index map[string]int
	keys  []string
	rows  [][]any
}

func newKeyedRows(n int) *keyedRows {
	return &keyedRows{index: make(map[string]int, n)}
}

func (k *keyedRows) put(key string, row []any) {
	if i, ok := k.index[key]; ok {
		k.rows[i] = row
		return
	}
	k.index[key] = len(k.rows)
	k.keys = append(k.keys, key)
	k.rows = append(k.rows, row)
}

func (k *keyedRows) sorted() [][]any {
	order := make([]int, len(k.rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(k.keys[a], k.keys[b]) })
	out := make([][]any, len(order))
	for i, j := range order {
		out[i] = k.rows[j]
	}
	return out
}

// compositeKey joins key parts with a separator that cannot occur in them
// after escaping, so ("a\x00", "b") and ("a", "\x00b") stay distinct.
func compositeKey(parts ...string) string {
	var b bytes.Buffer
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			if p[i] == 0 || p[i] == 1 {
				b.WriteByte(1)
			}
			b.WriteByte(p[i])
		}
		b.WriteByte(0)
	}
	return b.String()
}
