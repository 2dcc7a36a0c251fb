package sqlcore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// touchConnection records the owner of a connection in the same transaction
// as its data. The insert does nothing when the row exists and the update
// matches no row unless userRef or provider changed, so concurrent writers
// of one connection do not queue behind a row lock on every batch.
func (c *Core) touchConnection(ctx context.Context, tx Tx, o store.Owner) error {
	a := c.args()
	ins := fmt.Sprintf(`INSERT INTO connections (namespace, connection, connection_uid, user_ref, provider)
VALUES (%s, %s, %s, %s, %s) ON CONFLICT (namespace, connection, connection_uid) DO NOTHING`,
		a.add(o.Namespace), a.add(o.Connection), a.add(o.UID), a.add(o.UserRef), a.add(o.Provider))
	n, err := tx.Exec(ctx, ins, a.vals...)
	if err != nil {
		return fmt.Errorf("record connection %s: %w", o.Key(), err)
	}
	if n == 1 {
		return c.adoptLegacyRows(ctx, tx, o.Key())
	}
	a = c.args()
	upd := fmt.Sprintf(`UPDATE connections SET user_ref = %s, provider = %s, updated_at = %s
WHERE %s AND (user_ref <> %s OR provider <> %s)`,
		a.add(o.UserRef), a.add(o.Provider), c.b.Now(), a.connection(o.Key()),
		a.add(o.UserRef), a.add(o.Provider))
	if _, err := tx.Exec(ctx, upd, a.vals...); err != nil {
		return fmt.Errorf("update connection %s: %w", o.Key(), err)
	}
	return nil
}

// adoptLegacyRows gives the rows written before rows carried a UID (migration
// 0002 left them with an empty one) to the first incarnation of their name that
// writes after the upgrade. Before it a name was the identity, so the connection
// living under that name at the upgrade is the one they were fetched through;
// without this, an upgrade would hide a connection's history from it and its
// deletion would leave that history behind. It runs once per incarnation, on
// the write that records it.
func (c *Core) adoptLegacyRows(ctx context.Context, tx Tx, k store.ConnectionKey) error {
	legacy := store.ConnectionKey{Namespace: k.Namespace, Connection: k.Connection}
	for _, t := range slices.Concat(dataTables, []*Table{SyncRuns}) {
		a := c.args()
		upd := fmt.Sprintf("UPDATE %s SET connection_uid = %s WHERE %s", t.Name, a.add(k.UID), a.connection(legacy))
		if _, err := tx.Exec(ctx, upd, a.vals...); err != nil {
			return fmt.Errorf("adopt %s of %s written before uids: %w", t.Name, k, err)
		}
	}
	a := c.args()
	del := "DELETE FROM connections WHERE " + a.connection(legacy)
	if _, err := tx.Exec(ctx, del, a.vals...); err != nil {
		return fmt.Errorf("adopt connection %s written before uids: %w", k, err)
	}
	return nil
}

// upsert writes one prepared batch in one transaction. rows are the batch encoded
// under the provider's account ids, so invalid input is refused before any database
// work; remap, when not nil, encodes it again inside the transaction under the
// store's ids (identity.go) and returns nil when nothing changes.
func (c *Core) upsert(ctx context.Context, o store.Owner, t *Table, rows [][]any, remap func(context.Context, Tx) ([][]any, error)) (store.BatchResult, error) {
	if len(rows) == 0 {
		return store.BatchResult{}, nil
	}
	var res store.BatchResult
	err := c.b.InTx(ctx, func(tx Tx) error {
		if err := c.touchConnection(ctx, tx, o); err != nil {
			return err
		}
		if remap != nil {
			again, err := remap(ctx, tx)
			if err != nil {
				return err
			}
			if again != nil {
				rows = again
			}
		}
		ins, upd, err := tx.Upsert(ctx, t, rows)
		if err != nil {
			return fmt.Errorf("write %d %s rows of %s: %w", len(rows), t.Name, o.Key(), err)
		}
		res = store.BatchResult{Inserted: ins, Updated: upd, Unchanged: len(rows) - ins - upd}
		return nil
	})
	if err != nil {
		return store.BatchResult{}, err
	}
	return res, nil
}

