package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/consent-operator/consent-operator/internal/store/internal/sqlcore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the advisory lock key serialising schema migrations of
// all managers sharing a database.
var migrationLock = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("consent-operator/store/schema-migrations"))
	return int64(h.Sum64())
}()

// migrate applies pending migrations in one transaction holding a
// transaction-scoped advisory lock: a second manager starting at the same
// time waits, then finds nothing left to do. PostgreSQL DDL is
// transactional, so a failed migration leaves the schema as it was.
func (b *backend) migrate(ctx context.Context) error {
	ms, err := sqlcore.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, b.pool, func(t pgx.Tx) error {
		if _, err := t.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("lock schema migrations: %w", err)
		}
		_, err := sqlcore.Migrate(ctx, tx{t}, dialect{}, ms)
		return err
	})
}
