package sqlcore

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// The functions below validate a batch, normalise it (UTC microsecond
// times, compact JSON) and turn it into encoded rows of its table.

// ownerValues are the values of ownerColumns for o.
func ownerValues(o store.Owner) []any {
	return []any{o.Namespace, o.Connection, o.UserRef, o.Provider, o.UID}
}

// encodeKeyed encodes a batch of a table keyed by account and a record key:
// every record names its account (accountOf); values validates record i and
// returns its key and its values after the owner's. Of records with one key
// the last wins (keyedRows).
func encodeKeyed[R any](d Dialect, t *Table, o store.Owner, kind string, records []R, accountOf func(R) string,
	values func(i int, r R, what item) (key string, vals []any, err error)) ([][]any, error) {
	rows := newKeyedRows(len(records))
	owner := ownerValues(o) // once: slices.Concat copies it into each row
	for i, r := range records {
		what := item{kind, i}
		if accountOf(r) == "" {
			return nil, fmt.Errorf("%w: %s: empty account id", store.ErrInvalid, what)
		}
		key, vals, err := values(i, r, what)
		if err != nil {
			return nil, err
		}
		rows.put(key, encodeRow(d, t, slices.Concat(owner, vals)...))
	}
	return rows.sorted(), nil
}

// encodeSnapshot encodes the records of one account scope of snapshot table t
// (snapshotTable): values validates a record and returns its values between
// its position and the fetch time.
func encodeSnapshot[R any](d Dialect, t *Table, o store.Owner, accountID string, fetched time.Time, kind string, records []R,
	values func(r R, what item) ([]any, error)) ([][]any, error) {
	rows := make([][]any, 0, len(records))
	// Built once: slices.Concat copies them into each row, which encodeRow then
	// encodes in place.
	head, tail := append(ownerValues(o), accountID), []any{fetched}
	for i, r := range records {
		vals, err := values(r, item{kind, i})
		if err != nil {
			return nil, err
		}
		rows = append(rows, encodeRow(d, t, slices.Concat(head, []any{int64(i)}, vals, tail)...))
	}
	return rows, nil
}

// recordMeta checks a record's amounts and returns its meta normalised.
func recordMeta(what item, meta json.RawMessage, amounts ...store.Amount) ([]byte, error) {
	if err := checkAmounts(what, amounts...); err != nil {
		return nil, err
	}
	return normObject(meta, what)
}

// accountRows writes account i under stored[i], the store's id of the account
// (matchAccounts), keeping its provider id and stable key beside it.
func accountRows(d Dialect, o store.Owner, accounts []store.Account, stored, keys []string) ([][]any, error) {
	return encodeKeyed(d, Accounts, o, "account", accounts, func(a store.Account) string { return a.AccountID },
		func(i int, a store.Account, what item) (string, []any, error) {
			meta, err := recordMeta(what, a.Meta)
			n := a.Number
			return stored[i], []any{stored[i], a.Type, a.DisplayName, a.Currency, n.Number, n.SortCode, n.SwiftBIC,
				n.IBAN, n.RoutingNumber, n.BSB, a.InstitutionID, NormTime(a.UpdatedAt),
				NormTime(a.FetchedAt), meta, a.AccountID, keys[i]}, err
		})
}

// cardRows writes card i under stored[i], as accountRows does.
func cardRows(d Dialect, o store.Owner, cards []store.Card, stored, keys []string) ([][]any, error) {
	return encodeKeyed(d, Cards, o, "card", cards, func(c store.Card) string { return c.AccountID },
		func(i int, c store.Card, what item) (string, []any, error) {
			meta, err := recordMeta(what, c.Meta)
			return stored[i], []any{stored[i], c.CardNetwork, c.CardType, c.Currency, c.DisplayName,
				c.PartialCardNumber, c.NameOnCard, c.ValidFrom, c.ValidTo, c.InstitutionID,
				NormTime(c.UpdatedAt), NormTime(c.FetchedAt), meta, c.AccountID, keys[i]}, err
		})
}

