package codat

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// This file maps provider-neutral bankdata to the Banking API's shapes.

// accountJSON is the Banking Account schema.
type accountJSON struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Holder       string         `json:"holder,omitempty"`
	Type         string         `json:"type"`
	Balance      balanceAmounts `json:"balance"`
	Identifiers  identifiers    `json:"identifiers"`
	Currency     string         `json:"currency"`
	Institution  institution    `json:"institution"`
	ModifiedDate string         `json:"modifiedDate,omitempty"`
}

// balanceAmounts forbids additional properties; available and limit are
// omitted when unknown (the 3.1 schema has no null for them).
type balanceAmounts struct {
	Available *float64 `json:"available,omitempty"`
	Current   float64  `json:"current"`
	Limit     *float64 `json:"limit,omitempty"`
}

type identifiers struct {
	Type                string `json:"type"`
	Subtype             string `json:"subtype,omitempty"`
	Number              string `json:"number,omitempty"`
	BankCode            string `json:"bankCode,omitempty"`
	IBAN                string `json:"iban,omitempty"`
	BIC                 string `json:"bic,omitempty"`
	MaskedAccountNumber string `json:"maskedAccountNumber,omitempty"`
}

type institution struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// accountBalanceJSON is the Banking AccountBalance schema.
type accountBalanceJSON struct {
	AccountID    string         `json:"accountId"`
	Balance      balanceAmounts `json:"balance"`
	Date         string         `json:"date"`
	ModifiedDate string         `json:"modifiedDate,omitempty"`
}

// transactionJSON is the Banking Transaction schema.
type transactionJSON struct {
	ID                     string       `json:"id"`
	AccountID              string       `json:"accountId"`
	Description            string       `json:"description,omitempty"`
	Amount                 float64      `json:"amount"`
	Currency               string       `json:"currency"`
	PostedDate             string       `json:"postedDate"`
	AuthorizedDate         string       `json:"authorizedDate"`
	Code                   string       `json:"code"`
	MerchantName           string       `json:"merchantName,omitempty"`
	TransactionCategoryRef *categoryRef `json:"transactionCategoryRef,omitempty"`
	ModifiedDate           string       `json:"modifiedDate,omitempty"`
	SourceModifiedDate     string       `json:"sourceModifiedDate,omitempty"`
}

type categoryRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// categoryJSON is the Banking TransactionCategory schema.
type categoryJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	ParentID     string `json:"parentId,omitempty"`
	HasChildren  bool   `json:"hasChildren"`
	Status       string `json:"status"`
	ModifiedDate string `json:"modifiedDate,omitempty"`
}

func ptr(f float64) *float64 { return &f }

func mapAccount(a bankdata.Account, b bankdata.Balance, holder string, src Source, asOf time.Time) accountJSON {
	v := accountJSON{
		ID:           a.ID,
		Name:         a.DisplayName,
		Holder:       holder,
		Type:         "Debit",
		Balance:      balanceAmounts{Current: bankdata.MinorToMajor(b.Current), Available: ptr(bankdata.MinorToMajor(b.Available))},
		Currency:     a.Currency,
		Institution:  institution{ID: src.Key, Name: src.Name},
		ModifiedDate: formatTime(asOf),
	}
	switch a.Kind {
	case bankdata.KindCreditCard:
		v.Type = "Credit"
		v.Balance.Limit = ptr(bankdata.MinorToMajor(a.CreditLimit))
		v.Identifiers = identifiers{Type: "Card", Subtype: "credit card",
			MaskedAccountNumber: "************" + a.PartialCardNumber}
		if a.NameOnCard != "" {
			v.Holder = a.NameOnCard
		}
	default:
		subtype := "checking"
		if a.Kind == bankdata.KindSavings {
			subtype = "savings"
		}
		if a.Overdraft > 0 {
			v.Balance.Limit = ptr(bankdata.MinorToMajor(a.Overdraft))
		}
		v.Identifiers = identifiers{Type: "Depository", Subtype: subtype, Number: a.AccountNumber,
			BankCode: a.SortCode, IBAN: a.IBAN, BIC: a.SwiftBIC, MaskedAccountNumber: maskNumber(a.AccountNumber)}
	}
	return v
}

