package sqlcore

import (
	"fmt"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// The functions below validate a batch, normalise it (UTC microsecond
// times, compact JSON) and turn it into encoded rows of its table.

// accountRows writes account i under stored[i], the store's id of the account
// (matchAccounts), keeping its provider id and stable key beside it.
func accountRows(d Dialect, o store.Owner, accounts []store.Account, stored, keys []string) ([][]any, error) {
	rows := newKeyedRows(len(accounts))
	for i, a := range accounts {
		what := item{"account", i}
		if a.AccountID == "" {
			return nil, fmt.Errorf("%w: %s: empty account id", store.ErrInvalid, what)
		}
		meta, err := normObject(a.Meta, what)
		if err != nil {
			return nil, err
		}
		n := a.Number
		rows.put(stored[i], encodeRow(d, Accounts,
			o.Namespace, o.Connection, o.UserRef, o.Provider, o.UID,
			stored[i], a.Type, a.DisplayName, a.Currency, n.Number, n.SortCode, n.SwiftBIC,
			n.IBAN, n.RoutingNumber, n.BSB, a.InstitutionID, NormTime(a.UpdatedAt),
			NormTime(a.FetchedAt), meta, a.AccountID, keys[i]))
	}
	return rows.sorted(), nil
}

// cardRows writes card i under stored[i], as accountRows does.
func cardRows(d Dialect, o store.Owner, cards []store.Card, stored, keys []string) ([][]any, error) {
	rows := newKeyedRows(len(cards))
	for i, c := range cards {
		what := item{"card", i}
		if c.AccountID == "" {
			return nil, fmt.Errorf("%w: %s: empty account id", store.ErrInvalid, what)
		}
		meta, err := normObject(c.Meta, what)
		if err != nil {
			return nil, err
		}
		rows.put(stored[i], encodeRow(d, Cards,
			o.Namespace, o.Connection, o.UserRef, o.Provider, o.UID,
			stored[i], c.CardNetwork, c.CardType, c.Currency, c.DisplayName,
			c.PartialCardNumber, c.NameOnCard, c.ValidFrom, c.ValidTo, c.InstitutionID,
			NormTime(c.UpdatedAt), NormTime(c.FetchedAt), meta, c.AccountID, keys[i]))
	}
	return rows.sorted(), nil
}

func balanceRows(d Dialect, o store.Owner, balances []store.Balance, ids accountIDs) ([][]any, error) {
	rows := newKeyedRows(len(balances))
	for i, b := range balances {
		what := item{"balance", i}
		if b.AccountID == "" {
			return nil, fmt.Errorf("%w: %s: empty account id", store.ErrInvalid, what)
		}
		if b.ObservedAt.IsZero() {
			return nil, fmt.Errorf("%w: %s: zero observation time", store.ErrInvalid, what)
		}
		if b.Current == "" {
			return nil, fmt.Errorf("%w: %s: current balance missing", store.ErrInvalid, what)
		}
		if err := checkAmounts(what, b.Current, b.Available, b.Overdraft, b.CreditLimit,
			b.LastStatementBalance, b.PaymentDue); err != nil {
			return nil, err
		}
		observed, account := NormTime(b.ObservedAt), ids.of(b.AccountID)
		rows.put(compositeKey(account, observed.Format(TimeLayout)), encodeRow(d, Balances,
			o.Namespace, o.Connection, o.UserRef, o.Provider, o.UID,
			account, observed, b.Currency, canon(b.Current), canon(b.Available), canon(b.Overdraft),
			canon(b.CreditLimit), canon(b.LastStatementBalance), NormTime(b.LastStatementDate), canon(b.PaymentDue),
			NormTime(b.PaymentDueDate), NormTime(b.UpdatedAt)))
	}
	return rows.sorted(), nil
}

// transactionValues are the values of transactionData for one transaction.
func transactionValues(t store.Transaction, what item) ([]any, error) {
	if t.Timestamp.IsZero() {
		return nil, fmt.Errorf("%w: %s: zero timestamp", store.ErrInvalid, what)
	}
	if t.Amount == "" {
		return nil, fmt.Errorf("%w: %s: amount missing", store.ErrInvalid, what)
	}
	var rb store.Money
	if t.RunningBalance != nil {
		rb = *t.RunningBalance
	}
	if err := checkAmounts(what, t.Amount, rb.Amount); err != nil {
		return nil, err
	}
	meta, err := normObject(t.Meta, what)
	if err != nil {
		return nil, err
	}
	classification, err := jsonList(t.Classification)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return []any{
		t.NormalisedProviderTransactionID, t.ProviderTransactionID, NormTime(t.Timestamp),
		t.Description, canon(t.Amount), t.Currency, t.Type, t.Category, classification,
		t.MerchantName, canon(rb.Amount), rb.Currency, meta,
	}, nil
}

func transactionRows(d Dialect, o store.Owner, txs []store.Transaction, ids accountIDs) ([][]any, error) {
	rows := newKeyedRows(len(txs))
	for i, t := range txs {
		what := item{"transaction", i}
		if t.AccountID == "" {
			return nil, fmt.Errorf("%w: %s: empty account id", store.ErrInvalid, what)
		}
		if t.NormalisedProviderTransactionID == "" {
			return nil, fmt.Errorf("%w: %s: empty normalised_provider_transaction_id", store.ErrInvalid, what)
		}
		data, err := transactionValues(t, what)
		if err != nil {
			return nil, err
		}
		account := ids.of(t.AccountID)
		vals := append([]any{o.Namespace, o.Connection, o.UserRef, o.Provider, o.UID, account}, data...)
		rows.put(compositeKey(account, t.NormalisedProviderTransactionID),
			encodeRow(d, Transactions, vals...))
	}
	return rows.sorted(), nil
}

// snapshotAccount checks that a per-account record belongs to accountID.
func snapshotAccount(accountID, recordAccount string, what item) error {
	if recordAccount != "" && recordAccount != accountID {
		return fmt.Errorf("%w: %s belongs to account %q, not %q", store.ErrInvalid, what, recordAccount, accountID)
	}
	return nil
}

func pendingRows(d Dialect, o store.Owner, accountID string, fetched time.Time, txs []store.Transaction) ([][]any, error) {
	rows := make([][]any, 0, len(txs))
	for i, t := range txs {
		what := item{"pending transaction", i}
		if err := snapshotAccount(accountID, t.AccountID, what); err != nil {
			return nil, err
		}
		data, err := transactionValues(t, what)
		if err != nil {
			return nil, err
		}
		vals := append([]any{o.Namespace, o.Connection, o.UserRef, o.Provider, o.UID, accountID, int64(i)}, data...)
		rows = append(rows, encodeRow(d, Pending, append(vals, fetched)...))
	}
	return rows, nil
}

func standingOrderRows(d Dialect, o store.Owner, accountID string, fetched time.Time, orders []store.StandingOrder) ([][]any, error) {
	rows := make([][]any, 0, len(orders))
	for i, s := range orders {
		what := item{"standing order", i}
		if err := snapshotAccount(accountID, s.AccountID, what); err != nil {
			return nil, err
		}
		if err := checkAmounts(what, s.NextPaymentAmount, s.FirstPaymentAmount, s.FinalPaymentAmount); err != nil {
			return nil, err
		}
		meta, err := normObject(s.Meta, what)
		if err != nil {
			return nil, err
		}
		rows = append(rows, encodeRow(d, StandingOrders,
			o.Namespace, o.Connection, o.UserRef, o.Provider, o.UID, accountID, int64(i),
			s.Frequency, s.Status, NormTime(s.Timestamp), s.Currency,
			NormTime(s.NextPaymentDate), canon(s.NextPaymentAmount),
			NormTime(s.FirstPaymentDate), canon(s.FirstPaymentAmount),
			NormTime(s.FinalPaymentDate), canon(s.FinalPaymentAmount),
			s.Payee, s.Reference, meta, fetched))
	}
	return rows, nil
}

func directDebitRows(d Dialect, o store.Owner, accountID string, fetched time.Time, debits []store.DirectDebit) ([][]any, error) {
	rows := make([][]any, 0, len(debits))
	for i, dd := range debits {
		what := item{"direct debit", i}
		if err := snapshotAccount(accountID, dd.AccountID, what); err != nil {
			return nil, err
		}
		if err := checkAmounts(what, dd.PreviousPaymentAmount); err != nil {
			return nil, err
		}
		meta, err := normObject(dd.Meta, what)
		if err != nil {
			return nil, err
		}
		rows = append(rows, encodeRow(d, DirectDebits,
			o.Namespace, o.Connection, o.UserRef, o.Provider, o.UID, accountID, int64(i),
			dd.DirectDebitID, NormTime(dd.Timestamp), dd.Name, dd.Status,
			NormTime(dd.PreviousPaymentTimestamp), canon(dd.PreviousPaymentAmount), dd.Currency,
			meta, fetched))
	}
	return rows, nil
}

func identityRows(d Dialect, o store.Owner, accountID string, fetched time.Time, ids []store.Identity) ([][]any, error) {
	rows := make([][]any, 0, len(ids))
	for i, id := range ids {
		what := item{"identity", i}
		meta, err := normObject(id.Meta, what)
		if err != nil {
			return nil, err
		}
		emails, err := jsonList(id.Emails)
		if err != nil {
			return nil, err
		}
		phones, err := jsonList(id.Phones)
		if err != nil {
			return nil, err
		}
		addresses, err := jsonList(id.Addresses)
		if err != nil {
			return nil, err
		}
		rows = append(rows, encodeRow(d, Identities,
			o.Namespace, o.Connection, o.UserRef, o.Provider, o.UID, accountID, int64(i),
			id.FullName, id.Title, id.FirstName, id.LastName, id.DateOfBirth, id.BranchID,
			emails, phones, addresses, NormTime(id.UpdatedAt), meta, fetched))
	}
	return rows, nil
}
