package syncrun

import (
	"context"
	"fmt"
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
)

// Result is what storing one fetch did.
type Result struct {
	Resource bankingv1alpha1.SyncResource
	// Fetched is how many records the provider returned; Stored how many were new.
	Fetched, Stored int64
	// Accounts are the accounts and cards found (connection-level fetches).
	Accounts []Account
}

// Write stores the data of one fetch for owner. Writes are idempotent: a run
// interrupted after its data was stored and run again stores nothing twice.
func Write(ctx context.Context, w store.Writer, owner store.Owner, f provider.Fetch, d *provider.Data, now time.Time) (Result, error) {
	res := Result{Resource: SyncResource(f.Resource)}
	count := func(br store.BatchResult, err error) error {
		if err != nil {
			return err
		}
		res.Stored += int64(br.Inserted)
		return nil
	}
	var err error
	switch f.Resource {
	case provider.ResourceAccounts:
		res.Fetched = int64(len(d.Accounts))
		for _, a := range d.Accounts {
			res.Accounts = append(res.Accounts, Account{ID: a.AccountID})
		}
		err = count(w.UpsertAccounts(ctx, owner, d.Accounts))
	case provider.ResourceCards:
		res.Fetched = int64(len(d.Cards))
		for _, c := range d.Cards {
			res.Accounts = append(res.Accounts, Account{ID: c.AccountID, Card: true})
		}
		err = count(w.UpsertCards(ctx, owner, d.Cards))
	case provider.ResourceBalance:
		res.Fetched = int64(len(d.Balances))
		err = count(w.AppendBalances(ctx, owner, d.Balances))
	case provider.ResourceTransactions:
		res.Fetched = int64(len(d.Transactions))
		err = count(w.UpsertTransactions(ctx, owner, d.Transactions))
		if err == nil && len(d.Pending) > 0 {
			// V3 returns pending transactions with the booked ones.
			err = w.ReplacePending(ctx, owner, f.AccountID, now, d.Pending)
		}
	case provider.ResourcePending:
		res.Fetched, res.Stored = int64(len(d.Pending)), int64(len(d.Pending))
		err = w.ReplacePending(ctx, owner, f.AccountID, now, d.Pending)
	case provider.ResourceStandingOrders:
		res.Fetched, res.Stored = int64(len(d.StandingOrders)), int64(len(d.StandingOrders))
		err = w.ReplaceStandingOrders(ctx, owner, f.AccountID, now, d.StandingOrders)
	case provider.ResourceDirectDebits:
		res.Fetched, res.Stored = int64(len(d.DirectDebits)), int64(len(d.DirectDebits))
		err = w.ReplaceDirectDebits(ctx, owner, f.AccountID, now, d.DirectDebits)
	case provider.ResourceInfo, provider.ResourceIdentity:
		res.Fetched = int64(len(d.Identities))
		if len(d.Identities) > 0 {
			err = w.ReplaceIdentity(ctx, owner, "", now, d.Identities)
		}
		for accountID, ids := range d.AccountIdentities {
			if err != nil {
				break
			}
			res.Fetched += int64(len(ids))
			err = w.ReplaceIdentity(ctx, owner, accountID, now, ids)
		}
		res.Stored = res.Fetched
	default:
		return res, fmt.Errorf("unknown resource %q", f.Resource)
	}
	if err != nil {
		return res, fmt.Errorf("storing %s: %w", f.Resource, err)
	}
	return res, nil
}

// SyncResource is the API name of a provider resource.
func SyncResource(r provider.Resource) bankingv1alpha1.SyncResource { return resourceNames[r] }

// ProviderResource is the provider resource of an API name.
func ProviderResource(r bankingv1alpha1.SyncResource) provider.Resource {
	for k, v := range resourceNames {
		if v == r {
			return k
		}
	}
	return ""
}

var resourceNames = map[provider.Resource]bankingv1alpha1.SyncResource{
	provider.ResourceInfo:           bankingv1alpha1.ResourceInfo,
	provider.ResourceIdentity:       bankingv1alpha1.ResourceIdentity,
	provider.ResourceAccounts:       bankingv1alpha1.ResourceAccounts,
	provider.ResourceCards:          bankingv1alpha1.ResourceCards,
	provider.ResourceBalance:        bankingv1alpha1.ResourceBalance,
	provider.ResourceTransactions:   bankingv1alpha1.ResourceTransactions,
	provider.ResourcePending:        bankingv1alpha1.ResourcePendingTransactions,
	provider.ResourceStandingOrders: bankingv1alpha1.ResourceStandingOrders,
	provider.ResourceDirectDebits:   bankingv1alpha1.ResourceDirectDebits,
}
