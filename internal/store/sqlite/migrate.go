package sqlite

import (
	"context"
	"embed"

	"github.com/consent-operator/consent-operator/internal/store/internal/sqlcore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies pending migrations in one IMMEDIATE transaction: it holds
// the database's write lock, so a second process opening the same file
// waits (busy_timeout) and then finds nothing left to do. SQLite DDL is
// transactional, so a failed migration leaves the schema as it was.
func (b *backend) migrate(ctx context.Context) error {
	ms, err := sqlcore.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return b.InTx(ctx, func(t sqlcore.Tx) error {
		_, err := sqlcore.Migrate(ctx, t, dialect{}, ms)
		return err
	})
}
