package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrInvalid marks input the store refuses (missing keys, malformed
	// amounts or JSON). Nothing is written when it is returned.
	ErrInvalid = errors.New("invalid store input")
	// ErrNotFound marks a read or update of something that does not exist.
	ErrNotFound = errors.New("not found")
)

// BatchResult says what a batched write did. Rows repeated inside one batch
// count once (the last occurrence wins).
type BatchResult struct {
	// Inserted rows did not exist before.
	Inserted int
	// Updated rows existed and at least one stored value changed.
	Updated int
	// Unchanged rows existed with identical values.
	Unchanged int
}

// TransactionQuery selects booked transactions of one connection.
type TransactionQuery struct {
	Key ConnectionKey
	// AccountID filters by account or card when set.
	AccountID string
	// From (inclusive) and To (exclusive) bound Timestamp when non-zero.
	From, To time.Time
	// Limit caps the result; 0 means no cap.
	Limit int
}

// Counts is how many rows a connection has per table.
type Counts struct {
	Accounts       int64
	Cards          int64
	Balances       int64
	Transactions   int64
	Pending        int64
	StandingOrders int64
	DirectDebits   int64
	Identities     int64
}

// Writer is what the SyncJob controller writes with. Every call runs in one
// database transaction: it stores all of its rows or none, so a cancelled
// context or a crash never leaves part of a batch. Re-running a call with the
// same input stores no duplicates. An error does not prove that nothing was
// stored: when the context ends while the database commits, the caller
// cannot know the outcome. Retrying (idempotent) is the answer.
type Writer interface {
	// UpsertAccounts inserts or updates accounts, named by the provider's
	// AccountID of the consent they were read through. An account is matched to
	// its row by its stable identity (AccountKey), else by that provider id, so a
	// re-consent's new ids update the rows the earlier consent wrote; see
	// AccountIdentity.
	UpsertAccounts(ctx context.Context, owner Owner, accounts []Account) (BatchResult, error)
	// UpsertCards inserts or updates cards as UpsertAccounts does (CardKey).
	UpsertCards(ctx context.Context, owner Owner, cards []Card) (BatchResult, error)
	// AppendBalances adds balance observations; an observation already
	// stored (same account and ObservedAt) is left as it is.
	AppendBalances(ctx context.Context, owner Owner, balances []Balance) (BatchResult, error)
	// UpsertTransactions inserts or updates booked transactions by
	// (connection, account, NormalisedProviderTransactionID).
	//
	// Every write naming an account (balances, transactions, snapshots) may
	// name it by the provider's id of any consent: its rows go under the
	// store's id of the account (AccountIdentity.AccountID).
	UpsertTransactions(ctx context.Context, owner Owner, txs []Transaction) (BatchResult, error)
	// ReplacePending replaces the account's pending transactions with txs.
	ReplacePending(ctx context.Context, owner Owner, accountID string, fetchedAt time.Time, txs []Transaction) error
	// ReplaceStandingOrders replaces the account's standing orders.
	ReplaceStandingOrders(ctx context.Context, owner Owner, accountID string, fetchedAt time.Time, orders []StandingOrder) error
	// ReplaceDirectDebits replaces the account's direct debits.
	ReplaceDirectDebits(ctx context.Context, owner Owner, accountID string, fetchedAt time.Time, debits []DirectDebit) error
	// ReplaceIdentity replaces the identity records of one scope: accountID ""
	// for the connection (/info), an account id for per-account identity
	// (Signup+).
	ReplaceIdentity(ctx context.Context, owner Owner, accountID string, fetchedAt time.Time, ids []Identity) error

	// StartSyncRun records a run as Running. Starting a run id that exists
	// again is a no-op, so a retried reconcile does not fail.
	StartSyncRun(ctx context.Context, run SyncRun) error
	// FinishSyncRun records how a run ended; ErrNotFound if never started.
	FinishSyncRun(ctx context.Context, result RunResult) error

	// DeleteConnection removes every row of a connection (data and runs),
	// e.g. when its BankConnection is deleted.
	DeleteConnection(ctx context.Context, key ConnectionKey) error
	// DeleteUser removes every row stored for a user in a namespace, through
	// any connection, present or deleted (the erasure of GDPR Art. 17), in one
	// transaction, and says how many rows went.
	DeleteUser(ctx context.Context, user UserKey) (Erased, error)
	// Prune applies the retention bounds as of now.
	Prune(ctx context.Context, r Retention, now time.Time) (Pruned, error)
}

// Reader is what tests and applications read back with. Lists are ordered
// deterministically (by account, then time or position).
type Reader interface {
	// ListConnections returns the connections holding data of a user.
	ListConnections(ctx context.Context, namespace, userRef string) ([]Owner, error)
	// ListAccounts returns accounts under the store's ids (AccountID is the
	// id the account was first stored under, kept across re-consents).
	ListAccounts(ctx context.Context, key ConnectionKey) ([]Account, error)
	// AccountIdentities returns, for every account and card of a connection,
	// its store id, the provider's id in the latest consent and its stable key.
	AccountIdentities(ctx context.Context, key ConnectionKey) ([]AccountIdentity, error)
	ListCards(ctx context.Context, key ConnectionKey) ([]Card, error)
	// ListBalances returns an account's balance history, oldest first.
	ListBalances(ctx context.Context, key ConnectionKey, accountID string) ([]Balance, error)
	// ListTransactions returns booked transactions by Timestamp, then id.
	ListTransactions(ctx context.Context, q TransactionQuery) ([]Transaction, error)
	CountTransactions(ctx context.Context, q TransactionQuery) (int64, error)
	// PageTransactions returns up to q.Limit transactions after q.After, in
	// the order of TransactionCursor (keyset pagination: the cost of a page
	// does not grow with how far into the history it is).
	PageTransactions(ctx context.Context, q TransactionPageQuery) ([]ConnectionTransaction, error)
	ListPending(ctx context.Context, key ConnectionKey, accountID string) ([]Transaction, error)
	ListStandingOrders(ctx context.Context, key ConnectionKey, accountID string) ([]StandingOrder, error)
	ListDirectDebits(ctx context.Context, key ConnectionKey, accountID string) ([]DirectDebit, error)
	ListIdentity(ctx context.Context, key ConnectionKey, accountID string) ([]Identity, error)
	Counts(ctx context.Context, key ConnectionKey) (Counts, error)
	// GetSyncRun returns ErrNotFound for an unknown run.
	GetSyncRun(ctx context.Context, namespace, runID string) (SyncRun, error)
	// ListSyncRuns returns runs newest first.
	ListSyncRuns(ctx context.Context, q RunQuery) ([]SyncRun, error)
}

// Store is the operator's data store. Implementations are safe for
// concurrent use.
type Store interface {
	Writer
	Reader
	// Ping reports whether the database answers a query on its schema (the
	// manager's readiness check).
	Ping(ctx context.Context) error
	// Close releases the database handles.
	Close() error
}
