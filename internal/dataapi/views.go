package dataapi

import (
	"encoding/json"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// The JSON the API answers with. Field names are camelCase like the Kubernetes API;
// a value the provider did not report is left out. Amounts are exact decimal strings.
// The OpenAPI document is generated from these types (openapi.go).

// Source names the connection a row was fetched through: a userRef's rows can come
// from several connections, and from earlier connections of the same name.
type Source struct {
	Connection    string `json:"connection"`
	ConnectionUID string `json:"connectionUID"`
}

func sourceOf(k store.ConnectionKey) Source {
	return Source{Connection: k.Connection, ConnectionUID: k.UID}
}

// AccountNumber holds a bank account's identifiers.
type AccountNumber struct {
	Number        string `json:"number,omitempty"`
	SortCode      string `json:"sortCode,omitempty"`
	SwiftBIC      string `json:"swiftBic,omitempty"`
	IBAN          string `json:"iban,omitempty"`
	RoutingNumber string `json:"routingNumber,omitempty"`
	BSB           string `json:"bsb,omitempty"`
}

// Account is a bank account. AccountID is stable across re-consents (the id the
// account was first stored under); ProviderAccountID is the provider's id in the
// latest consent, present only when a re-consent changed it.
type Account struct {
	Source
	AccountID         string          `json:"accountId"`
	ProviderAccountID string          `json:"providerAccountId,omitempty"`
	Type              string          `json:"type,omitempty"`
	DisplayName       string          `json:"displayName,omitempty"`
	Currency          string          `json:"currency,omitempty"`
	Number            AccountNumber   `json:"number"`
	InstitutionID     string          `json:"institutionId,omitempty"`
	UpdatedAt         *time.Time      `json:"updatedAt,omitempty"`
	FetchedAt         *time.Time      `json:"fetchedAt,omitempty"`
	Meta              json.RawMessage `json:"meta,omitempty"`
}

// Card is a card account; its ids are as an Account's.
type Card struct {
	Source
	AccountID         string          `json:"accountId"`
	ProviderAccountID string          `json:"providerAccountId,omitempty"`
	CardNetwork       string          `json:"cardNetwork,omitempty"`
	CardType          string          `json:"cardType,omitempty"`
	Currency          string          `json:"currency,omitempty"`
	DisplayName       string          `json:"displayName,omitempty"`
	PartialCardNumber string          `json:"partialCardNumber,omitempty"`
	NameOnCard        string          `json:"nameOnCard,omitempty"`
	ValidFrom         string          `json:"validFrom,omitempty"`
	ValidTo           string          `json:"validTo,omitempty"`
	InstitutionID     string          `json:"institutionId,omitempty"`
	UpdatedAt         *time.Time      `json:"updatedAt,omitempty"`
	FetchedAt         *time.Time      `json:"fetchedAt,omitempty"`
	Meta              json.RawMessage `json:"meta,omitempty"`
}

// Balance is one observation of an account's or card's balance.
type Balance struct {
	Source
	AccountID            string     `json:"accountId"`
	ObservedAt           time.Time  `json:"observedAt"`
	Currency             string     `json:"currency,omitempty"`
	Current              string     `json:"current"`
	Available            string     `json:"available,omitempty"`
	Overdraft            string     `json:"overdraft,omitempty"`
	CreditLimit          string     `json:"creditLimit,omitempty"`
	LastStatementBalance string     `json:"lastStatementBalance,omitempty"`
	LastStatementDate    *time.Time `json:"lastStatementDate,omitempty"`
	PaymentDue           string     `json:"paymentDue,omitempty"`
	PaymentDueDate       *time.Time `json:"paymentDueDate,omitempty"`
	UpdatedAt            *time.Time `json:"updatedAt,omitempty"`
}

// Money is an amount in a currency.
type Money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency,omitempty"`
}

// Transaction is a booked or pending transaction.
type Transaction struct {
	Source
	AccountID string `json:"accountId"`
	// TransactionID is the provider's stable id (normalised_provider_transaction_id).
	TransactionID         string          `json:"transactionId,omitempty"`
	ProviderTransactionID string          `json:"providerTransactionId,omitempty"`
	Timestamp             time.Time       `json:"timestamp"`
	Description           string          `json:"description,omitempty"`
	Amount                string          `json:"amount"`
	Currency              string          `json:"currency,omitempty"`
	Type                  string          `json:"type,omitempty"`
	Category              string          `json:"category,omitempty"`
	Classification        []string        `json:"classification,omitempty"`
	MerchantName          string          `json:"merchantName,omitempty"`
	RunningBalance        *Money          `json:"runningBalance,omitempty"`
	Meta                  json.RawMessage `json:"meta,omitempty"`
}

// StandingOrder is a standing order of an account.
type StandingOrder struct {
	Source
	AccountID          string          `json:"accountId"`
	Frequency          string          `json:"frequency,omitempty"`
	Status             string          `json:"status,omitempty"`
	Timestamp          *time.Time      `json:"timestamp,omitempty"`
	Currency           string          `json:"currency,omitempty"`
	NextPaymentDate    *time.Time      `json:"nextPaymentDate,omitempty"`
	NextPaymentAmount  string          `json:"nextPaymentAmount,omitempty"`
	FirstPaymentDate   *time.Time      `json:"firstPaymentDate,omitempty"`
	FirstPaymentAmount string          `json:"firstPaymentAmount,omitempty"`
	FinalPaymentDate   *time.Time      `json:"finalPaymentDate,omitempty"`
	FinalPaymentAmount string          `json:"finalPaymentAmount,omitempty"`
	Payee              string          `json:"payee,omitempty"`
	Reference          string          `json:"reference,omitempty"`
	Meta               json.RawMessage `json:"meta,omitempty"`
}

