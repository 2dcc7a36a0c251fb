// Package postgres is the production store.Store on PostgreSQL (pgx v5).
// Batches are written with COPY into a staging table and merged with
// INSERT … ON CONFLICT, one transaction per batch.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/internal/sqlcore"
)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string), applies pending schema migrations and returns the
// store. It fails when the database is unreachable.
func Open(ctx context.Context, dsn string) (store.Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx errors can quote the DSN, password included: say only what failed.
		return nil, errors.New("postgres: cannot parse the DSN")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool for %s: %w", where(cfg), err)
	}
	b := &backend{pool: pool}
	if err := b.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres %s: %w", where(cfg), err)
	}
	return sqlcore.New(b), nil
}

// where names the server and database without credentials, for errors.
func where(cfg *pgxpool.Config) string {
	return fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

// backend implements sqlcore.Backend on a pgx pool.
type backend struct {
	dialect
	pool *pgxpool.Pool
}

func (b *backend) Query(ctx context.Context, sql string, args ...any) (sqlcore.Rows, error) {
	r, err := b.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func (b *backend) InTx(ctx context.Context, fn func(sqlcore.Tx) error) error {
	return pgx.BeginFunc(ctx, b.pool, func(t pgx.Tx) error { return fn(tx{t}) })
}

func (b *backend) Close() error {
	b.pool.Close()
	return nil
}
