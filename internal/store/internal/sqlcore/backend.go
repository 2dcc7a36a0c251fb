// Package sqlcore implements store.Store once, over a small Backend that
// each SQL database provides: how to bind and read values, how to run a
// transaction and how to bulk-write rows (COPY in PostgreSQL, multi-row
// INSERT in SQLite). Keeping the SQL of reads, replacements and run
// bookkeeping here means both databases behave the same by construction;
// the contract suite in storetest checks that they do.
package sqlcore

import (
	"context"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Kind is how a column's value is represented in Go and in the database.
type Kind int

const (
	// Text is a NOT NULL string ("" when not reported).
	Text Kind = iota
	// Int is a NOT NULL int64.
	Int
	// Time is a nullable instant (zero time.Time is NULL).
	Time
	// Amount is a nullable exact decimal (store.Amount, "" is NULL).
	Amount
	// JSON is a nullable JSON document (nil []byte is NULL).
	JSON
)

// Dialect is what differs in the SQL text and values of a database.
type Dialect interface {
	// Placeholder returns the bind marker of the n-th argument (1-based).
	Placeholder(n int) string
	// Encode turns a value of the given kind (string, int64, time.Time,
	// store.Amount or []byte) into what the driver binds.
	Encode(k Kind, v any) any
	// SelectExpr returns an expression reading column col so that it scans
	// into a string (Text), int64 (Int) or sql.NullString (Time as
	// TimeLayout in UTC, Amount as decimal text, JSON as JSON text).
	SelectExpr(col string, k Kind) string
	// Now is the SQL expression of the current time, for created_at and
	// updated_at bookkeeping columns.
	Now() string
}

// Rows is a result set.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Querier runs statements.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	// Exec returns the number of rows affected.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
}

// Tx is a database transaction with the database's bulk-write primitives.
type Tx interface {
	Querier
	// Upsert writes rows (values in t.Columns order, already encoded, unique
	// by t.Key and sorted by it) into t: new keys are inserted; for existing
	// keys t.Update columns are overwritten when one of them differs (or
	// nothing happens when t.Update is empty). It returns how many rows were
	// inserted and how many were updated.
	Upsert(ctx context.Context, t *Table, rows [][]any) (inserted, updated int, err error)
	// Insert writes rows that cannot conflict (their scope was just deleted).
	Insert(ctx context.Context, t *Table, rows [][]any) error
}

// Backend is a database the Core runs on.
type Backend interface {
	Dialect
	// Query runs a read outside any write transaction.
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	// InTx runs fn in one transaction, committing when it returns nil and
	// rolling back otherwise (also when ctx ends).
	InTx(ctx context.Context, fn func(tx Tx) error) error
	Close() error
}

// NotReported says whether v, a value of kind k, is one the provider did not
// report (a zero time, an empty amount, absent JSON): every dialect binds it
// as NULL, so that it reads back as not reported.
func NotReported(k Kind, v any) bool {
	switch k {
	case Time:
		t, _ := v.(time.Time)
		return t.IsZero()
	case Amount:
		a, _ := v.(store.Amount)
		return a == ""
	case JSON:
		b, _ := v.([]byte)
		return b == nil
	}
	return false
}
