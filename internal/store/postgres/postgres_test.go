package postgres_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/postgres"
	"github.com/consent-operator/consent-operator/internal/store/storetest"
)

func openFresh(t *testing.T) store.Store {
	t.Helper()
	dsn := freshDatabase(t)
	s, err := postgres.Open(t.Context(), dsn)
	return storetest.TextStore{Store: storetest.Opened(t, s, err), Query: queryText(dsn)}
}

// queryText reads the database at dsn with a connection of its own
// (storetest.TextStore).
func queryText(dsn string) func(ctx context.Context, query string) ([]string, error) {
	return func(ctx context.Context, query string) ([]string, error) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return nil, err
		}
		defer conn.Close(context.Background())
		rows, err := conn.Query(ctx, query)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
}

func TestContract(t *testing.T) {
	adminDSN(t) // skip (or, in CI, fail) once rather than in every case
	storetest.Run(t, openFresh)
}

// TestPingFailsWithoutTheDatabase: Ping is the manager's readiness check, so it
// must fail once the database is gone, not only answer from an open pool.
func TestPingFailsWithoutTheDatabase(t *testing.T) {
	dsn := freshDatabase(t)
	s, err := postgres.Open(t.Context(), dsn)
	s = storetest.Opened(t, s, err)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	conn, err := pgx.Connect(t.Context(), adminDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if _, err := conn.Exec(t.Context(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("ping succeeded after the database was dropped")
	}
}

// TestConcurrentOpenMigratesOnce: managers starting at the same time on an
// empty database all succeed and the schema is applied exactly once (the
// advisory lock serialises them; without it CREATE TABLE would collide).
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := freshDatabase(t)
	storetest.OpenConcurrently(t, 5, func(ctx context.Context) (store.Store, error) { return postgres.Open(ctx, dsn) })
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var applied int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	// One row per migration file: each applied exactly once.
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d (one per migration)", applied, len(files))
	}
}

// TestRefusesEditedMigration: a database whose applied migration differs
// from the binary's is refused rather than silently drifting.
func TestRefusesEditedMigration(t *testing.T) {
	dsn := freshDatabase(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "UPDATE schema_migrations SET checksum = 'edited'"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(t.Context(), dsn)
	if err == nil || !strings.Contains(err.Error(), "differs from the one applied") {
		t.Fatalf("open with edited migration: %v", err)
	}
	if _, err := conn.Exec(t.Context(), "INSERT INTO schema_migrations VALUES (99, 'future', 'x', 'now')"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "DELETE FROM schema_migrations WHERE version < 99"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(t.Context(), dsn)
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("open of a newer schema: %v", err)
	}
}

// TestOpenErrorHidesPassword: connection failures must not echo the DSN.
func TestOpenErrorHidesPassword(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://u:hunter2-secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("error leaks the password: %v", err)
	}
	_, err = postgres.Open(t.Context(), "postgres://u:hunter2-secret@[bad")
	if err == nil || strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("parse error: %v", err)
	}
}

// TestUpgradeFromNameKeyedRows: a database of schema version 1 opens, and its rows
// are adopted by the connection of their name (storetest.CheckLegacyRowsAdopted).
func TestUpgradeFromNameKeyedRows(t *testing.T) {
	dsn := freshDatabase(t)
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range append(append([]string{string(v1)}, storetest.SchemaV1Record(v1)...), storetest.LegacyRows...) {
		if _, err := conn.Exec(t.Context(), stmt); err != nil {
			t.Fatalf("building the version 1 database: %v", err)
		}
	}
	conn.Close(context.Background())
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("opening the version 1 database: %v", err)
	}
	defer s.Close()
	storetest.CheckLegacyRowsAdopted(t, s)
}
