package store

import (
	"fmt"
	"time"
)

// MaxPageSize bounds one page of PageTransactions, so a caller cannot make the
// store materialise a user's whole history in one answer.
const MaxPageSize = 1000

// TransactionPageQuery selects one page of booked transactions, of one
// connection (Connection) or of every connection of a user (User), in the
// order of TransactionCursor.
type TransactionPageQuery struct {
	// Exactly one of Connection and User is set.
	Connection *ConnectionKey
	User       *UserKey
	// AccountID filters by account or card when set.
	AccountID string
	// From (inclusive) and To (exclusive) bound Timestamp when non-zero.
	From, To time.Time
	// After continues after the last row of the previous page; nil starts at
	// the beginning.
	After *TransactionCursor
	// Limit is the page size, 1 to MaxPageSize.
	Limit int
}

// Validate reports an ErrInvalid error for a query the store would not answer.
func (q TransactionPageQuery) Validate() error {
	switch {
	case (q.Connection == nil) == (q.User == nil):
		return fmt.Errorf("%w: a transaction page names either a connection or a user", ErrInvalid)
	case q.Connection != nil:
		if err := q.Connection.Validate(); err != nil {
			return err
		}
	default:
		if err := q.User.Validate(); err != nil {
			return err
		}
	}
	if q.Limit < 1 || q.Limit > MaxPageSize {
		return fmt.Errorf("%w: page size %d is not within 1..%d", ErrInvalid, q.Limit, MaxPageSize)
	}
	return nil
}

// TransactionCursor is a position in the total order pages are read in:
// timestamp, then the connection (name, UID), the account and the provider's
// transaction id. The order is total (those columns are the primary key
// plus the timestamp), so rows are never skipped or repeated between pages,
// even when many transactions share a timestamp, and a row written between two
// page reads lands on one side of the cursor.
type TransactionCursor struct {
	Timestamp     time.Time
	Connection    string
	ConnectionUID string
	AccountID     string
	TransactionID string
}

// ConnectionTransaction is a booked transaction with the connection it was
// fetched through.
type ConnectionTransaction struct {
	Connection ConnectionKey
	Transaction
}

// Cursor is the position of this row, to continue after it.
func (t ConnectionTransaction) Cursor() TransactionCursor {
	return TransactionCursor{Timestamp: t.Timestamp, Connection: t.Connection.Connection, ConnectionUID: t.Connection.UID,
		AccountID: t.AccountID, TransactionID: t.NormalisedProviderTransactionID}
}
