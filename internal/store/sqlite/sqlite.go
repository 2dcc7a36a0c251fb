// Package sqlite is the embedded default store.Store on SQLite through the
// pure-Go modernc.org/sqlite driver (no cgo), in WAL mode.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/internal/sqlcore"
)

// busyTimeoutMillis is how long a statement waits for another process's
// write lock before failing with SQLITE_BUSY.
const busyTimeoutMillis = 10000

// Open opens (creating if needed, with its directory) the database file at
// path, applies pending schema migrations and returns the store.
//
// Writes go through one connection whose transactions begin IMMEDIATE: they
// take SQLite's write lock up front, so concurrent writers queue in
// database/sql instead of failing on a lock upgrade. Reads use a separate
// read-only pool; WAL lets them run while a write is in progress.
// synchronous=NORMAL is durable against process crashes; in WAL mode a power
// loss can drop only the last commits, which the next sync run fetches again.
func Open(ctx context.Context, path string) (store.Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: database path %q must not contain '?' or '#'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create directory of %s: %w", path, err)
	}
	// The file holds people's bank data: create it readable by the owner
	// only (SQLite gives its -wal and -shm files the same permissions).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1", busyTimeoutMillis)
	writer, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	b := &backend{writer: writer}
	if err := writer.PingContext(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := b.migrate(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	// Opened after the writer switched the file to WAL (a persistent setting).
	reader, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_query_only=1")
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	reader.SetMaxOpenConns(max(2, runtime.GOMAXPROCS(0)))
	b.reader = reader
	if err := reader.PingContext(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	return sqlcore.New(b), nil
}

// backend implements sqlcore.Backend on a writer connection and a reader pool.
type backend struct {
	dialect
	writer *sql.DB
	reader *sql.DB
}

func (b *backend) Query(ctx context.Context, query string, args ...any) (sqlcore.Rows, error) {
	r, err := b.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (b *backend) InTx(ctx context.Context, fn func(sqlcore.Tx) error) error {
	t, err := b.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx{t}); err != nil {
		if rbErr := t.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (b *backend) Close() error {
	var errs []error
	if b.reader != nil {
		errs = append(errs, b.reader.Close())
	}
	errs = append(errs, b.writer.Close())
	return errors.Join(errs...)
}
