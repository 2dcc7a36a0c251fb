package store

import (
	"encoding/json"
	"time"
)

// Times: the store keeps UTC with microsecond precision (PostgreSQL's
// timestamptz resolution); the zero time.Time means "not reported" and is
// stored as NULL. Strings: "" means "not reported".

// AccountNumber holds the identifiers of a bank account; which ones are set
// depends on the country and the provider.
type AccountNumber struct {
	Number        string
	SortCode      string
	SwiftBIC      string
	IBAN          string
	RoutingNumber string
	BSB           string
}

// Account is a bank account (TrueLayer /accounts, Codat banking-accounts).
type Account struct {
	// AccountID names the account: on write, by the provider's id in the consent
	// it was read through; on read, by the store's id (see AccountIdentity).
	AccountID string
	// ProviderAccountID is, on read, the provider's id of the account in the latest
	// consent when a re-consent changed it (AccountID is then the earlier id); ""
	// while the two are the same. Writes ignore it.
	ProviderAccountID string
	// Type is the provider's account type, e.g. TRANSACTION, SAVINGS.
	Type        string
	DisplayName string
	Currency    string
	Number      AccountNumber
	// InstitutionID is the bank (TrueLayer provider_id, Codat institution id).
	InstitutionID string
	// UpdatedAt is the provider's update_timestamp.
	UpdatedAt time.Time
	// FetchedAt is when the operator read the account.
	FetchedAt time.Time
	// Meta holds provider-specific fields as a JSON object (may be nil).
	Meta json.RawMessage
}

// Card is a card account (TrueLayer /cards). AccountID and ProviderAccountID
// are as in Account.
type Card struct {
	AccountID         string
	ProviderAccountID string
	CardNetwork       string
	CardType          string
	Currency          string
	DisplayName       string
	PartialCardNumber string
	NameOnCard        string
	// ValidFrom and ValidTo are as the provider sends them (YYYY-MM).
	ValidFrom     string
	ValidTo       string
	InstitutionID string
	UpdatedAt     time.Time
	FetchedAt     time.Time
	Meta          json.RawMessage
}

// Balance is one observation of an account's or card's balance. Balances are
// history: one row per account per ObservedAt.
type Balance struct {
	AccountID string
	// ObservedAt is when the operator read the balance; with AccountID it is
	// the row's identity, so appending the same observation twice stores one.
	ObservedAt time.Time
	Currency   string
	Current    Amount
	Available  Amount
	Overdraft  Amount
	// Card balances only.
	CreditLimit          Amount
	LastStatementBalance Amount
	LastStatementDate    time.Time
	PaymentDue           Amount
	PaymentDueDate       time.Time
	// UpdatedAt is the provider's update_timestamp.
	UpdatedAt time.Time
}

// Money is an amount in a currency.
type Money struct {
	Amount   Amount
	Currency string
}

// Transaction is a booked (or, in the pending table, pending) transaction of
// an account or card.
type Transaction struct {
	AccountID string
	// NormalisedProviderTransactionID is the provider's stable id of the
	// transaction; with the connection and AccountID it is the row's identity.
	// Required for booked transactions; pending ones may lack it.
	NormalisedProviderTransactionID string
	ProviderTransactionID           string
	// Timestamp is when the transaction was posted.
	Timestamp   time.Time
	Description string
	Amount      Amount
	Currency    string
	// Type is DEBIT or CREDIT (use it for the direction: card purchases are
	// positive DEBITs).
	Type           string
	Category       string
	Classification []string
	MerchantName   string
	// RunningBalance is nil when the provider does not report it.
	RunningBalance *Money
	Meta           json.RawMessage
}

// StandingOrder is a standing order of an account.
type StandingOrder struct {
	AccountID          string
	Frequency          string
	Status             string
	Timestamp          time.Time
	Currency           string
	NextPaymentDate    time.Time
	NextPaymentAmount  Amount
	FirstPaymentDate   time.Time
	FirstPaymentAmount Amount
	FinalPaymentDate   time.Time
	FinalPaymentAmount Amount
	Payee              string
	Reference          string
	Meta               json.RawMessage
}

// DirectDebit is a direct debit mandate of an account.
type DirectDebit struct {
	AccountID string
	// DirectDebitID is the provider's id; TrueLayer says it may change
	// between requests, so it is data, not identity.
	DirectDebitID            string
	Timestamp                time.Time
	Name                     string
	Status                   string
	PreviousPaymentTimestamp time.Time
	PreviousPaymentAmount    Amount
	Currency                 string
	Meta                     json.RawMessage
}

// Address is a postal address of an account holder.
type Address struct {
	Lines   []string `json:"lines,omitempty"`
	City    string   `json:"city,omitempty"`
	State   string   `json:"state,omitempty"`
	Zip     string   `json:"zip,omitempty"`
	Country string   `json:"country,omitempty"`
}

// Identity is what the provider says about the account holder (TrueLayer
// /info for the whole connection, Signup+ per account).
type Identity struct {
	FullName  string
	Title     string
	FirstName string
	LastName  string
	// DateOfBirth as the provider sends it (YYYY-MM-DD).
	DateOfBirth string
	BranchID    string
	Emails      []string
	Phones      []string
	Addresses   []Address
	UpdatedAt   time.Time
	Meta        json.RawMessage
}
