package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/consent-operator/consent-operator/internal/store/internal/sqlcore"
)

// tx is a pgx transaction with COPY-based bulk writes.
type tx struct {
	pgx.Tx
}

func (t tx) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := t.Tx.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t tx) Query(ctx context.Context, sql string, args ...any) (sqlcore.Rows, error) {
	r, err := t.Tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

// Upsert COPYs the batch into a session-local staging table, then merges it
// with one INSERT … ON CONFLICT. COPY is PostgreSQL's fastest way in; the
// merge stays a single set-based statement. The staging table is created
// once per pooled connection and emptied at every commit.
func (t tx) Upsert(ctx context.Context, tbl *sqlcore.Table, rows [][]any) (int, int, error) {
	stage := "stage_" + tbl.Name
	prep := fmt.Sprintf(`CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
		quote(stage), quote(tbl.Name))
	if _, err := t.Tx.Exec(ctx, prep); err != nil {
		return 0, 0, fmt.Errorf("create staging table: %w", err)
	}
	// Rows can only be left over if one transaction upserts a table twice.
	if _, err := t.Tx.Exec(ctx, "DELETE FROM "+quote(stage)); err != nil {
		return 0, 0, fmt.Errorf("empty staging table: %w", err)
	}
	n, err := t.Tx.CopyFrom(ctx, pgx.Identifier{stage}, tbl.ColumnNames(), pgx.CopyFromRows(rows))
	if err != nil {
		return 0, 0, fmt.Errorf("copy into staging table: %w", err)
	}
	if int(n) != len(rows) {
		return 0, 0, fmt.Errorf("copy into staging table: %d of %d rows", n, len(rows))
	}
	var inserted, updated int
	if err := t.Tx.QueryRow(ctx, mergeSQL(tbl, stage)).Scan(&inserted, &updated); err != nil {
		return 0, 0, fmt.Errorf("merge staging table: %w", err)
	}
	return inserted, updated, nil
}

// mergeSQL inserts the staged rows in key order (so concurrent writers lock
// rows in the same order and cannot deadlock) and counts inserts and
// updates. A row version created by the INSERT has xmax = 0, one produced
// by ON CONFLICT DO UPDATE carries the updating transaction's id; the
// WHERE clause skips rows whose values did not change, so a re-run of the
// same batch writes nothing.
func mergeSQL(tbl *sqlcore.Table, stage string) string {
	cols := quoteAll(tbl.ColumnNames())
	key := quoteAll(tbl.Key)
	var b strings.Builder
	fmt.Fprintf(&b, "WITH merged AS (\n INSERT INTO %s AS t (%s)\n SELECT %s FROM %s ORDER BY %s\n",
		quote(tbl.Name), strings.Join(cols, ", "), strings.Join(cols, ", "), quote(stage), strings.Join(key, ", "))
	if len(tbl.Update) == 0 {
		fmt.Fprintf(&b, " ON CONFLICT (%s) DO NOTHING\n RETURNING true AS inserted\n)", strings.Join(key, ", "))
	} else {
		upd := quoteAll(tbl.Update)
		set := make([]string, len(upd))
		for i, c := range upd {
			set[i] = c + " = EXCLUDED." + c
		}
		if tbl.Touch {
			set = append(set, "updated_at = now()")
		}
		fmt.Fprintf(&b, " ON CONFLICT (%s) DO UPDATE SET %s\n WHERE (t.%s) IS DISTINCT FROM (EXCLUDED.%s)\n RETURNING (t.xmax = 0) AS inserted\n)",
			strings.Join(key, ", "), strings.Join(set, ", "),
			strings.Join(upd, ", t."), strings.Join(upd, ", EXCLUDED."))
	}
	b.WriteString("\nSELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged")
	return b.String()
}

// Insert COPYs rows straight into the table: their scope was just emptied
// in the same transaction, so they cannot conflict.
func (t tx) Insert(ctx context.Context, tbl *sqlcore.Table, rows [][]any) error {
	n, err := t.Tx.CopyFrom(ctx, pgx.Identifier{tbl.Name}, tbl.ColumnNames(), pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("copy into %s: %w", tbl.Name, err)
	}
	if int(n) != len(rows) {
		return fmt.Errorf("copy into %s: %d of %d rows", tbl.Name, n, len(rows))
	}
	return nil
}

func quoteAll(idents []string) []string {
	out := make([]string, len(idents))
	for i, s := range idents {
		out[i] = quote(s)
	}
	return out
}

// rows adapts pgx.Rows to sqlcore.Rows.
type rows struct{ pgx.Rows }

func (r rows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}
