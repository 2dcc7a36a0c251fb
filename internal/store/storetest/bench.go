package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// PlainInsertColumns are the transaction columns a PlainInserter's INSERT
// names, in the order of its arguments; each backend adds its placeholders
// (PostgreSQL's cast by position: a column added goes at the end).
const PlainInsertColumns = `namespace, connection, user_ref, provider, account_id,
 normalised_provider_transaction_id, provider_transaction_id, "timestamp", description, amount, currency,
 transaction_type, transaction_category, transaction_classification, merchant_name, running_balance,
 running_balance_currency, meta, connection_uid`

// PlainInserter is the comparison of the ingest benchmark: a loop of
// single-row INSERTs of the same transactions, as code without batching
// would write them.
type PlainInserter interface {
	// InsertEach inserts txs one statement per row, each its own transaction.
	InsertEach(ctx context.Context, o store.Owner, txs []store.Transaction) error
	// InsertEachInOneTx inserts txs one statement per row inside a single
	// transaction.
	InsertEachInOneTx(ctx context.Context, o store.Owner, txs []store.Transaction) error
}

// BenchIngest measures, in one process and on the same database, the
// store's batched UpsertTransactions against the plain single-row loops,
// with rowsPerOp fresh transactions per iteration for each, and reports
// transactions per second for each and the ratios.
func BenchIngest(b *testing.B, s store.Store, plain PlainInserter, rowsPerOp, batchSize int) {
	ctx := b.Context()
	var storeTime, plainTime, plainTxTime time.Duration
	var iterations int
	for i := 0; b.Loop(); i++ {
		account := fmt.Sprintf("acc-%d", i)
		txs := Transactions(account, rowsPerOp, Base)

		start := time.Now()
		for lo := 0; lo < len(txs); lo += batchSize {
			res, err := s.UpsertTransactions(ctx, Owner("bench", "batched", "user"), txs[lo:min(lo+batchSize, len(txs))])
			if err != nil {
				b.Fatalf("batched upsert: %v", err)
			}
			if res.Inserted != min(batchSize, len(txs)-lo) {
				b.Fatalf("batched upsert inserted %d", res.Inserted)
			}
		}
		storeTime += time.Since(start)

		start = time.Now()
		if err := plain.InsertEach(ctx, Owner("bench", "plain", "user"), txs); err != nil {
			b.Fatalf("plain loop: %v", err)
		}
		plainTime += time.Since(start)

		start = time.Now()
		if err := plain.InsertEachInOneTx(ctx, Owner("bench", "plain-one-tx", "user"), txs); err != nil {
			b.Fatalf("plain loop in one transaction: %v", err)
		}
		plainTxTime += time.Since(start)
		iterations++
	}
	rows := float64(iterations * rowsPerOp)
	storeRate := rows / storeTime.Seconds()
	plainRate := rows / plainTime.Seconds()
	plainTxRate := rows / plainTxTime.Seconds()
	b.ReportMetric(storeRate, "batched-tx/s")
	b.ReportMetric(plainRate, "plain-loop-tx/s")
	b.ReportMetric(plainTxRate, "plain-loop-1tx-tx/s")
	b.ReportMetric(storeRate/plainRate, "x-vs-plain-loop")
	b.ReportMetric(storeRate/plainTxRate, "x-vs-plain-loop-1tx")

	// The loops must have written what the store wrote, or the comparison
	// compares different work.
	for _, conn := range []string{"batched", "plain", "plain-one-tx"} {
		n, err := s.CountTransactions(ctx, store.TransactionQuery{Key: Owner("bench", conn, "user").Key()})
		if err != nil {
			b.Fatal(err)
		}
		if n != int64(rows) {
			b.Fatalf("%s stored %d transactions, want %v", conn, n, rows)
		}
	}
}
