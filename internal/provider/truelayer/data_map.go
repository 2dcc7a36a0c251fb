package truelayer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/store"
)

// Data API v1 records (data-api-v1.json components) and their mapping into
// the store's records.

type v1InfoJSON struct {
	FullName    string   `json:"full_name"`
	DateOfBirth string   `json:"date_of_birth"`
	BranchID    string   `json:"branch_id"`
	Emails      []string `json:"emails"`
	Phones      []string `json:"phones"`
	// Addresses are in older payloads only.
	Addresses []struct {
		Address string `json:"address"`
		City    string `json:"city"`
		State   string `json:"state"`
		Zip     string `json:"zip"`
		Country string `json:"country"`
	} `json:"addresses"`
	UpdateTimestamp string `json:"update_timestamp"`
}

type v1ProviderJSON struct {
	ProviderID string `json:"provider_id"`
}

type v1AccountJSON struct {
	UpdateTimestamp string `json:"update_timestamp"`
	AccountID       string `json:"account_id"`
	AccountType     string `json:"account_type"`
	DisplayName     string `json:"display_name"`
	Currency        string `json:"currency"`
	AccountNumber   struct {
		Number        string `json:"number"`
		SortCode      string `json:"sort_code"`
		SwiftBIC      string `json:"swift_bic"`
		IBAN          string `json:"iban"`
		RoutingNumber string `json:"routing_number"`
		BSB           string `json:"bsb"`
	} `json:"account_number"`
	Provider v1ProviderJSON `json:"provider"`
}

type v1CardJSON struct {
	AccountID         string         `json:"account_id"`
	CardNetwork       string         `json:"card_network"`
	CardType          string         `json:"card_type"`
	Currency          string         `json:"currency"`
	DisplayName       string         `json:"display_name"`
	PartialCardNumber string         `json:"partial_card_number"`
	NameOnCard        string         `json:"name_on_card"`
	ValidFrom         string         `json:"valid_from"`
	ValidTo           string         `json:"valid_to"`
	UpdateTimestamp   string         `json:"update_timestamp"`
	Provider          v1ProviderJSON `json:"provider"`
}

// v1BalanceJSON is AccountBalance and CardBalance together.
type v1BalanceJSON struct {
	Currency             string     `json:"currency"`
	Current              jsonAmount `json:"current"`
	Available            jsonAmount `json:"available"`
	Overdraft            jsonAmount `json:"overdraft"`
	CreditLimit          jsonAmount `json:"credit_limit"`
	LastStatementBalance jsonAmount `json:"last_statement_balance"`
	LastStatementDate    string     `json:"last_statement_date"`
	PaymentDue           jsonAmount `json:"payment_due"`
	PaymentDueDate       string     `json:"payment_due_date"`
	UpdateTimestamp      string     `json:"update_timestamp"`
}

// v1TransactionJSON is AccountTransaction and CardTransaction.
type v1TransactionJSON struct {
	// TransactionID may change between requests: it is not kept.
	TransactionID                   string     `json:"transaction_id"`
	NormalisedProviderTransactionID string     `json:"normalised_provider_transaction_id"`
	ProviderTransactionID           string     `json:"provider_transaction_id"`
	Timestamp                       string     `json:"timestamp"`
	Description                     string     `json:"description"`
	Amount                          jsonAmount `json:"amount"`
	Currency                        string     `json:"currency"`
	TransactionType                 string     `json:"transaction_type"`
	TransactionCategory             string     `json:"transaction_category"`
	TransactionClassification       []string   `json:"transaction_classification"`
	MerchantName                    string     `json:"merchant_name"`
	RunningBalance                  *struct {
		Amount   jsonAmount `json:"amount"`
		Currency string     `json:"currency"`
	} `json:"running_balance"`
	Meta json.RawMessage `json:"meta"`
}

type v1StandingOrderJSON struct {
	Frequency          string          `json:"frequency"`
	Status             string          `json:"status"`
	Timestamp          string          `json:"timestamp"`
	Currency           string          `json:"currency"`
	Meta               json.RawMessage `json:"meta"`
	NextPaymentDate    string          `json:"next_payment_date"`
	NextPaymentAmount  jsonAmount      `json:"next_payment_amount"`
	FirstPaymentDate   string          `json:"first_payment_date"`
	FirstPaymentAmount jsonAmount      `json:"first_payment_amount"`
	FinalPaymentDate   string          `json:"final_payment_date"`
	FinalPaymentAmount jsonAmount      `json:"final_payment_amount"`
	Payee              string          `json:"payee"`
	Reference          string          `json:"reference"`
}

