package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/sqlite"
	"github.com/consent-operator/consent-operator/internal/store/storetest"
)

const plainInsertSQL = "INSERT INTO transactions (" + storetest.PlainInsertColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
 ON CONFLICT DO NOTHING`

// plainSQLite inserts with the same driver and pragmas as the store.
type plainSQLite struct{ db *sql.DB }

func plainArgs(o store.Owner, t store.Transaction) []any {
	cls, _ := json.Marshal(t.Classification)
	return []any{o.Namespace, o.Connection, o.UserRef, o.Provider, t.AccountID,
		t.NormalisedProviderTransactionID, t.ProviderTransactionID,
		t.Timestamp.UTC().Format("2006-01-02T15:04:05.000000Z"), t.Description, string(t.Amount), t.Currency,
		t.Type, t.Category, string(cls), t.MerchantName, string(t.RunningBalance.Amount),
		t.RunningBalance.Currency, string(t.Meta), o.UID}
}

func (p plainSQLite) InsertEach(ctx context.Context, o store.Owner, txs []store.Transaction) error {
	stmt, err := p.db.PrepareContext(ctx, plainInsertSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, t := range txs {
		if _, err := stmt.ExecContext(ctx, plainArgs(o, t)...); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	return nil
}

func (p plainSQLite) InsertEachInOneTx(ctx context.Context, o store.Owner, txs []store.Transaction) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, plainInsertSQL)
	if err != nil {
		return err
	}
	for _, t := range txs {
		if _, err := stmt.ExecContext(ctx, plainArgs(o, t)...); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	return tx.Commit()
}

// BenchmarkIngest: go test -run '^$' -bench Ingest -benchtime 5x ./internal/store/sqlite/
func BenchmarkIngest(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := sqlite.Open(b.Context(), path)
	s = storetest.Opened(b, s, err)
	db, err := sql.Open("sqlite", "file:"+path+"?_busy_timeout=10000&_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	storetest.BenchIngest(b, s, plainSQLite{db}, 5000, 1000)
}