func maskNumber(n string) string {
	if len(n) <= 4 {
		return n
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}

// transactionCodes maps bankdata's aggregator categories to Codat's
// transaction codes.
var transactionCodes = map[string]string{
	"PURCHASE": "Purchase", "ATM": "Cash", "DIRECT_DEBIT": "DirectDebit", "STANDING_ORDER": "StandingOrder",
	"TRANSFER": "Transfer", "INTEREST": "Interest", "FEE_CHARGE": "Fee", "BILL_PAYMENT": "Payment",
	"CREDIT": "Credit", "CASHBACK": "Cashback", "CHEQUE": "Cheque", "DEBIT": "Other", "OTHER": "Other",
}

func mapTransaction(t bankdata.Transaction, asOf time.Time) transactionJSON {
	code, ok := transactionCodes[t.Category]
	if !ok {
		code = "Unknown"
	}
	cat := categoryOf(t)
	return transactionJSON{
		ID:                     t.ID,
		AccountID:              t.AccountID,
		Description:            t.Description,
		Amount:                 bankdata.MinorToMajor(t.Amount),
		Currency:               t.Currency,
		PostedDate:             formatTime(t.Timestamp),
		AuthorizedDate:         formatTime(t.Timestamp),
		Code:                   code,
		MerchantName:           t.MerchantName,
		TransactionCategoryRef: &categoryRef{ID: cat.ID, Name: cat.Name},
		ModifiedDate:           formatTime(asOf),
		SourceModifiedDate:     formatTime(t.Timestamp),
	}
}

// categoryOf derives a Codat-style category (kebab-case ids, children named
// parent-child) from a transaction's classification, falling back to its
// aggregator category.
func categoryOf(t bankdata.Transaction) categoryJSON {
	switch len(t.Classification) {
	case 0:
		name := strings.ReplaceAll(strings.ToLower(t.Category), "_", " ")
		if name == "" {
			name = "uncategorized"
		}
		return categoryJSON{ID: slug(name), Name: titleCase(name)}
	case 1:
		return categoryJSON{ID: slug(t.Classification[0]), Name: t.Classification[0]}
	default:
		parent := slug(t.Classification[0])
		return categoryJSON{ID: parent + "-" + slug(t.Classification[1]), Name: t.Classification[1], ParentID: parent}
	}
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.ReplaceAll(s, "&", " and ")) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// categoriesOf lists the distinct categories of txs, parents included, sorted
// by id.
func categoriesOf(txs []bankdata.Transaction, asOf time.Time) []categoryJSON {
	byID := map[string]categoryJSON{}
	for _, t := range txs {
		c := categoryOf(t)
		if _, ok := byID[c.ID]; !ok {
			byID[c.ID] = c
		}
		if c.ParentID != "" {
			p := byID[c.ParentID]
			p.ID, p.Name, p.HasChildren = c.ParentID, t.Classification[0], true
			byID[c.ParentID] = p
		}
	}
	out := make([]categoryJSON, 0, len(byID))
	for _, c := range byID {
		c.Status = "Active"
		c.ModifiedDate = formatTime(asOf)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b categoryJSON) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// dailyBalances lists one end-of-day balance per account and day from the
// first day of txs's window to asOf; the last day's entry is the balance at
// asOf, with available and limit as the bank reports them.
func dailyBalances(a bankdata.Account, txs []bankdata.Transaction, from time.Time, atAsOf bankdata.Balance, asOf time.Time) ([]accountBalanceJSON, error) {
	running := atAsOf.Current
	if len(txs) > 0 {
		running = txs[0].RunningBalance - txs[0].Amount
	}
	firstDay := from.UTC().Truncate(24 * time.Hour)
	lastDay := asOf.UTC().Truncate(24 * time.Hour)
	out := make([]accountBalanceJSON, 0, int(lastDay.Sub(firstDay)/(24*time.Hour))+1)
	i := 0
	for d := firstDay; !d.After(lastDay); d = d.Add(24 * time.Hour) {
		next := d.Add(24 * time.Hour)
		for i < len(txs) && txs[i].Timestamp.Before(next) {
			running = txs[i].RunningBalance
			i++
		}
		out = append(out, accountBalanceJSON{AccountID: a.ID, Balance: balanceAmounts{Current: bankdata.MinorToMajor(running)},
			Date: formatTime(d), ModifiedDate: formatTime(asOf)})
	}
	if running != atAsOf.Current {
		return nil, fmt.Errorf("account %s: running balance %d at %s disagrees with bankdata balance %d",
			a.ID, running, asOf, atAsOf.Current)
	}
	last := &out[len(out)-1]
	last.Balance.Available = ptr(bankdata.MinorToMajor(atAsOf.Available))
	switch {
	case a.IsCard():
		last.Balance.Limit = ptr(bankdata.MinorToMajor(a.CreditLimit))
	case a.Overdraft > 0:
		last.Balance.Limit = ptr(bankdata.MinorToMajor(a.Overdraft))
	}
	return out, nil
}
