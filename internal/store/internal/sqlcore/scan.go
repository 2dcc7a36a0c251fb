package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// selectList is the SELECT list reading all columns of t in order.
func selectList(d Dialect, t *Table) string {
	exprs := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		exprs[i] = d.SelectExpr(c.Name, c.Kind)
	}
	return strings.Join(exprs, ", ")
}

// row is one scanned row of a table, read by column name. Decoding errors
// are collected and reported once by err.
type row struct {
	t     *Table
	texts []string
	ints  []int64
	nulls []sql.NullString
	dests []any
	bad   error
}

func newRow(t *Table) *row {
	r := &row{
		t:     t,
		texts: make([]string, len(t.Columns)),
		ints:  make([]int64, len(t.Columns)),
		nulls: make([]sql.NullString, len(t.Columns)),
		dests: make([]any, len(t.Columns)),
	}
	for i, c := range t.Columns {
		switch c.Kind {
		case Text:
			r.dests[i] = &r.texts[i]
		case Int:
			r.dests[i] = &r.ints[i]
		default:
			r.dests[i] = &r.nulls[i]
		}
	}
	return r
}

func (r *row) text(col string) string { return r.texts[r.t.index(col)] }
func (r *row) int(col string) int64   { return r.ints[r.t.index(col)] }

func (r *row) time(col string) time.Time {
	v := r.nulls[r.t.index(col)]
	if !v.Valid {
		return time.Time{}
	}
	t, err := ParseTime(v.String)
	if err != nil && r.bad == nil {
		r.bad = fmt.Errorf("%s.%s: %w", r.t.Name, col, err)
	}
	return t
}

func (r *row) amount(col string) store.Amount {
	return store.Amount(r.nulls[r.t.index(col)].String)
}

func (r *row) json(col string) json.RawMessage {
	v := r.nulls[r.t.index(col)]
	if !v.Valid {
		return nil
	}
	return json.RawMessage(v.String)
}

// list decodes a JSON list column into out (left untouched when NULL).
func (r *row) list(col string, out any) {
	raw := r.json(col)
	if raw == nil {
		return
	}
	if err := json.Unmarshal(raw, out); err != nil && r.bad == nil {
		r.bad = fmt.Errorf("%s.%s: %w", r.t.Name, col, err)
	}
}

func (r *row) owner() store.Owner {
	return store.Owner{
		Namespace: r.text("namespace"), Connection: r.text("connection"), UID: r.text("connection_uid"),
		UserRef: r.text("user_ref"), Provider: r.text("provider"),
	}
}

// scanAll runs query (selecting selectList(t)) and calls fn for each row.
func (c *Core) scanAll(ctx context.Context, t *Table, query string, args []any, fn func(*row) error) error {
	rows, err := c.b.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	defer rows.Close()
	r := newRow(t)
	for rows.Next() {
		if err := rows.Scan(r.dests...); err != nil {
			return fmt.Errorf("read %s: %w", t.Name, err)
		}
		r.bad = nil
		if err := fn(r); err != nil {
			return err
		}
		if r.bad != nil {
			return r.bad
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	return nil
}
