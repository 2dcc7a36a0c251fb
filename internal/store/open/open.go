// Package open selects and opens a store.Store from a DSN: the manager's
// --store flag. It imports both implementations, which store itself cannot.
package open

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/postgres"
	"github.com/consent-operator/consent-operator/internal/store/sqlite"
)

// Kind is a store implementation.
type Kind string

const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// Parse says which implementation a DSN selects and what to hand it:
//
//	sqlite:///var/lib/consent-operator/store.db  -> SQLite, /var/lib/consent-operator/store.db
//	sqlite://data/store.db or sqlite:data/store.db -> SQLite, data/store.db (relative)
//	/var/lib/consent-operator/store.db (no scheme) -> SQLite, the path
//	postgres://… or postgresql://…                -> PostgreSQL, the DSN unchanged
func Parse(dsn string) (Kind, string, error) {
	switch {
	case dsn == "":
		return "", "", errors.New("store DSN is empty")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, dsn, nil
	case strings.HasPrefix(dsn, "sqlite://"):
		return sqlitePath(strings.TrimPrefix(dsn, "sqlite://"))
	case strings.HasPrefix(dsn, "sqlite:"):
		return sqlitePath(strings.TrimPrefix(dsn, "sqlite:"))
	}
	if scheme, _, ok := strings.Cut(dsn, "://"); ok && !strings.ContainsAny(scheme, "/\\") {
		return "", "", fmt.Errorf("store DSN scheme %q is not supported (use sqlite:// or postgres://)", scheme)
	}
	return sqlitePath(dsn)
}

func sqlitePath(p string) (Kind, string, error) {
	if p == "" {
		return "", "", errors.New("store DSN names no SQLite file")
	}
	return SQLite, p, nil
}

// Open opens the store a DSN selects (see Parse) and applies its schema
// migrations.
func Open(ctx context.Context, dsn string) (store.Store, error) {
	kind, target, err := Parse(dsn)
	if err != nil {
		return nil, err
	}
	var s store.Store
	switch kind {
	case Postgres:
		s, err = postgres.Open(ctx, target)
	default:
		s, err = sqlite.Open(ctx, target)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s store %s: %w", kind, Redact(dsn), err)
	}
	return s, nil
}

// Redact returns dsn fit for logs: a PostgreSQL URL without its password
// (and without query parameters, which may carry one), a SQLite path as is.
func Redact(dsn string) string {
	kind, target, err := Parse(dsn)
	if err != nil {
		return "<invalid store DSN>"
	}
	if kind == SQLite {
		return "sqlite:" + target
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://<unparseable>"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
