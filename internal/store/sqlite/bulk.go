package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/consent-operator/consent-operator/internal/store/internal/sqlcore"
)

// maxBindings stays under SQLite's default limit of 32766 bound parameters
// per statement.
const (
	maxBindings  = 30000
	maxChunkRows = 500
)

// tx is a database/sql transaction with multi-row INSERT bulk writes.
type tx struct {
	*sql.Tx
}

func (t tx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.Tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t tx) Query(ctx context.Context, query string, args ...any) (sqlcore.Rows, error) {
	r, err := t.Tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func chunkRows(columns int) int {
	return min(maxChunkRows, maxBindings/columns)
}

// Upsert writes the batch in chunks of multi-row INSERT … ON CONFLICT. The
// whole batch is in the caller's transaction, so chunking never leaves part
// of it behind. SQLite cannot tell inserted from updated rows of an upsert,
// so each chunk first counts the keys that already exist; the transaction
// holds the write lock, so nothing changes between the count and the write.
func (t tx) Upsert(ctx context.Context, tbl *sqlcore.Table, rows [][]any) (int, int, error) {
	per := chunkRows(len(tbl.Columns))
	var inserted, updated int
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		existing := 0
		if len(tbl.Update) > 0 {
			n, err := t.countExisting(ctx, tbl, chunk)
			if err != nil {
				return 0, 0, err
			}
			existing = n
		}
		affected, err := t.Exec(ctx, upsertSQL(tbl, len(chunk)), flatten(chunk)...)
		if err != nil {
			return 0, 0, fmt.Errorf("insert into %s: %w", tbl.Name, err)
		}
		fresh := len(chunk) - existing
		if len(tbl.Update) == 0 {
			fresh = int(affected)
		}
		inserted += fresh
		updated += int(affected) - fresh
	}
	return inserted, updated, nil
}

// countExisting counts the chunk's keys already in the table.
func (t tx) countExisting(ctx context.Context, tbl *sqlcore.Table, chunk [][]any) (int, error) {
	idx := make([]int, len(tbl.Key))
	for i, k := range tbl.Key {
		idx[i] = columnIndex(tbl, k)
	}
	args := make([]any, 0, len(chunk)*len(idx))
	for _, r := range chunk {
		for _, i := range idx {
			args = append(args, r[i])
		}
	}
	query := fmt.Sprintf("SELECT count(*) FROM %s WHERE (%s) IN (VALUES %s)",
		quote(tbl.Name), strings.Join(quoteAll(tbl.Key), ", "), valuesList(len(chunk), len(idx)))
	var n int
	if err := t.Tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count existing %s keys: %w", tbl.Name, err)
	}
	return n, nil
}

// upsertSQL overwrites the Update columns of an existing key only when one
// of them differs, so a re-run of the same batch changes nothing.
func upsertSQL(tbl *sqlcore.Table, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES %s ON CONFLICT (%s) ",
		quote(tbl.Name), strings.Join(quoteAll(tbl.ColumnNames()), ", "),
		valuesList(n, len(tbl.Columns)), strings.Join(quoteAll(tbl.Key), ", "))
	if len(tbl.Update) == 0 {
		b.WriteString("DO NOTHING")
		return b.String()
	}
	set := make([]string, 0, len(tbl.Update)+1)
	changed := make([]string, 0, len(tbl.Update))
	for _, c := range quoteAll(tbl.Update) {
		set = append(set, c+" = excluded."+c)
		changed = append(changed, fmt.Sprintf("%s.%s IS NOT excluded.%s", quote(tbl.Name), c, c))
	}
	if tbl.Touch {
		set = append(set, `"updated_at" = `+dialect{}.Now())
	}
	fmt.Fprintf(&b, "DO UPDATE SET %s WHERE %s", strings.Join(set, ", "), strings.Join(changed, " OR "))
	return b.String()
}

// Insert writes rows that cannot conflict, in multi-row INSERT chunks.
func (t tx) Insert(ctx context.Context, tbl *sqlcore.Table, rows [][]any) error {
	per := chunkRows(len(tbl.Columns))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		query := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", quote(tbl.Name),
			strings.Join(quoteAll(tbl.ColumnNames()), ", "), valuesList(len(chunk), len(tbl.Columns)))
		if _, err := t.Exec(ctx, query, flatten(chunk)...); err != nil {
			return fmt.Errorf("insert into %s: %w", tbl.Name, err)
		}
	}
	return nil
}

// valuesList is "(?, ?), (?, ?)" for n rows of width columns.
func valuesList(n, width int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
}

func flatten(rows [][]any) []any {
	if len(rows) == 0 {
		return nil
	}
	out := make([]any, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func columnIndex(tbl *sqlcore.Table, name string) int {
	for i, c := range tbl.Columns {
		if c.Name == name {
			return i
		}
	}
	panic("sqlite: table " + tbl.Name + " has no column " + name)
}

func quote(ident string) string { return `"` + ident + `"` }

func quoteAll(idents []string) []string {
	out := make([]string, len(idents))
	for i, s := range idents {
		out[i] = quote(s)
	}
	return out
}
