package controllers

import (
	"context"
	"fmt"

	"github.com/consent-operator/consent-operator/internal/budget"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// storeAccountIDs maps the provider's account and card ids of the connection's
// latest consent to the store's ids. Watermarks are kept under the store's ids: a
// re-consent that brings new provider ids for the same accounts (the store matches
// them by sort code and number, IBAN or card; see store.AccountIdentity) continues
// from their watermarks instead of reading the whole history again. Before any
// re-consent the two ids are the same.
type storeAccountIDs map[string]string

// of returns the store's id of the account the provider calls id.
func (m storeAccountIDs) of(id string) string {
	if stored, ok := m[id]; ok {
		return stored
	}
	return id
}

// budgetPlan is the ledger plan of fetches under the store's account ids: the
// four-calls rule counts unattended calls per bank account, and a re-consent's new
// ids do not make it another account.
func budgetPlan(fetches []provider.Fetch, ids storeAccountIDs) budget.Plan {
	p := budget.Plan{}
	for k, n := range syncrun.BudgetPlan(fetches) {
		k.AccountID = ids.of(k.AccountID)
		p[k] += n
	}
	return p
}

// accountIDs reads the connection's account identities from the store.
func (r *SyncJobReconciler) accountIDs(ctx context.Context, key store.ConnectionKey) (storeAccountIDs, error) {
	ids, err := r.Store.AccountIdentities(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("reading the store's account ids of %s: %w", key, err)
	}
	m := make(storeAccountIDs, len(ids))
	for _, id := range ids {
		m[id.ProviderAccountID] = id.AccountID
	}
	return m, nil
}
