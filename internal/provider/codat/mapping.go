package codat

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// This file maps the Banking API's records to the store's provider-neutral
// ones. The functions are pure; Collect supplies the clock's time.

// amountOf keeps Codat's decimal text when it is a plain decimal and
// otherwise (an exponent) goes through float64's shortest form.
func amountOf(field string, n json.Number) (store.Amount, error) {
	if n == "" {
		return "", nil
	}
	if a := store.Amount(n.String()); a.Validate() == nil {
		return a, nil
	}
	f, err := n.Float64()
	if err != nil {
		return "", fmt.Errorf("%s: %q is not a number", field, n.String())
	}
	a, err := store.AmountFromFloat(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return a, nil
}

// meta encodes the provider-specific fields that have a value, or nil.
func meta(fields map[string]any) json.RawMessage {
	for k, v := range fields {
		switch x := v.(type) {
		case string:
			if x == "" {
				delete(fields, k)
			}
		case nil:
			delete(fields, k)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil // only strings and decoded JSON values go in; cannot fail
	}
	return b
}

// isCardAccount reports a card account: identifiers.type Card or account
// type Credit.
func isCardAccount(a accountJSON) bool {
	return strings.EqualFold(a.Identifiers.Type, "Card") || strings.EqualFold(a.Type, "Credit")
}

// mapAccount maps a Banking Account. Type is identifiers.type (Depository,
// Card, ...); the bank code is a sort code when it has 6 digits and a
// routing number when it has 9, and always kept in Meta.
func mapAccount(a accountJSON, fetchedAt time.Time) (store.Account, error) {
	updated, err := parseTime(a.Modified)
	if err != nil {
		return store.Account{}, fmt.Errorf("account %s modifiedDate: %w", a.ID, err)
	}
	out := store.Account{
		AccountID:     a.ID,
		Type:          a.Identifiers.Type,
		DisplayName:   a.Name,
		Currency:      a.Currency,
		Number:        store.AccountNumber{Number: a.Identifiers.Number, SwiftBIC: a.Identifiers.BIC, IBAN: a.Identifiers.IBAN},
		InstitutionID: a.Institution.ID,
		UpdatedAt:     updated,
		FetchedAt:     fetchedAt,
	}
	if out.Type == "" {
		out.Type = a.Type
	}
	code := strings.ReplaceAll(a.Identifiers.BankCode, "-", "")
	switch {
	case len(code) == 6 && allDigits(code):
		out.Number.SortCode = code
	case len(code) == 9 && allDigits(code):
		out.Number.RoutingNumber = code
	}
	out.Meta = meta(map[string]any{
		"type": a.Type, "subtype": a.Identifiers.Subtype, "holder": a.Holder, "bankCode": a.Identifiers.BankCode,
		"maskedAccountNumber": a.Identifiers.MaskedAccountNumber, "institutionName": a.Institution.Name,
	})
	return out, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// balanceObservedAt is when a Codat account balance was true. Codat reports
// one balance per account and day, dated at the day's start: a past day's
// balance is its end-of-day balance, observed when the day ended; the current
// day's is the balance when Codat read it (modifiedDate, else the pull's
// completion), which keeps later reads of the same day as new observations.
// A balance dated at another time of day was observed at that time.
func balanceObservedAt(date, modified, pulled time.Time) time.Time {
	if !date.Equal(date.Truncate(24 * time.Hour)) {
		return date
	}
	end := date.Add(24 * time.Hour)
	asOf := modified
	if asOf.IsZero() {
		asOf = pulled
	}
	if !asOf.IsZero() && asOf.Before(end) && !asOf.Before(date) {
		return asOf
	}
	return end
}

// accountInfo is what a balance needs to know about its account.
type accountInfo struct {
	currency string
	card     bool
}

// mapBalance maps a Banking AccountBalance. limit is a card's credit limit or
// an account's arranged overdraft.
func mapBalance(b accountBalanceJSON, acct accountInfo, pulled time.Time) (store.Balance, error) {
	date, err := parseTime(b.Date)
	if err != nil {
		return store.Balance{}, fmt.Errorf("balance of %s date: %w", b.AccountID, err)
	}
	if date.IsZero() {
		return store.Balance{}, fmt.Errorf("balance of %s has no date", b.AccountID)
	}
	modified, err := parseTime(b.Modified)
	if err != nil {
		return store.Balance{}, fmt.Errorf("balance of %s modifiedDate: %w", b.AccountID, err)
	}
	out := store.Balance{
		AccountID:  b.AccountID,
		ObservedAt: balanceObservedAt(date, modified, pulled),
		Currency:   acct.currency,
		UpdatedAt:  modified,
	}
	if out.Current, err = amountOf("balance.current", b.Balance.Current); err != nil {
		return store.Balance{}, err
	}
	if out.Available, err = amountOf("balance.available", b.Balance.Available); err != nil {
		return store.Balance{}, err
	}
	limit, err := amountOf("balance.limit", b.Balance.Limit)
	if err != nil {
		return store.Balance{}, err
	}
	if acct.card {
		out.CreditLimit = limit
	} else {
		out.Overdraft = limit
	}
	return out, nil
}

// mapTransaction maps a Banking Transaction. Codat's id is the stable
// identity; amounts are signed (negative leaves the account), so the type
// follows the sign; Codat's transaction code is the category.
func mapTransaction(t transactionJSON) (store.Transaction, error) {
	if t.ID == "" {
		return store.Transaction{}, fmt.Errorf("a transaction of account %s has no id", t.AccountID)
	}
	ts, err := parseTime(t.PostedDate)
	if err != nil {
		return store.Transaction{}, fmt.Errorf("transaction %s postedDate: %w", t.ID, err)
	}
	if ts.IsZero() {
		if ts, err = parseTime(t.AuthorizedDate); err != nil {
			return store.Transaction{}, fmt.Errorf("transaction %s authorizedDate: %w", t.ID, err)
		}
	}
	if ts.IsZero() {
		return store.Transaction{}, fmt.Errorf("transaction %s has no date", t.ID)
	}
	amount, err := amountOf("amount", t.Amount)
	if err != nil {
		return store.Transaction{}, fmt.Errorf("transaction %s: %w", t.ID, err)
	}
	if amount == "" {
		return store.Transaction{}, fmt.Errorf("transaction %s has no amount", t.ID)
	}
	typ := "CREDIT"
	if strings.HasPrefix(string(amount), "-") {
		typ = "DEBIT"
	}
	fields := map[string]any{
		"authorizedDate": t.AuthorizedDate, "modifiedDate": t.Modified, "sourceModifiedDate": t.SourceModified,
	}
	if r := t.TransactionCategoryRef; r != nil && r.ID != "" {
		fields["transactionCategoryRef"] = map[string]string{"id": r.ID, "name": r.Name}
	}
	return store.Transaction{
		AccountID:                       t.AccountID,
		NormalisedProviderTransactionID: t.ID,
		ProviderTransactionID:           t.ID,
		Timestamp:                       ts,
		Description:                     t.Description,
		Amount:                          amount,
		Currency:                        t.Currency,
		Type:                            typ,
		Category:                        t.Code,
		MerchantName:                    t.MerchantName,
		Meta:                            meta(fields),
	}, nil
}

// inWindow reports from <= t < to, an unset bound not limiting.
func inWindow(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}
