package controllers

import (
	"context"
	"fmt"

	"github.com/consent-operator/consent-operator/internal/store"
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
