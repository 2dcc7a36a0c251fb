package sandbox

import (
	"strconv"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// The mapping from the provider-neutral bankdata to TrueLayer Data API v1
// shapes. Types follow the published schemas, including their oddities
// (CardBalance.available and the standing-order amounts are strings there).

const tsLayout = "2006-01-02T15:04:05Z07:00"

func ts(t time.Time) string { return t.UTC().Format(tsLayout) }

func major(v int64) float64 { return bankdata.MinorToMajor(v) }

func majorString(v int64) string { return strconv.FormatFloat(major(v), 'f', -1, 64) }

type v1Provider struct {
	ProviderID  string `json:"provider_id"`
	DisplayName string `json:"display_name,omitempty"`
	LogoURI     string `json:"logo_uri,omitempty"`
}

func toV1Provider(p *provider) v1Provider {
	return v1Provider{ProviderID: p.ID, DisplayName: p.DisplayName, LogoURI: p.LogoURL}
}

type v1Me struct {
	ClientID               string     `json:"client_id"`
	CredentialsID          string     `json:"credentials_id"`
	ConsentStatus          string     `json:"consent_status"`
	ConsentStatusUpdatedAt string     `json:"consent_status_updated_at"`
	ConsentCreatedAt       string     `json:"consent_created_at"`
	ConsentExpiresAt       string     `json:"consent_expires_at"`
	Provider               v1Provider `json:"provider"`
	Scopes                 []string   `json:"scopes"`
	PrivacyPolicy          string     `json:"privacy_policy"`
}

type v1Address struct {
	Address string `json:"address"`
	City    string `json:"city"`
	State   string `json:"state"`
	Zip     string `json:"zip"`
	Country string `json:"country"`
}

type v1Info struct {
	FullName        string      `json:"full_name"`
	DateOfBirth     string      `json:"date_of_birth,omitempty"`
	Addresses       []v1Address `json:"addresses,omitempty"`
	Emails          []string    `json:"emails,omitempty"`
	Phones          []string    `json:"phones,omitempty"`
	UpdateTimestamp string      `json:"update_timestamp"`
}

func toV1Info(id bankdata.Identity, now time.Time) v1Info {
	return v1Info{
		FullName:    id.FullName,
		DateOfBirth: id.DateOfBirth.Format("2006-01-02T15:04:05"),
		Addresses: []v1Address{{
			Address: id.Address.Line1 + ", " + id.Address.Line2, City: id.Address.City,
			State: id.Address.State, Zip: id.Address.Postcode, Country: id.Address.Country,
		}},
		Emails:          []string{id.Email},
		Phones:          []string{id.Phone},
		UpdateTimestamp: ts(now),
	}
}

type v1AccountNumber struct {
	IBAN     string `json:"iban,omitempty"`
	Number   string `json:"number,omitempty"`
	SortCode string `json:"sort_code,omitempty"`
	SwiftBIC string `json:"swift_bic,omitempty"`
}

type v1Account struct {
	UpdateTimestamp string          `json:"update_timestamp"`
	AccountID       string          `json:"account_id"`
	AccountType     string          `json:"account_type"`
	DisplayName     string          `json:"display_name"`
	Currency        string          `json:"currency"`
	AccountNumber   v1AccountNumber `json:"account_number"`
	Provider        v1Provider      `json:"provider"`
}

func sortCodeDashed(s string) string {
	if len(s) != 6 {
		return s
	}
	return s[0:2] + "-" + s[2:4] + "-" + s[4:6]
}

func toV1Account(a bankdata.Account, p *provider, now time.Time) v1Account {
	typ := "TRANSACTION"
	if a.Kind == bankdata.KindSavings {
		typ = "SAVINGS"
	}
	return v1Account{
		UpdateTimestamp: ts(now),
		AccountID:       a.ID,
		AccountType:     typ,
		DisplayName:     a.DisplayName,
		Currency:        a.Currency,
		AccountNumber:   v1AccountNumber{IBAN: a.IBAN, Number: a.AccountNumber, SortCode: sortCodeDashed(a.SortCode), SwiftBIC: a.SwiftBIC},
		Provider:        toV1Provider(p),
	}
}

type v1Balance struct {
	Currency        string   `json:"currency"`
	Available       float64  `json:"available"`
	Current         float64  `json:"current"`
	Overdraft       *float64 `json:"overdraft,omitempty"`
	UpdateTimestamp string   `json:"update_timestamp"`
}

func toV1Balance(a bankdata.Account, b bankdata.Balance) v1Balance {
	out := v1Balance{Currency: b.Currency, Available: major(b.Available), Current: major(b.Current), UpdateTimestamp: ts(b.AsOf)}
	if a.Kind == bankdata.KindCurrent {
		od := major(b.Overdraft)
		out.Overdraft = &od
	}
	return out
}

type v1Amount struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

type v1Transaction struct {
	TransactionID                   string            `json:"transaction_id"`
	NormalisedProviderTransactionID string            `json:"normalised_provider_transaction_id"`
	ProviderTransactionID           string            `json:"provider_transaction_id"`
	Timestamp                       string            `json:"timestamp"`
	Description                     string            `json:"description"`
	Amount                          float64           `json:"amount"`
	Currency                        string            `json:"currency"`
	TransactionType                 string            `json:"transaction_type"`
	TransactionCategory             string            `json:"transaction_category"`
	TransactionClassification       []string          `json:"transaction_classification"`
	MerchantName                    string            `json:"merchant_name,omitempty"`
	RunningBalance                  *v1Amount         `json:"running_balance,omitempty"`
	Meta                            map[string]string `json:"meta,omitempty"`
}

// toV1Transaction maps a transaction. Card amounts follow TrueLayer's card
// convention: purchases are positive DEBITs.
func toV1Transaction(a bankdata.Account, tx bankdata.Transaction) v1Transaction {
	out := v1Transaction{
		TransactionID:                   tx.ID,
		NormalisedProviderTransactionID: tx.NormalisedID,
		ProviderTransactionID:           tx.ProviderID,
		Timestamp:                       ts(tx.Timestamp),
		Description:                     tx.Description,
		Amount:                          major(tx.Amount),
		Currency:                        tx.Currency,
		TransactionType:                 string(tx.Type),
		TransactionCategory:             tx.Category,
		TransactionClassification:       tx.Classification,
		MerchantName:                    tx.MerchantName,
		Meta:                            map[string]string{"provider_transaction_category": tx.ProviderCategory},
	}
	if out.TransactionClassification == nil {
		out.TransactionClassification = []string{}
	}
	if a.IsCard() {
		out.Amount = -out.Amount
		out.Meta["cardNumber"] = "************" + a.PartialCardNumber
		out.Meta["location"] = "INTERNET"
	} else if !tx.Pending {
		out.RunningBalance = &v1Amount{Amount: major(tx.RunningBalance), Currency: tx.Currency}
	}
	return out
}

type v1StandingOrder struct {
	Frequency          string            `json:"frequency"`
	Status             string            `json:"status"`
	Timestamp          string            `json:"timestamp"`
	Currency           string            `json:"currency"`
	Meta               map[string]string `json:"meta"`
	NextPaymentDate    string            `json:"next_payment_date"`
	NextPaymentAmount  string            `json:"next_payment_amount"`
	FirstPaymentDate   string            `json:"first_payment_date"`
	FirstPaymentAmount string            `json:"first_payment_amount"`
	FinalPaymentDate   string            `json:"final_payment_date"`
	FinalPaymentAmount string            `json:"final_payment_amount"`
	Payee              string            `json:"payee"`
	Reference          string            `json:"reference"`
}

func toV1StandingOrder(so bankdata.StandingOrder, now time.Time) v1StandingOrder {
	final := "9999-12-31T00:00:00+00:00" // open-ended, as TrueLayer reports it
	if !so.FinalPaymentDate.IsZero() {
		final = ts(so.FinalPaymentDate)
	}
	return v1StandingOrder{
		Frequency:          so.Frequency,
		Status:             so.Status,
		Timestamp:          ts(now),
		Currency:           so.Currency,
		Meta:               map[string]string{"provider_account_id": so.ProviderAccountID},
		NextPaymentDate:    ts(so.NextPaymentDate),
		NextPaymentAmount:  majorString(so.Amount),
		FirstPaymentDate:   ts(so.FirstPaymentDate),
		FirstPaymentAmount: majorString(so.Amount),
		FinalPaymentDate:   final,
		FinalPaymentAmount: "0",
		Payee:              so.Payee,
		Reference:          so.Reference,
	}
}

type v1DirectDebit struct {
	DirectDebitID            string            `json:"direct_debit_id"`
	Timestamp                string            `json:"timestamp"`
	Name                     string            `json:"name"`
	Status                   string            `json:"status"`
	PreviousPaymentTimestamp string            `json:"previous_payment_timestamp,omitempty"`
	PreviousPaymentAmount    *float64          `json:"previous_payment_amount,omitempty"`
	Currency                 string            `json:"currency"`
	Meta                     map[string]string `json:"meta"`
}

func toV1DirectDebit(dd bankdata.DirectDebit, now time.Time) v1DirectDebit {
	out := v1DirectDebit{
		DirectDebitID: dd.ID,
		Timestamp:     ts(now),
		Name:          dd.Name,
		Status:        dd.Status,
		Currency:      dd.Currency,
		Meta: map[string]string{
			"provider_mandate_identification": dd.MandateID,
			"provider_account_id":             dd.ProviderAccountID,
			"provider_direct_debit_id":        dd.ProviderDirectDebitID,
		},
	}
	if !dd.PreviousPaymentTime.IsZero() {
		amt := major(dd.PreviousPaymentAmount)
		out.PreviousPaymentTimestamp = ts(dd.PreviousPaymentTime)
		out.PreviousPaymentAmount = &amt
	}
	return out
}

type v1Card struct {
	AccountID         string     `json:"account_id"`
	CardNetwork       string     `json:"card_network"`
	CardType          string     `json:"card_type"`
	Currency          string     `json:"currency"`
	DisplayName       string     `json:"display_name"`
	PartialCardNumber string     `json:"partial_card_number"`
	NameOnCard        string     `json:"name_on_card"`
	ValidFrom         string     `json:"valid_from"`
	ValidTo           string     `json:"valid_to"`
	UpdateTimestamp   string     `json:"update_timestamp"`
	Provider          v1Provider `json:"provider"`
}

func toV1Card(a bankdata.Account, p *provider, now time.Time) v1Card {
	return v1Card{
		AccountID: a.ID, CardNetwork: a.CardNetwork, CardType: a.CardType, Currency: a.Currency,
		DisplayName: a.DisplayName, PartialCardNumber: a.PartialCardNumber, NameOnCard: a.NameOnCard,
		ValidFrom: a.ValidFrom, ValidTo: a.ValidTo, UpdateTimestamp: ts(now), Provider: toV1Provider(p),
	}
}

type v1CardBalance struct {
	Available            string  `json:"available"`
	Currency             string  `json:"currency"`
	Current              float64 `json:"current"`
	CreditLimit          float64 `json:"credit_limit"`
	LastStatementBalance float64 `json:"last_statement_balance"`
	LastStatementDate    string  `json:"last_statement_date"`
	PaymentDue           float64 `json:"payment_due"`
	PaymentDueDate       string  `json:"payment_due_date"`
	UpdateTimestamp      string  `json:"update_timestamp"`
}

// toV1CardBalance reports what is owed as positive amounts, as card issuers do.
func toV1CardBalance(b bankdata.Balance) v1CardBalance {
	return v1CardBalance{
		Available:            majorString(b.Available),
		Currency:             b.Currency,
		Current:              major(-b.Current),
		CreditLimit:          major(b.CreditLimit),
		LastStatementBalance: major(-b.LastStatementBalance),
		LastStatementDate:    ts(b.LastStatementDate),
		PaymentDue:           major(b.PaymentDue),
		PaymentDueDate:       ts(b.PaymentDueDate),
		UpdateTimestamp:      ts(b.AsOf),
	}
}
