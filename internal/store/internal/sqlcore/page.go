package sqlcore

import (
	"context"
	"fmt"

	"github.com/consent-operator/consent-operator/internal/store"
)

// pageOrder is the total order of transaction pages (store.TransactionCursor).
const pageOrder = `"timestamp", connection, connection_uid, account_id, normalised_provider_transaction_id`

// PageTransactions implements store.Reader with keyset pagination: the page
// starts with a row-value comparison against the cursor, which both databases
// answer from an index instead of counting past the earlier pages.
func (c *Core) PageTransactions(ctx context.Context, q store.TransactionPageQuery) ([]store.ConnectionTransaction, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	a := c.args()
	var where string
	if q.Connection != nil {
		where = a.connection(*q.Connection)
	} else {
		where = fmt.Sprintf("namespace = %s AND user_ref = %s", a.add(q.User.Namespace), a.add(q.User.UserRef))
	}
	where += c.transactionFilter(a, q.AccountID, q.From, q.To)
	if k := q.After; k != nil {
		where += fmt.Sprintf(" AND (%s) > (%s, %s, %s, %s, %s)", pageOrder,
			a.add(c.b.Encode(Time, NormTime(k.Timestamp))), a.add(k.Connection), a.add(k.ConnectionUID),
			a.add(k.AccountID), a.add(k.TransactionID))
	}
	query := fmt.Sprintf("SELECT %s FROM transactions WHERE %s ORDER BY %s%s",
		selectList(c.b, Transactions), where, pageOrder, limitClause(q.Limit))
	out := make([]store.ConnectionTransaction, 0, q.Limit)
	err := c.scanAll(ctx, Transactions, query, a.vals, func(r *row) error {
		out = append(out, store.ConnectionTransaction{Connection: r.owner().Key(), Transaction: decodeTransaction(r)})
		return nil
	})
	return out, err
}
