package sqlcore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
)

// Migration is one numbered schema change, from a file NNNN_name.sql.
type Migration struct {
	Version  int
	Name     string
	SQL      string
	Checksum string
}

var migrationFile = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// LoadMigrations reads dir of fsys. Versions must run 1, 2, 3… without gaps
// so that a missing file is noticed at build time, not in production.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			return nil, fmt.Errorf("migrations: unexpected entry %q (want NNNN_name.sql)", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		v, _ := strconv.Atoi(m[1])
		sum := sha256.Sum256(body)
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(body), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: expected version %d, found %04d_%s", i+1, m.Version, m.Name)
		}
	}
	return out, nil
}

// Migrate brings the schema to the latest migration inside tx. The caller
// provides the exclusion (an advisory lock in PostgreSQL, the write lock of
// a BEGIN IMMEDIATE transaction in SQLite) so that two managers starting at
// once apply each migration exactly once. It refuses a database that was
// migrated by a newer binary or whose applied migrations were edited since.
func Migrate(ctx context.Context, tx Tx, d Dialect, migrations []Migration) (applied int, err error) {
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at text NOT NULL
)`
	if _, err := tx.Exec(ctx, create); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT version, name, checksum FROM schema_migrations ORDER BY version")
	if err != nil {
		return 0, fmt.Errorf("read schema_migrations: %w", err)
	}
	done := map[int]bool{}
	for rows.Next() {
		var (
			v              int64
			name, checksum string
		)
		if err := rows.Scan(&v, &name, &checksum); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read schema_migrations: %w", err)
		}
		if int(v) > len(migrations) {
			rows.Close()
			return 0, fmt.Errorf("database schema is at version %d (%s), newer than this binary's %d: upgrade the operator", v, name, len(migrations))
		}
		if m := migrations[v-1]; m.Checksum != checksum {
			rows.Close()
			return 0, fmt.Errorf("migration %04d_%s differs from the one applied to the database", m.Version, m.Name)
		}
		done[int(v)] = true
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return 0, fmt.Errorf("read schema_migrations: %w", err)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("read schema_migrations: %w", err)
	}
	for _, m := range migrations {
		if done[m.Version] {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return applied, fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
		// applied_at is text in both databases: it is for people, not queries.
		ins := fmt.Sprintf("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (%s, %s, %s, %s)",
			d.Placeholder(1), d.Placeholder(2), d.Placeholder(3), d.Now())
		if _, err := tx.Exec(ctx, ins, int64(m.Version), m.Name, m.Checksum); err != nil {
			return applied, fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		applied++
	}
	return applied, nil
}
