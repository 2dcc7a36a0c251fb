package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/postgres"
	"github.com/consent-operator/consent-operator/internal/store/storetest"
)

const plainInsertSQL = "INSERT INTO transactions (" + storetest.PlainInsertColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::numeric, $11, $12, $13,
 $14::jsonb, $15, $16::numeric, $17, $18::jsonb, $19)
 ON CONFLICT DO NOTHING`

// plainPostgres inserts through one pgx connection (pgx prepares and
// caches the statement, so this is the loop at its best).
type plainPostgres struct{ conn *pgx.Conn }

func plainArgs(o store.Owner, t store.Transaction) []any {
	cls, _ := json.Marshal(t.Classification)
	return []any{o.Namespace, o.Connection, o.UserRef, o.Provider, t.AccountID,
		t.NormalisedProviderTransactionID, t.ProviderTransactionID, t.Timestamp, t.Description,
		string(t.Amount), t.Currency, t.Type, t.Category, string(cls), t.MerchantName,
		string(t.RunningBalance.Amount), t.RunningBalance.Currency, string(t.Meta), o.UID}
}

func (p plainPostgres) InsertEach(ctx context.Context, o store.Owner, txs []store.Transaction) error {
	for _, t := range txs {
		if _, err := p.conn.Exec(ctx, plainInsertSQL, plainArgs(o, t)...); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	return nil
}

func (p plainPostgres) InsertEachInOneTx(ctx context.Context, o store.Owner, txs []store.Transaction) error {
	return pgx.BeginFunc(ctx, p.conn, func(tx pgx.Tx) error {
		for _, t := range txs {
			if _, err := tx.Exec(ctx, plainInsertSQL, plainArgs(o, t)...); err != nil {
				return fmt.Errorf("insert: %w", err)
			}
		}
		return nil
	})
}

// BenchmarkIngest needs CONSENT_OPERATOR_TEST_POSTGRES_DSN:
// go test -run '^$' -bench Ingest -benchtime 5x ./internal/store/postgres/
func BenchmarkIngest(b *testing.B) {
	dsn := freshDatabase(b)
	s, err := postgres.Open(b.Context(), dsn)
	s = storetest.Opened(b, s, err)
	conn, err := pgx.Connect(b.Context(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	storetest.BenchIngest(b, s, plainPostgres{conn}, 5000, 1000)
}