type v1DirectDebitJSON struct {
	DirectDebitID            string          `json:"direct_debit_id"`
	Timestamp                string          `json:"timestamp"`
	Name                     string          `json:"name"`
	Status                   string          `json:"status"`
	PreviousPaymentTimestamp string          `json:"previous_payment_timestamp"`
	PreviousPaymentAmount    jsonAmount      `json:"previous_payment_amount"`
	Currency                 string          `json:"currency"`
	Meta                     json.RawMessage `json:"meta"`
}

// mapper collects the first mapping error, so the mapping code reads
// straight; a record TrueLayer sent malformed fails the whole fetch rather
// than being stored half-read.
type mapper struct {
	err error
}

func (m *mapper) fail(format string, args ...any) {
	if m.err == nil {
		m.err = fmt.Errorf(format, args...)
	}
}

// ts parses a timestamp; "" is the zero time.
func (m *mapper) ts(field, s string) time.Time {
	t, err := parseTimestamp(s)
	if err != nil {
		m.fail("%s: %v", field, err)
	}
	return t
}

// until parses an end date, where TrueLayer writes 9999-12-31 for "none".
func (m *mapper) until(field, s string) time.Time {
	t := m.ts(field, s)
	if t.Year() >= 9999 {
		return time.Time{}
	}
	return t
}

// mapV1 decodes the results array of resource f.Resource.
func mapV1(op string, f provider.Fetch, raw json.RawMessage, now time.Time) (*provider.Data, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, malformed(op, 0, "the answer has no results")
	}
	d := &provider.Data{}
	m := &mapper{}
	var err error
	switch f.Resource {
	case provider.ResourceInfo:
		var in []v1InfoJSON
		if err = json.Unmarshal(raw, &in); err == nil {
			d.Identities = mapV1Info(m, in)
		}
	case provider.ResourceAccounts:
		var in []v1AccountJSON
		if err = json.Unmarshal(raw, &in); err == nil {
			d.Accounts = mapV1Accounts(m, in, now)
		}
	case provider.ResourceCards:
		var in []v1CardJSON
		if err = json.Unmarshal(raw, &in); err == nil {
			d.Cards = mapV1Cards(m, in, now)
		}
	case provider.ResourceBalance:
		var in []v1BalanceJSON
		if err = json.Unmarshal(raw, &in); err == nil {
			d.Balances = mapV1Balances(m, f.AccountID, in, now)
		}
	case provider.ResourceTransactions, provider.ResourcePending:
		var in []v1TransactionJSON
		if err = json.Unmarshal(raw, &in); err == nil {
			txs := mapV1Transactions(m, f, in)
			if f.Resource == provider.ResourcePending {
				d.Pending = txs
			} else {
				d.Transactions = deriveMissingIDs(txs)
			}
		}
	case provider.ResourceStandingOrders:
		var in []v1StandingOrderJSON
		if err = json.Unmarshal(raw, &in); err == nil {
			d.StandingOrders = mapV1StandingOrders(m, f.AccountID, in)
		}
	case provider.ResourceDirectDebits:
		var in []v1DirectDebitJSON
		if err = json.Unmarshal(raw, &in); err == nil {
			d.DirectDebits = mapV1DirectDebits(m, f.AccountID, in)
		}
	default:
		return nil, invalidRequest(op, "Data API v1 does not serve "+string(f.Resource))
	}
	if err != nil {
		return nil, malformed(op, 0, "the results are not the expected JSON: "+httpx.JSONErrorSummary(err))
	}
	if m.err != nil {
		return nil, malformed(op, 0, truncate(m.err.Error()))
	}
	return d, nil
}

func mapV1Info(m *mapper, in []v1InfoJSON) []store.Identity {
	out := make([]store.Identity, 0, len(in))
	for _, r := range in {
		id := store.Identity{
			FullName:    r.FullName,
			DateOfBirth: dateOnly(r.DateOfBirth),
			BranchID:    r.BranchID,
			Emails:      r.Emails,
			Phones:      r.Phones,
			UpdatedAt:   m.ts("info update_timestamp", r.UpdateTimestamp),
		}
		for _, a := range r.Addresses {
			addr := store.Address{City: a.City, State: a.State, Zip: a.Zip, Country: a.Country}
			if a.Address != "" {
				addr.Lines = []string{a.Address}
			}
			id.Addresses = append(id.Addresses, addr)
		}
		out = append(out, id)
	}
	return out
}

