package sqlcore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// readScope lists rows of t belonging to key (and accountID when not
// nil), ordered by order.
func readScope[T any](ctx context.Context, c *Core, t *Table, key store.ConnectionKey, accountID *string, order string, decode func(*row) T) ([]T, error) {
	if err := key.Validate(); err != nil {
		return nil, err
	}
	a := c.args()
	where := a.connection(key)
	if accountID != nil {
		where += " AND account_id = " + a.add(*accountID)
	}
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s", selectList(c.b, t), t.Name, where, order)
	var out []T
	err := c.scanAll(ctx, t, query, a.vals, func(r *row) error {
		out = append(out, decode(r))
		return nil
	})
	return out, err
}

// ListConnections implements store.Reader.
func (c *Core) ListConnections(ctx context.Context, namespace, userRef string) ([]store.Owner, error) {
	if namespace == "" || userRef == "" {
		return nil, fmt.Errorf("%w: listing connections needs namespace and userRef", store.ErrInvalid)
	}
	a := c.args()
	query := fmt.Sprintf("SELECT %s FROM connections WHERE namespace = %s AND user_ref = %s ORDER BY connection, connection_uid",
		selectList(c.b, Connections), a.add(namespace), a.add(userRef))
	var out []store.Owner
	err := c.scanAll(ctx, Connections, query, a.vals, func(r *row) error {
		out = append(out, r.owner())
		return nil
	})
	return out, err
}

// ListAccounts implements store.Reader.
func (c *Core) ListAccounts(ctx context.Context, key store.ConnectionKey) ([]store.Account, error) {
	return readScope(ctx, c, Accounts, key, nil, "account_id", decodeAccount)
}

// ListCards implements store.Reader.
func (c *Core) ListCards(ctx context.Context, key store.ConnectionKey) ([]store.Card, error) {
	return readScope(ctx, c, Cards, key, nil, "account_id", decodeCard)
}

// ListBalances implements store.Reader.
func (c *Core) ListBalances(ctx context.Context, key store.ConnectionKey, accountID string) ([]store.Balance, error) {
	return readScope(ctx, c, Balances, key, &accountID, "observed_at", decodeBalance)
}

// ListPending implements store.Reader.
func (c *Core) ListPending(ctx context.Context, key store.ConnectionKey, accountID string) ([]store.Transaction, error) {
	return readScope(ctx, c, Pending, key, &accountID, "position", decodeTransaction)
}

// ListStandingOrders implements store.Reader.
func (c *Core) ListStandingOrders(ctx context.Context, key store.ConnectionKey, accountID string) ([]store.StandingOrder, error) {
	return readScope(ctx, c, StandingOrders, key, &accountID, "position", decodeStandingOrder)
}

// ListDirectDebits implements store.Reader.
func (c *Core) ListDirectDebits(ctx context.Context, key store.ConnectionKey, accountID string) ([]store.DirectDebit, error) {
	return readScope(ctx, c, DirectDebits, key, &accountID, "position", decodeDirectDebit)
}

// ListIdentity implements store.Reader.
func (c *Core) ListIdentity(ctx context.Context, key store.ConnectionKey, accountID string) ([]store.Identity, error) {
	return readScope(ctx, c, Identities, key, &accountID, "position", decodeIdentity)
}

// transactionWhere builds the condition of a transaction query.
func (c *Core) transactionWhere(q store.TransactionQuery, a *args) (string, error) {
	if err := q.Key.Validate(); err != nil {
		return "", err
	}
	return a.connection(q.Key) + c.transactionFilter(a, q.AccountID, q.From, q.To), nil
}

// transactionFilter narrows transactions to an account (when set) and to
// [from, to) (each bound when non-zero).
func (c *Core) transactionFilter(a *args, accountID string, from, to time.Time) string {
	var where string
	if accountID != "" {
		where += " AND account_id = " + a.add(accountID)
	}
	if !from.IsZero() {
		where += ` AND "timestamp" >= ` + a.add(c.b.Encode(Time, NormTime(from)))
	}
	if !to.IsZero() {
		where += ` AND "timestamp" < ` + a.add(c.b.Encode(Time, NormTime(to)))
	}
	return where
}

// ListTransactions implements store.Reader.
func (c *Core) ListTransactions(ctx context.Context, q store.TransactionQuery) ([]store.Transaction, error) {
	a := c.args()
	where, err := c.transactionWhere(q, a)
	if err != nil {
		return nil, err
	}
	query := fmt.Sprintf(`SELECT %s FROM transactions WHERE %s
ORDER BY "timestamp", account_id, normalised_provider_transaction_id%s`,
		selectList(c.b, Transactions), where, limitClause(q.Limit))
	var out []store.Transaction
	err = c.scanAll(ctx, Transactions, query, a.vals, func(r *row) error {
		out = append(out, decodeTransaction(r))
		return nil
	})
	return out, err
}

// CountTransactions implements store.Reader.
func (c *Core) CountTransactions(ctx context.Context, q store.TransactionQuery) (int64, error) {
	a := c.args()
	where, err := c.transactionWhere(q, a)
	if err != nil {
		return 0, err
	}
	inner := "SELECT 1 FROM transactions WHERE " + where + limitClause(q.Limit)
	return c.count(ctx, "SELECT count(*) FROM ("+inner+") AS matched", a.vals)
}

func (c *Core) count(ctx context.Context, query string, args []any) (int64, error) {
	rows, err := c.b.Query(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, rows.Close()
}

// Counts implements store.Reader. One statement, so the figures come from
// one snapshot.
func (c *Core) Counts(ctx context.Context, key store.ConnectionKey) (store.Counts, error) {
	if err := key.Validate(); err != nil {
		return store.Counts{}, err
	}
	a := c.args()
	var subs []string
	for _, t := range dataTables {
		subs = append(subs, fmt.Sprintf("(SELECT count(*) FROM %s WHERE %s)", t.Name, a.connection(key)))
	}
	query := "SELECT " + strings.Join(subs, ", ")
	rows, err := c.b.Query(ctx, query, a.vals...)
	if err != nil {
		return store.Counts{}, fmt.Errorf("count rows of %s: %w", key, err)
	}
	defer rows.Close()
	var n store.Counts
	// dataTables order: accounts, cards, balances, transactions, pending,
	// standing orders, direct debits, identities.
	dests := []any{&n.Accounts, &n.Cards, &n.Balances, &n.Transactions, &n.Pending,
		&n.StandingOrders, &n.DirectDebits, &n.Identities}
	if !rows.Next() {
		return store.Counts{}, fmt.Errorf("count rows of %s: %w", key, errors.Join(errors.New("no result row"), rows.Err()))
	}
	if err := rows.Scan(dests...); err != nil {
		return store.Counts{}, fmt.Errorf("count rows of %s: %w", key, err)
	}
	return n, rows.Close()
}
