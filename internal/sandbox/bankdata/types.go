package bankdata

import "time"

// AccountKind distinguishes current accounts, savings accounts and cards.
type AccountKind string

const (
	KindCurrent    AccountKind = "current"
	KindSavings    AccountKind = "savings"
	KindCreditCard AccountKind = "credit_card"
)

// TxType is the direction of a transaction.
type TxType string

const (
	Debit  TxType = "DEBIT"
	Credit TxType = "CREDIT"
)

// Identity is the account holder.
type Identity struct {
	Title       string
	FirstName   string
	LastName    string
	FullName    string
	DateOfBirth time.Time // midnight UTC
	Email       string
	Phone       string
	Address     Address
}

// Address is a postal address.
type Address struct {
	Line1    string
	Line2    string
	City     string
	State    string
	Postcode string
	Country  string // ISO 3166-1 alpha-2, e.g. "GB"
}

// Account is a bank account or a card.
type Account struct {
	ID          string // stable opaque id (32 hex characters)
	Kind        AccountKind
	DisplayName string
	Currency    string // ISO 4217, "GBP"

	// Bank account identifiers (current and savings accounts).
	SortCode      string // 6 digits, no dashes
	AccountNumber string // 8 digits
	IBAN          string // valid check digits
	SwiftBIC      string

	// ProviderAccountID is the bank's own id for the account.
	ProviderAccountID string

	// OpeningBalance is the balance (minor units) before the first
	// transaction of the history.
	OpeningBalance int64
	// Overdraft is the arranged overdraft limit (minor units), current accounts only.
	Overdraft int64

	// Card fields (KindCreditCard only).
	CardNetwork       string // "VISA", "MASTERCARD"
	CardType          string // "CREDIT"
	PartialCardNumber string // last four digits
	NameOnCard        string
	ValidFrom         string // YYYY-MM
	ValidTo           string // YYYY-MM
	CreditLimit       int64  // minor units
	Created           time.Time
}

// IsCard reports whether the account is a card.
func (a Account) IsCard() bool { return a.Kind == KindCreditCard }

// Transaction is a booked or pending transaction.
type Transaction struct {
	AccountID string
	// ID is the aggregator-style transaction id (stable in this sandbox).
	ID string
	// NormalisedID is the stable id that "will not change between requests"
	// (TrueLayer's normalised_provider_transaction_id).
	NormalisedID string
	// ProviderID is the bank's own transaction id.
	ProviderID string
	Timestamp  time.Time // UTC
	// Description is the raw bank description.
	Description string
	// Amount in minor units, negative for money leaving the account.
	Amount   int64
	Currency string
	Type     TxType
	// Category is the aggregator category (ATM, BILL_PAYMENT, CREDIT,
	// DIRECT_DEBIT, FEE_CHARGE, INTEREST, PURCHASE, STANDING_ORDER, TRANSFER, ...).
	Category string
	// Classification is a top-level and sub classification, e.g.
	// ["Shopping", "Groceries"]; may be empty.
	Classification []string
	MerchantName   string // may be empty
	// ProviderCategory is the bank's own short code ("DEB", "DD", "SO", ...).
	ProviderCategory string
	// CategoryCode and CategoryName are an enrichment category (e.g. "C_BL_00",
	// "Bills - Generic").
	CategoryCode string
	CategoryName string
	// RunningBalance is the balance after this transaction (booked only).
	RunningBalance int64
	Pending        bool
}

// Balance is an account's or card's balance at an instant.
type Balance struct {
	AccountID string
	Currency  string
	// Current is the booked balance (negative on a card while money is owed).
	Current int64
	// Available includes pending transactions and the arranged overdraft (for
	// cards: credit limit minus what is owed and pending).
	Available int64
	Overdraft int64
	// Card-only fields.
	CreditLimit          int64
	LastStatementBalance int64
	LastStatementDate    time.Time
	PaymentDue           int64
	PaymentDueDate       time.Time
	AsOf                 time.Time
}

// StandingOrder is a recurring payment instruction the account holder set up.
type StandingOrder struct {
	ID                string
	AccountID         string
	Payee             string
	Reference         string
	Frequency         string // TrueLayer grammar, e.g. "IntrvlMnthDay:01:26"
	DayOfMonth        int
	Amount            int64 // minor units, positive
	Currency          string
	Status            string // "Active"
	FirstPaymentDate  time.Time
	NextPaymentDate   time.Time
	FinalPaymentDate  time.Time // zero when open-ended
	Created           time.Time
	ProviderAccountID string
}

// DirectDebit is a mandate allowing a payee to collect from the account.
type DirectDebit struct {
	ID                    string
	AccountID             string
	Name                  string
	Status                string // "Active"
	MandateID             string
	DayOfMonth            int
	PreviousPaymentAmount int64 // minor units, positive; 0 when none yet
	PreviousPaymentTime   time.Time
	Currency              string
	Created               time.Time
	ProviderAccountID     string
	ProviderDirectDebitID string
}

// MinorToMajor converts minor units to a major-unit float (pence to pounds).
// Values up to 2^53 pence convert exactly to the nearest representable
// decimal, so 1234 becomes 12.34 when formatted with strconv 'f', -1.
func MinorToMajor(v int64) float64 { return float64(v) / 100 }
