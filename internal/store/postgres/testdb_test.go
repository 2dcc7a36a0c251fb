package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// envDSN names an administrative DSN of a PostgreSQL server the tests may
// create databases on, e.g.
// postgres://postgres:secret@127.0.0.1:55432/postgres?sslmode=disable
const envDSN = "CONSENT_OPERATOR_TEST_POSTGRES_DSN"

// adminDSN returns the server DSN or skips the test. In CI (CI=true) a
// missing server is a failure: the PostgreSQL contract must never be
// skipped silently there.
func adminDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(envDSN)
	if dsn != "" {
		return dsn
	}
	msg := envDSN + " is not set: PostgreSQL store tests need a server " +
		"(start one with the script in hack/ and export the DSN it prints)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true, so this is a failure, not a skip")
	}
	t.Skip(msg)
	return ""
}

// freshDatabase creates an empty database for one test, drops it when the
// test ends, and returns its DSN.
func freshDatabase(t testing.TB) string {
	t.Helper()
	admin := adminDSN(t)
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s is not a URL", envDSN)
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	name := "co_store_test_" + hex.EncodeToString(suffix)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
