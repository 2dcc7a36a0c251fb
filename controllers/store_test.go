package controllers_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/open"
)

// testStore is the suite's database: a fresh PostgreSQL database when
// CONSENT_OPERATOR_TEST_POSTGRES_DSN is set (always in CI), a SQLite file otherwise.
// The manager writes to it; tests read it through their own connection.
var (
	testStoreDSN string
	testStore    store.Store
)

func openTestStore(dir string) (string, store.Store, error) {
	dsn := os.Getenv("CONSENT_OPERATOR_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			return "", nil, fmt.Errorf("CONSENT_OPERATOR_TEST_POSTGRES_DSN is not set: CI runs the controller tests on PostgreSQL")
		}
		dsn = filepath.Join(dir, "controllers.db")
	} else {
		var err error
		if dsn, err = freshDatabase(dsn); err != nil {
			return "", nil, err
		}
	}
	st, err := open.Open(context.Background(), dsn)
	if err != nil {
		return "", nil, fmt.Errorf("opening test store: %w", err)
	}
	return dsn, st, nil
}

// freshDatabase creates an empty database for this test process and returns its DSN.
func freshDatabase(admin string) (string, error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("controllers_%d", os.Getpid())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("creating database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + strings.TrimPrefix(name, "/")
	return u.String(), nil
}
