package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/sqlite"
	"github.com/consent-operator/consent-operator/internal/store/storetest"
)

func openTemp(t *testing.T) store.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "store.db")
	s, err := sqlite.Open(t.Context(), path)
	return storetest.TextStore{Store: storetest.Opened(t, s, err), Query: queryText(path)}
}

// queryText reads the database file at path with a connection of its own
// (storetest.TextStore).
func queryText(path string) func(ctx context.Context, query string) ([]string, error) {
	return func(ctx context.Context, query string) ([]string, error) {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			return nil, err
		}
		defer db.Close()
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, openTemp)
}

// TestPingFailsOnceClosed: Ping is the manager's readiness check.
func TestPingFailsOnceClosed(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("ping succeeded on a closed store")
	}
}

// TestReopenKeepsDataAndMigratesOnce: a second Open of the same file (a
// manager restart) applies no migration again and sees the data.
func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	ctx := t.Context()
	o := storetest.Owner("ns", "conn", "user")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertTransactions(ctx, o, storetest.Transactions("acc", 10, storetest.Base)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	n, err := s.CountTransactions(ctx, store.TransactionQuery{Key: o.Key()})
	if err != nil || n != 10 {
		t.Fatalf("after reopen: %d rows, err %v", n, err)
	}
}

// TestConcurrentOpen: several processes' worth of Open on a new file at
// once; each must succeed and the schema must be applied exactly once.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	storetest.OpenConcurrently(t, 4, func(ctx context.Context) (store.Store, error) { return sqlite.Open(ctx, path) })
}

func TestOpenRefusesAmbiguousPath(t *testing.T) {
	for _, p := range []string{"", "/tmp/x.db?mode=memory", "/tmp/x#y.db"} {
		if s, err := sqlite.Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		} else if p != "" && !strings.Contains(err.Error(), "must not contain") {
			t.Errorf("Open(%q): unexpected error %v", p, err)
		}
	}
}

func TestFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "private.db")
	s, err := sqlite.Open(t.Context(), path)
	storetest.Opened(t, s, err)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Fatalf("database file mode %v is readable by others", perm)
	}
}

// TestUpgradeFromNameKeyedRows: a database of schema version 1 opens, and its rows
// are adopted by the connection of their name (storetest.CheckLegacyRowsAdopted).
func TestUpgradeFromNameKeyedRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range append(append([]string{string(v1)}, storetest.SchemaV1Record(v1)...), storetest.LegacyRows...) {
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("building the version 1 database: %v", err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("opening the version 1 database: %v", err)
	}
	defer s.Close()
	storetest.CheckLegacyRowsAdopted(t, s)
}