// underStoreIDs is the remap of a batch naming accounts by provider id: encoded
// again only when the connection has re-keyed accounts.
func (c *Core) underStoreIDs(o store.Owner, build func(accountIDs) ([][]any, error)) func(context.Context, Tx) ([][]any, error) {
	return func(ctx context.Context, tx Tx) ([][]any, error) {
		ids, err := c.accountIDs(ctx, tx, o.Key())
		if err != nil || len(ids) == 0 {
			return nil, err
		}
		return build(ids)
	}
}

// matched is the remap of an accounts or cards batch: each row goes under the
// store's id of the account it is (matchAccounts).
func (c *Core) matched(o store.Owner, t *Table, providerIDs, keys []string, build func(stored, keys []string) ([][]any, error)) func(context.Context, Tx) ([][]any, error) {
	return func(ctx context.Context, tx Tx) ([][]any, error) {
		existing, err := c.identities(ctx, tx, t, o.Key())
		if err != nil {
			return nil, err
		}
		return build(matchAccounts(existing, providerIDs, keys))
	}
}

// upsertMatched writes a batch of accounts or cards: encoded first under the
// provider's ids, then, in the transaction, under the store's id of the
// account each is (matched).
func upsertMatched[R any](ctx context.Context, c *Core, t *Table, o store.Owner, records []R, id, key func(R) string,
	encode func(Dialect, store.Owner, []R, []string, []string) ([][]any, error)) (store.BatchResult, error) {
	if err := o.Validate(); err != nil {
		return store.BatchResult{}, err
	}
	ids, keys := make([]string, len(records)), make([]string, len(records))
	for i, r := range records {
		ids[i], keys[i] = id(r), key(r)
	}
	build := func(stored, keys []string) ([][]any, error) { return encode(c.b, o, records, stored, keys) }
	rows, err := build(ids, keys)
	if err != nil {
		return store.BatchResult{}, err
	}
	return c.upsert(ctx, o, t, rows, c.matched(o, t, ids, keys, build))
}

// UpsertAccounts implements store.Writer.
func (c *Core) UpsertAccounts(ctx context.Context, o store.Owner, accounts []store.Account) (store.BatchResult, error) {
	return upsertMatched(ctx, c, Accounts, o, accounts, func(a store.Account) string { return a.AccountID }, store.AccountKey, accountRows)
}

// UpsertCards implements store.Writer.
func (c *Core) UpsertCards(ctx context.Context, o store.Owner, cards []store.Card) (store.BatchResult, error) {
	return upsertMatched(ctx, c, Cards, o, cards, func(card store.Card) string { return card.AccountID }, store.CardKey, cardRows)
}

// upsertUnderStoreIDs writes a batch of records naming their account by
// provider id, encoded again under the store's ids where the connection has
// re-keyed accounts (underStoreIDs).
func upsertUnderStoreIDs[R any](ctx context.Context, c *Core, t *Table, o store.Owner, records []R,
	encode func(Dialect, store.Owner, []R, accountIDs) ([][]any, error)) (store.BatchResult, error) {
	if err := o.Validate(); err != nil {
		return store.BatchResult{}, err
	}
	build := func(ids accountIDs) ([][]any, error) { return encode(c.b, o, records, ids) }
	rows, err := build(nil)
	if err != nil {
		return store.BatchResult{}, err
	}
	return c.upsert(ctx, o, t, rows, c.underStoreIDs(o, build))
}

// AppendBalances implements store.Writer.
func (c *Core) AppendBalances(ctx context.Context, o store.Owner, balances []store.Balance) (store.BatchResult, error) {
	return upsertUnderStoreIDs(ctx, c, Balances, o, balances, balanceRows)
}

// UpsertTransactions implements store.Writer.
func (c *Core) UpsertTransactions(ctx context.Context, o store.Owner, txs []store.Transaction) (store.BatchResult, error) {
	return upsertUnderStoreIDs(ctx, c, Transactions, o, txs, transactionRows)
}