// dateOnly reduces a date or date-time to YYYY-MM-DD (older /info payloads
// send dates of birth as "1980-01-01T00:00:00"); other text is kept.
func dateOnly(s string) string {
	if len(s) >= 10 {
		if _, err := time.Parse(dateLayout, s[:10]); err == nil {
			return s[:10]
		}
	}
	return s
}

// bicValue drops the swift_bic values that say the BIC is not reported.
func bicValue(s string) string {
	switch s {
	case "NOT_SUPPORTED_BY_GEO", "NOT_SUPPORTED_BY_PROVIDER":
		return ""
	}
	return s
}

func mapV1Accounts(m *mapper, in []v1AccountJSON, now time.Time) []store.Account {
	out := make([]store.Account, 0, len(in))
	for _, r := range in {
		if r.AccountID == "" {
			m.fail("an account has no account_id")
			continue
		}
		n := r.AccountNumber
		out = append(out, store.Account{
			AccountID:   r.AccountID,
			Type:        r.AccountType,
			DisplayName: r.DisplayName,
			Currency:    r.Currency,
			Number: store.AccountNumber{
				Number: n.Number, SortCode: n.SortCode, SwiftBIC: bicValue(n.SwiftBIC),
				IBAN: n.IBAN, RoutingNumber: n.RoutingNumber, BSB: n.BSB,
			},
			InstitutionID: r.Provider.ProviderID,
			UpdatedAt:     m.ts("account update_timestamp", r.UpdateTimestamp),
			FetchedAt:     now.UTC(),
		})
	}
	return out
}

func mapV1Cards(m *mapper, in []v1CardJSON, now time.Time) []store.Card {
	out := make([]store.Card, 0, len(in))
	for _, r := range in {
		if r.AccountID == "" {
			m.fail("a card has no account_id")
			continue
		}
		out = append(out, store.Card{
			AccountID: r.AccountID, CardNetwork: r.CardNetwork, CardType: r.CardType, Currency: r.Currency,
			DisplayName: r.DisplayName, PartialCardNumber: r.PartialCardNumber, NameOnCard: r.NameOnCard,
			ValidFrom: r.ValidFrom, ValidTo: r.ValidTo, InstitutionID: r.Provider.ProviderID,
			UpdatedAt: m.ts("card update_timestamp", r.UpdateTimestamp),
			FetchedAt: now.UTC(),
		})
	}
	return out
}

// mapV1Balances: a balance is observed at the provider's update_timestamp,
// or at the fetch when the provider does not say.
func mapV1Balances(m *mapper, accountID string, in []v1BalanceJSON, now time.Time) []store.Balance {
	out := make([]store.Balance, 0, len(in))
	for _, r := range in {
		b := store.Balance{
			AccountID:            accountID,
			Currency:             r.Currency,
			Current:              r.Current.Amount,
			Available:            r.Available.Amount,
			Overdraft:            r.Overdraft.Amount,
			CreditLimit:          r.CreditLimit.Amount,
			LastStatementBalance: r.LastStatementBalance.Amount,
			LastStatementDate:    m.ts("last_statement_date", r.LastStatementDate),
			PaymentDue:           r.PaymentDue.Amount,
			PaymentDueDate:       m.ts("payment_due_date", r.PaymentDueDate),
			UpdatedAt:            m.ts("balance update_timestamp", r.UpdateTimestamp),
		}
		if b.Current == "" {
			m.fail("a balance has no current amount")
		}
		b.ObservedAt = b.UpdatedAt
		if b.ObservedAt.IsZero() {
			b.ObservedAt = now.UTC()
		}
		out = append(out, b)
	}
	return out
}

// mapV1Transactions maps booked or pending transactions and keeps those in
// the Fetch's window (the request asked for whole days).
func mapV1Transactions(m *mapper, f provider.Fetch, in []v1TransactionJSON) []store.Transaction {
	out := make([]store.Transaction, 0, len(in))
	for _, r := range in {
		ts := m.ts("transaction timestamp", r.Timestamp)
		if ts.IsZero() {
			m.fail("a transaction has no timestamp")
			continue
		}
		if r.Amount.Amount == "" {
			m.fail("a transaction has no amount")
			continue
		}
		if !inWindow(ts, f) {
			continue
		}
		tx := store.Transaction{
			AccountID:                       f.AccountID,
			NormalisedProviderTransactionID: r.NormalisedProviderTransactionID,
			ProviderTransactionID:           r.ProviderTransactionID,
			Timestamp:                       ts,
			Description:                     r.Description,
			Amount:                          r.Amount.Amount,
			Currency:                        r.Currency,
			Type:                            r.TransactionType,
			Category:                        r.TransactionCategory,
			Classification:                  r.TransactionClassification,
			MerchantName:                    r.MerchantName,
			Meta:                            jsonObject(r.Meta),
		}
		if rb := r.RunningBalance; rb != nil && rb.Amount.Amount != "" {
			tx.RunningBalance = &store.Money{Amount: rb.Amount.Amount, Currency: rb.Currency}
		}
		out = append(out, tx)
	}
	return out
}

