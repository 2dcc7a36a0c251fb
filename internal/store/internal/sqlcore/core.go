package sqlcore

import (
	"context"
	"fmt"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Core implements store.Store on a Backend.
type Core struct {
	b Backend
}

var _ store.Store = (*Core)(nil)

// New returns a store over b; closing it closes b.
func New(b Backend) *Core { return &Core{b: b} }

// Ping reads the migrations table: an answer means the database is reachable
// and holds the schema, not only that a connection opens.
func (c *Core) Ping(ctx context.Context) error {
	rows, err := c.b.Query(ctx, "SELECT count(*) FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("store ping: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store ping: %w", err)
	}
	return nil
}

// Close closes the backend.
func (c *Core) Close() error { return c.b.Close() }

// args accumulates bind arguments and hands out their placeholders in the
// order the SQL text uses them.
type args struct {
	d    Dialect
	vals []any
}

func (a *args) add(v any) string {
	a.vals = append(a.vals, v)
	return a.d.Placeholder(len(a.vals))
}

func (c *Core) args() *args { return &args{d: c.b} }

// connection is the condition selecting the rows of one connection incarnation.
func (a *args) connection(k store.ConnectionKey) string {
	return fmt.Sprintf("namespace = %s AND connection = %s AND connection_uid = %s",
		a.add(k.Namespace), a.add(k.Connection), a.add(k.UID))
}
