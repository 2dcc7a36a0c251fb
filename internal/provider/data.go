package provider

import (
	"context"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Resource names a kind of data a SyncJob fetches.
type Resource string

const (
	ResourceInfo           Resource = "info"
	ResourceAccounts       Resource = "accounts"
	ResourceCards          Resource = "cards"
	ResourceBalance        Resource = "balance"
	ResourceTransactions   Resource = "transactions"
	ResourcePending        Resource = "pending"
	ResourceStandingOrders Resource = "standing_orders"
	ResourceDirectDebits   Resource = "direct_debits"
	ResourceIdentity       Resource = "identity"
)

// Fetch is one request for data.
type Fetch struct {
	Resource Resource
	// AccountID is the account or card the data belongs to (empty for info,
	// accounts, cards and connection-level identity).
	AccountID string
	// Card is true when AccountID is a card (TrueLayer serves cards under /cards).
	Card bool
	// From and To bound transactions: From inclusive, To exclusive.
	From, To time.Time
	// PSUIP, when set, marks the request as attended by the user at that address
	// (X-PSU-IP / Tl-User-IP): it does not count against the unattended limit.
	PSUIP string
	// WebhookURI, when set, asks for asynchronous processing: the provider answers
	// with a Task and notifies this URI when the results are ready.
	WebhookURI string
	// Async asks for asynchronous processing without a webhook (the caller polls).
	Async bool
	// AllData says the run wants every data type the provider offers, so a
	// provider that refreshes them all with one request does (Codat: POST
	// /companies/{id}/data/all with the run's first fetch, accounts; the later
	// fetches of the run take the pulls it queued).
	AllData bool
}

// Task is data the provider is preparing asynchronously.
type Task struct {
	ID         string
	ResultsURI string
}

// Data is what a fetch returned, in the store's provider-neutral records. The store
// fills in the owner; FetchedAt is set by the client.
type Data struct {
	Accounts       []store.Account
	Cards          []store.Card
	Balances       []store.Balance
	Transactions   []store.Transaction
	Pending        []store.Transaction
	StandingOrders []store.StandingOrder
	DirectDebits   []store.DirectDebit
	Identities     []store.Identity
	// AccountIdentities are identities that belong to one account rather than
	// to the whole connection (Signup+ asked per account, e.g. after
	// multiple_accounts_linked), by account id. Store each entry with
	// ReplaceIdentity(ctx, owner, accountID, ...); Identities are the
	// connection's (accountID "").
	AccountIdentities map[string][]store.Identity
	// IdentityAccounts are accounts whose identity must be asked for one by
	// one (Signup+'s multiple_accounts_linked): each is one more call to the
	// bank, so the caller counts and sends them as Fetch{Resource:
	// ResourceIdentity, AccountID} rather than the client following them.
	IdentityAccounts []string
}

// FetchResult is either Data (synchronous) or a Task to collect later.
type FetchResult struct {
	Data *Data
	Task *Task
}

// DataClient reads a connection's data. Every method returns *Error on failure
// (classified as for Client); a provider's "not ready yet" for a task is (nil, nil)
// from Collect.
type DataClient interface {
	// Fetch requests data. With WebhookURI or Async the provider may answer with a Task.
	Fetch(ctx context.Context, c Connection, s Session, f Fetch) (FetchResult, error)
	// Collect reads a Task's results: Data when ready, nil while the provider is
	// still working.
	Collect(ctx context.Context, c Connection, s Session, t Task, f Fetch) (*Data, error)
}
