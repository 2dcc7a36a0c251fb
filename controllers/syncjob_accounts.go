package controllers

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// The connection's accounts: as the runs discovered them (status.accounts) and as the
// store knows them.

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

// recordAccounts keeps the discovered accounts (or cards) in the connection's status,
// on the latest object under an optimistic lock (patchConnectionStatus): the other
// kind's entries and the ledger stay as the latest object has them.
func (r *SyncJobReconciler) recordAccounts(ctx context.Context, rc *runContext, f provider.Fetch, d *provider.Data) error {
	kind, found := discoveredAccounts(f, d)
	latest, err := patchConnectionStatus(ctx, r.Client, r.APIReader, client.ObjectKeyFromObject(rc.bc), lockRetries,
		func(bc *bankingv1alpha1.BankConnection) (bool, error) {
			accounts := slices.Clone(found)
			for _, a := range bc.Status.Accounts {
				if a.Kind != kind {
					accounts = append(accounts, a)
				}
			}
			sort.Slice(accounts, func(i, j int) bool { return accounts[i].ID < accounts[j].ID })
			if slices.Equal(bc.Status.Accounts, accounts) {
				return false, nil
			}
			bc.Status.Accounts = accounts
			return true, nil
		})
	if err != nil {
		return fmt.Errorf("recording accounts: %w", err)
	}
	rc.bc = latest
	return nil
}

// discoveredAccounts are the accounts (kind Account) or cards (kind Card) a fetch
// found.
func discoveredAccounts(f provider.Fetch, d *provider.Data) (kind string, found []bankingv1alpha1.AccountStatus) {
	if f.Resource == provider.ResourceCards {
		for _, c := range d.Cards {
			found = append(found, bankingv1alpha1.AccountStatus{ID: c.AccountID, Kind: "Card", DisplayName: c.DisplayName, Currency: c.Currency})
		}
		return "Card", found
	}
	for _, a := range d.Accounts {
		found = append(found, bankingv1alpha1.AccountStatus{ID: a.AccountID, Kind: "Account", DisplayName: a.DisplayName, Currency: a.Currency})
	}
	return "Account", found
}

func knownAccounts(bc *bankingv1alpha1.BankConnection) []syncrun.Account {
	out := make([]syncrun.Account, 0, len(bc.Status.Accounts))
	for _, a := range bc.Status.Accounts {
		out = append(out, syncrun.Account{ID: a.ID, Card: a.Kind == "Card"})
	}
	return out
}