func balanceRows(d Dialect, o store.Owner, balances []store.Balance, ids accountIDs) ([][]any, error) {
	return encodeKeyed(d, Balances, o, "balance", balances, func(b store.Balance) string { return b.AccountID },
		func(_ int, b store.Balance, what item) (string, []any, error) {
			if b.ObservedAt.IsZero() {
				return "", nil, fmt.Errorf("%w: %s: zero observation time", store.ErrInvalid, what)
			}
			if b.Current == "" {
				return "", nil, fmt.Errorf("%w: %s: current balance missing", store.ErrInvalid, what)
			}
			if err := checkAmounts(what, b.Current, b.Available, b.Overdraft, b.CreditLimit,
				b.LastStatementBalance, b.PaymentDue); err != nil {
				return "", nil, err
			}
			observed, account := NormTime(b.ObservedAt), ids.of(b.AccountID)
			return compositeKey(account, observed.Format(TimeLayout)), []any{
				account, observed, b.Currency, canon(b.Current), canon(b.Available), canon(b.Overdraft),
				canon(b.CreditLimit), canon(b.LastStatementBalance), NormTime(b.LastStatementDate), canon(b.PaymentDue),
				NormTime(b.PaymentDueDate), NormTime(b.UpdatedAt)}, nil
		})
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
	meta, err := recordMeta(what, t.Meta, t.Amount, rb.Amount)
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
	return encodeKeyed(d, Transactions, o, "transaction", txs, func(t store.Transaction) string { return t.AccountID },
		func(_ int, t store.Transaction, what item) (string, []any, error) {
			if t.NormalisedProviderTransactionID == "" {
				return "", nil, fmt.Errorf("%w: %s: empty normalised_provider_transaction_id", store.ErrInvalid, what)
			}
			data, err := transactionValues(t, what)
			if err != nil {
				return "", nil, err
			}
			account := ids.of(t.AccountID)
			return compositeKey(account, t.NormalisedProviderTransactionID), append([]any{account}, data...), nil
		})
}

// snapshotAccount checks that a per-account record belongs to accountID.
func snapshotAccount(accountID, recordAccount string, what item) error {
	if recordAccount != "" && recordAccount != accountID {
		return fmt.Errorf("%w: %s belongs to account %q, not %q", store.ErrInvalid, what, recordAccount, accountID)
	}
	return nil
}

func pendingRows(d Dialect, o store.Owner, accountID string, fetched time.Time, txs []store.Transaction) ([][]any, error) {
	return encodeSnapshot(d, Pending, o, accountID, fetched, "pending transaction", txs,
		func(t store.Transaction, what item) ([]any, error) {
			if err := snapshotAccount(accountID, t.AccountID, what); err != nil {
				return nil, err
			}
			return transactionValues(t, what)
		})
}

func standingOrderRows(d Dialect, o store.Owner, accountID string, fetched time.Time, orders []store.StandingOrder) ([][]any, error) {
	return encodeSnapshot(d, StandingOrders, o, accountID, fetched, "standing order", orders,
		func(s store.StandingOrder, what item) ([]any, error) {
			if err := snapshotAccount(accountID, s.AccountID, what); err != nil {
				return nil, err
			}
			meta, err := recordMeta(what, s.Meta, s.NextPaymentAmount, s.FirstPaymentAmount, s.FinalPaymentAmount)
			return []any{s.Frequency, s.Status, NormTime(s.Timestamp), s.Currency,
				NormTime(s.NextPaymentDate), canon(s.NextPaymentAmount),
				NormTime(s.FirstPaymentDate), canon(s.FirstPaymentAmount),
				NormTime(s.FinalPaymentDate), canon(s.FinalPaymentAmount),
				s.Payee, s.Reference, meta}, err
		})
}

func directDebitRows(d Dialect, o store.Owner, accountID string, fetched time.Time, debits []store.DirectDebit) ([][]any, error) {
	return encodeSnapshot(d, DirectDebits, o, accountID, fetched, "direct debit", debits,
		func(dd store.DirectDebit, what item) ([]any, error) {
			if err := snapshotAccount(accountID, dd.AccountID, what); err != nil {
				return nil, err
			}
			meta, err := recordMeta(what, dd.Meta, dd.PreviousPaymentAmount)
			return []any{dd.DirectDebitID, NormTime(dd.Timestamp), dd.Name, dd.Status,
				NormTime(dd.PreviousPaymentTimestamp), canon(dd.PreviousPaymentAmount), dd.Currency, meta}, err
		})
}

func identityRows(d Dialect, o store.Owner, accountID string, fetched time.Time, ids []store.Identity) ([][]any, error) {
	return encodeSnapshot(d, Identities, o, accountID, fetched, "identity", ids,
		func(id store.Identity, what item) ([]any, error) {
			meta, err := recordMeta(what, id.Meta)
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
			return []any{id.FullName, id.Title, id.FirstName, id.LastName, id.DateOfBirth, id.BranchID,
				emails, phones, addresses, NormTime(id.UpdatedAt), meta}, err
		})
}
