package storetest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Base is the fixed instant fixtures are dated from; tests never read the
// wall clock.
var Base = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

// Owner returns an owner in namespace ns for connection conn, with a UID
// derived from both (one incarnation per name; see Incarnation).
func Owner(ns, conn, userRef string) store.Owner {
	return Incarnation(ns, conn, userRef, 1)
}

// Incarnation returns the owner of the n-th connection created under one name.
func Incarnation(ns, conn, userRef string, n int) store.Owner {
	return store.Owner{Namespace: ns, Connection: conn, UID: fmt.Sprintf("uid-%s-%s-%d", ns, conn, n),
		UserRef: userRef, Provider: "truelayer"}
}

// Transactions returns n distinct booked transactions of account, one per
// minute from start, shaped like TrueLayer's AccountTransaction (ids, a
// classification, a running balance, provider meta).
func Transactions(account string, n int, start time.Time) []store.Transaction {
	out := make([]store.Transaction, n)
	for i := range out {
		out[i] = store.Transaction{
			AccountID:                       account,
			NormalisedProviderTransactionID: fmt.Sprintf("txn-%s-%06d", account, i),
			ProviderTransactionID:           fmt.Sprintf("prov-%06d", i),
			Timestamp:                       start.Add(time.Duration(i) * time.Minute),
			Description:                     fmt.Sprintf("CARD PAYMENT TO SHOP %d", i%97),
			Amount:                          store.Amount(fmt.Sprintf("-%d.%02d", i%500+1, i%100)),
			Currency:                        "GBP",
			Type:                            "DEBIT",
			Category:                        "PURCHASE",
			Classification:                  []string{"Shopping", "Groceries"},
			MerchantName:                    fmt.Sprintf("Shop %d", i%97),
			RunningBalance:                  &store.Money{Amount: store.Amount(fmt.Sprintf("%d.50", 10000-i)), Currency: "GBP"},
			Meta:                            json.RawMessage(fmt.Sprintf(`{"provider_transaction_category":"DEB","provider_reference":"ref-%d"}`, i)),
		}
	}
	return out
}

// fullAccount is an account with every field set.
func fullAccount(id string) store.Account {
	return store.Account{
		AccountID: id, Type: "TRANSACTION", DisplayName: "Club Lloyds", Currency: "GBP",
		Number: store.AccountNumber{
			Number: "12345678", SortCode: "12-34-56", SwiftBIC: "LOYDGB2L",
			IBAN: "GB35LOYD12345678901234", RoutingNumber: "021000021", BSB: "062-000",
		},
		InstitutionID: "lloyds",
		UpdatedAt:     time.Date(2017, 2, 7, 17, 29, 24, 740802000, time.UTC),
		FetchedAt:     Base,
		Meta:          json.RawMessage(`{"description":"current account"}`),
	}
}

func fullCard(id string) store.Card {
	return store.Card{
		AccountID: id, CardNetwork: "VISA", CardType: "CREDIT", Currency: "GBP",
		DisplayName: "Club Card", PartialCardNumber: "1234", NameOnCard: "JOHN DOE",
		ValidFrom: "2024-01", ValidTo: "2028-01", InstitutionID: "amex",
		UpdatedAt: Base.Add(-time.Hour), FetchedAt: Base,
		Meta: json.RawMessage(`{"x":1}`),
	}
}

func fullBalance(account string, at time.Time) store.Balance {
	return store.Balance{
		AccountID: account, ObservedAt: at, Currency: "GBP",
		Current: "1161.2", Available: "2150.8", Overdraft: "1000",
		CreditLimit: "3000", LastStatementBalance: "-120.55",
		LastStatementDate: at.Add(-48 * time.Hour), PaymentDue: "25",
		PaymentDueDate: at.Add(240 * time.Hour), UpdatedAt: at.Add(-time.Minute),
	}
}

func fullStandingOrder(account string, i int) store.StandingOrder {
	return store.StandingOrder{
		AccountID: account, Frequency: "IntrvlMnthDay:01:26", Status: "Active",
		Timestamp: Base, Currency: "GBP",
		NextPaymentDate: Base.AddDate(0, 0, 25), NextPaymentAmount: "500",
		FirstPaymentDate: Base.AddDate(0, -1, 0), FirstPaymentAmount: "0",
		FinalPaymentDate:   time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		FinalPaymentAmount: "0", Payee: fmt.Sprintf("Payee %d", i), Reference: "Savings",
		Meta: json.RawMessage(`{"provider_account_id":"12345ca1"}`),
	}
}

func fullDirectDebit(account string, i int) store.DirectDebit {
	return store.DirectDebit{
		AccountID: account, DirectDebitID: fmt.Sprintf("dd-%d", i), Timestamp: Base,
		Name: "EE", Status: "Active", PreviousPaymentTimestamp: Base.AddDate(0, -1, 0),
		PreviousPaymentAmount: "25", Currency: "GBP",
		Meta: json.RawMessage(`{"provider_mandate_identification":"6","provider_account_id":"1000000000000000001"}`),
	}
}

func fullIdentity(name string) store.Identity {
	return store.Identity{
		FullName: name, Title: "Mr", FirstName: "Sherlock", LastName: "Holmes",
		DateOfBirth: "1854-01-06", BranchID: "040102",
		Emails: []string{"sherlock@example.com"}, Phones: []string{"+44 20 7946 0000"},
		Addresses: []store.Address{{Lines: []string{"221B Baker St", "Flat 2"}, City: "London",
			State: "Greater London", Zip: "NW1 6XE", Country: "GB"}},
		UpdatedAt: Base, Meta: json.RawMessage(`{"source":"signup-plus"}`),
	}
}
