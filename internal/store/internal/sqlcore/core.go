package sqlcore

import (
	"github.com/consent-operator/consent-operator/internal/store"
)

// Core implements store.Store on a Backend.
type Core struct {
	b Backend
}

var _ store.Store = (*Core)(nil)

// New returns a store over b; closing it closes b.
func New(b Backend) *Core { return &Core{b: b} }

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