// replace swaps the rows of one account scope of a snapshot table. accountID is
// the provider's; the scope and rows go under the store's id of the account.
func (c *Core) replace(ctx context.Context, o store.Owner, t *Table, accountID string, rows [][]any) error {
	return c.b.InTx(ctx, func(tx Tx) error {
		if err := c.touchConnection(ctx, tx, o); err != nil {
			return err
		}
		ids, err := c.accountIDs(ctx, tx, o.Key())
		if err != nil {
			return err
		}
		if stored := ids.of(accountID); stored != accountID {
			col := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Name == "account_id" })
			for _, r := range rows {
				r[col] = c.b.Encode(Text, stored)
			}
			accountID = stored
		}
		a := c.args()
		del := fmt.Sprintf("DELETE FROM %s WHERE %s AND account_id = %s", t.Name, a.connection(o.Key()), a.add(accountID))
		if _, err := tx.Exec(ctx, del, a.vals...); err != nil {
			return fmt.Errorf("clear %s of %s account %q: %w", t.Name, o.Key(), accountID, err)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := tx.Insert(ctx, t, rows); err != nil {
			return fmt.Errorf("write %d %s rows of %s account %q: %w", len(rows), t.Name, o.Key(), accountID, err)
		}
		return nil
	})
}

func checkSnapshot(o store.Owner, accountID string, fetchedAt time.Time, accountRequired bool) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if accountRequired && accountID == "" {
		return fmt.Errorf("%w: account id is empty", store.ErrInvalid)
	}
	if fetchedAt.IsZero() {
		return fmt.Errorf("%w: fetch time is zero", store.ErrInvalid)
	}
	return nil
}

// replaceSnapshot checks a snapshot of one account scope, encodes its records
// with encode and replaces the scope's rows in t with them.
func replaceSnapshot[R any](ctx context.Context, c *Core, t *Table, o store.Owner, accountID string, fetchedAt time.Time, accountRequired bool,
	records []R, encode func(Dialect, store.Owner, string, time.Time, []R) ([][]any, error)) error {
	if err := checkSnapshot(o, accountID, fetchedAt, accountRequired); err != nil {
		return err
	}
	rows, err := encode(c.b, o, accountID, NormTime(fetchedAt), records)
	if err != nil {
		return err
	}
	return c.replace(ctx, o, t, accountID, rows)
}

// ReplacePending implements store.Writer.
func (c *Core) ReplacePending(ctx context.Context, o store.Owner, accountID string, fetchedAt time.Time, txs []store.Transaction) error {
	return replaceSnapshot(ctx, c, Pending, o, accountID, fetchedAt, true, txs, pendingRows)
}

// ReplaceStandingOrders implements store.Writer.
func (c *Core) ReplaceStandingOrders(ctx context.Context, o store.Owner, accountID string, fetchedAt time.Time, orders []store.StandingOrder) error {
	return replaceSnapshot(ctx, c, StandingOrders, o, accountID, fetchedAt, true, orders, standingOrderRows)
}

// ReplaceDirectDebits implements store.Writer.
func (c *Core) ReplaceDirectDebits(ctx context.Context, o store.Owner, accountID string, fetchedAt time.Time, debits []store.DirectDebit) error {
	return replaceSnapshot(ctx, c, DirectDebits, o, accountID, fetchedAt, true, debits, directDebitRows)
}

// ReplaceIdentity implements store.Writer; its scope may be the whole
// connection (an empty accountID).
func (c *Core) ReplaceIdentity(ctx context.Context, o store.Owner, accountID string, fetchedAt time.Time, ids []store.Identity) error {
	return replaceSnapshot(ctx, c, Identities, o, accountID, fetchedAt, false, ids, identityRows)
}

// DeleteConnection implements store.Writer. Rows of the name written before
// rows carried a UID go too: had any later incarnation written, it would have
// adopted them (adoptLegacyRows), so they are this connection's.
func (c *Core) DeleteConnection(ctx context.Context, key store.ConnectionKey) error {
	if err := key.Validate(); err != nil {
		return err
	}
	legacy := store.ConnectionKey{Namespace: key.Namespace, Connection: key.Connection}
	return c.b.InTx(ctx, func(tx Tx) error {
		// sync_run_counts rows go with their runs (ON DELETE CASCADE).
		for _, t := range slices.Concat(dataTables, []*Table{SyncRuns, Connections}) {
			for _, k := range []store.ConnectionKey{key, legacy} {
				a := c.args()
				if _, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s", t.Name, a.connection(k)), a.vals...); err != nil {
					return fmt.Errorf("delete %s of %s: %w", t.Name, key, err)
				}
			}
		}
		return nil
	})
}