// DirectDebit is a direct debit mandate of an account.
type DirectDebit struct {
	Source
	AccountID                string          `json:"accountId"`
	DirectDebitID            string          `json:"directDebitId,omitempty"`
	Timestamp                *time.Time      `json:"timestamp,omitempty"`
	Name                     string          `json:"name,omitempty"`
	Status                   string          `json:"status,omitempty"`
	PreviousPaymentTimestamp *time.Time      `json:"previousPaymentTimestamp,omitempty"`
	PreviousPaymentAmount    string          `json:"previousPaymentAmount,omitempty"`
	Currency                 string          `json:"currency,omitempty"`
	Meta                     json.RawMessage `json:"meta,omitempty"`
}

// Identity is what the provider says about the account holder; AccountID is empty
// for the connection's identity and names the account for per-account identity.
type Identity struct {
	Source
	AccountID   string          `json:"accountId,omitempty"`
	FullName    string          `json:"fullName,omitempty"`
	Title       string          `json:"title,omitempty"`
	FirstName   string          `json:"firstName,omitempty"`
	LastName    string          `json:"lastName,omitempty"`
	DateOfBirth string          `json:"dateOfBirth,omitempty"`
	BranchID    string          `json:"branchId,omitempty"`
	Emails      []string        `json:"emails,omitempty"`
	Phones      []string        `json:"phones,omitempty"`
	Addresses   []store.Address `json:"addresses,omitempty"`
	UpdatedAt   *time.Time      `json:"updatedAt,omitempty"`
	Meta        json.RawMessage `json:"meta,omitempty"`
}

// SyncRun is one run of a SyncJob.
type SyncRun struct {
	Source
	RunID      string           `json:"runId"`
	SyncJob    string           `json:"syncJob"`
	StartedAt  time.Time        `json:"startedAt"`
	FinishedAt *time.Time       `json:"finishedAt,omitempty"`
	Status     string           `json:"status"`
	Counts     map[string]int64 `json:"counts,omitempty"`
	Error      string           `json:"error,omitempty"`
}

// Consent is the state of a connection's consent, from its BankConnection.
type Consent struct {
	// Status is Pending, Active, Expired or Revoked.
	Status    string     `json:"status,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// Bank is the provider's id of the bank the user chose.
	Bank string `json:"bank,omitempty"`
}

// Connection is a connection holding or fetching a user's data.
type Connection struct {
	Source
	UserRef  string `json:"userRef"`
	Provider string `json:"provider"`
	// Present is false for a deleted connection whose rows were retained
	// (spec.dataRetention Retain): its data is reachable through the userRef only.
	Present bool `json:"present"`
	// Ready, Reason: the BankConnection's Ready condition (absent when not present).
	Ready  string `json:"ready,omitempty"`
	Reason string `json:"reason,omitempty"`
	// ConsentExpiring is true inside the re-consent warning window.
	ConsentExpiring bool     `json:"consentExpiring,omitempty"`
	Consent         *Consent `json:"consent,omitempty"`
}

// User is everything the operator knows of a user's connections in a namespace.
type User struct {
	UserRef     string       `json:"userRef"`
	Connections []Connection `json:"connections"`
}

// Lists: items in a stable order (by connection, then account, then time or the
// provider's order).
type (
	AccountList struct {
		Items []Account `json:"items"`
	}
	CardList struct {
		Items []Card `json:"items"`
	}
	BalanceList struct {
		Items []Balance `json:"items"`
	}
	StandingOrderList struct {
		Items []StandingOrder `json:"items"`
	}
	DirectDebitList struct {
		Items []DirectDebit `json:"items"`
	}
	IdentityList struct {
		Items []Identity `json:"items"`
	}
	SyncRunList struct {
		Items []SyncRun `json:"items"`
	}
	PendingList struct {
		Items []Transaction `json:"items"`
	}
)

// TransactionPage is one page of booked transactions, oldest first; Next, when
// present, is the opaque cursor of the following page (pass it as ?cursor=).
type TransactionPage struct {
	Items []Transaction `json:"items"`
	Next  string        `json:"next,omitempty"`
}

// Erasure says how many rows an erasure removed, per table.
type Erasure struct {
	UserRef        string `json:"userRef"`
	Accounts       int64  `json:"accounts"`
	Cards          int64  `json:"cards"`
	Balances       int64  `json:"balances"`
	Transactions   int64  `json:"transactions"`
	Pending        int64  `json:"pendingTransactions"`
	StandingOrders int64  `json:"standingOrders"`
	DirectDebits   int64  `json:"directDebits"`
	Identities     int64  `json:"identities"`
	SyncRuns       int64  `json:"syncRuns"`
	Connections    int64  `json:"connections"`
}

// Problem is every error answer. Refusals (401, 403) carry fixed messages that say
// nothing about what exists.
type Problem struct {
	Error string `json:"error"`
}