// deriveMissingIDs gives booked transactions that came without a
// normalised_provider_transaction_id a stable one: a hash of what the bank
// reported (account, time, amount, currency, direction, description, the
// bank's id). Transactions identical in all of these share a timestamp, so
// every window holds all of them or none; they are told apart by their
// position among themselves ("#2", "#3"), which is then stable too.
func deriveMissingIDs(txs []store.Transaction) []store.Transaction {
	seen := map[string]int{}
	for i := range txs {
		tx := &txs[i]
		if tx.NormalisedProviderTransactionID != "" {
			continue
		}
		h := sha256.New()
		for _, part := range []string{tx.AccountID, tx.Timestamp.UTC().Format(time.RFC3339Nano), numericKey(tx.Amount),
			tx.Currency, tx.Type, tx.Description, tx.ProviderTransactionID} {
			h.Write([]byte(strconv.Itoa(len(part)) + ":" + part + ";"))
		}
		id := "tl-derived-" + hex.EncodeToString(h.Sum(nil)[:16])
		seen[id]++
		if n := seen[id]; n > 1 {
			id += "#" + strconv.Itoa(n)
		}
		tx.NormalisedProviderTransactionID = id
	}
	return txs
}

// numericKey writes an amount so that equal values read the same ("-3.10"
// and "-3.1"; the JSON text of one number may vary between answers).
func numericKey(a store.Amount) string {
	if a.Validate() != nil {
		return string(a)
	}
	s := string(a.Canonical())
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func mapV1StandingOrders(m *mapper, accountID string, in []v1StandingOrderJSON) []store.StandingOrder {
	out := make([]store.StandingOrder, 0, len(in))
	for _, r := range in {
		out = append(out, store.StandingOrder{
			AccountID:          accountID,
			Frequency:          r.Frequency,
			Status:             r.Status,
			Timestamp:          m.ts("standing order timestamp", r.Timestamp),
			Currency:           r.Currency,
			NextPaymentDate:    m.ts("next_payment_date", r.NextPaymentDate),
			NextPaymentAmount:  r.NextPaymentAmount.Amount,
			FirstPaymentDate:   m.ts("first_payment_date", r.FirstPaymentDate),
			FirstPaymentAmount: r.FirstPaymentAmount.Amount,
			FinalPaymentDate:   m.until("final_payment_date", r.FinalPaymentDate),
			FinalPaymentAmount: r.FinalPaymentAmount.Amount,
			Payee:              r.Payee,
			Reference:          r.Reference,
			Meta:               jsonObject(r.Meta),
		})
	}
	return out
}

func mapV1DirectDebits(m *mapper, accountID string, in []v1DirectDebitJSON) []store.DirectDebit {
	out := make([]store.DirectDebit, 0, len(in))
	for _, r := range in {
		out = append(out, store.DirectDebit{
			AccountID:                accountID,
			DirectDebitID:            r.DirectDebitID,
			Timestamp:                m.ts("direct debit timestamp", r.Timestamp),
			Name:                     r.Name,
			Status:                   r.Status,
			PreviousPaymentTimestamp: m.ts("previous_payment_timestamp", r.PreviousPaymentTimestamp),
			PreviousPaymentAmount:    r.PreviousPaymentAmount.Amount,
			Currency:                 r.Currency,
			Meta:                     jsonObject(r.Meta),
		})
	}
	return out
}

// jsonObject keeps raw when it is a JSON object, nil otherwise (absent,
// null, or a value the store's Meta cannot hold).
func jsonObject(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return nil
	}
	if bytes.Equal(bytes.ReplaceAll(raw, []byte(" "), nil), []byte("{}")) {
		return nil
	}
	return append(json.RawMessage(nil), raw...)
}

// joinName is a full name from its parts, for APIs that only send parts.
func joinName(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, " ")
}
