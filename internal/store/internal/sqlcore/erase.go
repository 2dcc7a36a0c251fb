package sqlcore

import (
	"context"
	"fmt"

	"github.com/consent-operator/consent-operator/internal/store"
)

// DeleteUser implements store.Writer. Every table carries user_ref, so the
// erasure reaches rows of deleted connections (spec.dataRetention Retain) and
// of every incarnation of a name, and nothing of another user.
func (c *Core) DeleteUser(ctx context.Context, user store.UserKey) (store.Erased, error) {
	if err := user.Validate(); err != nil {
		return store.Erased{}, err
	}
	var e store.Erased
	// In a fixed order, so concurrent erasures lock tables alike.
	erased := []struct {
		t *Table
		n *int64
	}{
		{Accounts, &e.Accounts}, {Cards, &e.Cards}, {Balances, &e.Balances}, {Transactions, &e.Transactions},
		{Pending, &e.Pending}, {StandingOrders, &e.StandingOrders}, {DirectDebits, &e.DirectDebits},
		{Identities, &e.Identities}, {SyncRuns, &e.SyncRuns}, {Connections, &e.Connections},
	}
	err := c.b.InTx(ctx, func(tx Tx) error {
		// sync_run_counts rows go with their runs (ON DELETE CASCADE).
		for _, x := range erased {
			t, n := x.t, x.n
			a := c.args()
			del := fmt.Sprintf("DELETE FROM %s WHERE namespace = %s AND user_ref = %s", t.Name, a.add(user.Namespace), a.add(user.UserRef))
			rows, err := tx.Exec(ctx, del, a.vals...)
			if err != nil {
				return fmt.Errorf("erase %s of user %s: %w", t.Name, user, err)
			}
			*n = rows
		}
		return nil
	})
	if err != nil {
		return store.Erased{}, err
	}
	return e, nil
}
