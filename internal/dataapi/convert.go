package dataapi

import (
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// optTime is nil for the store's "not reported" zero time.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func accountView(src Source, a store.Account) Account {
	n := a.Number
	return Account{Source: src, AccountID: a.AccountID, ProviderAccountID: a.ProviderAccountID, Type: a.Type, DisplayName: a.DisplayName, Currency: a.Currency,
		Number: AccountNumber{Number: n.Number, SortCode: n.SortCode, SwiftBIC: n.SwiftBIC, IBAN: n.IBAN,
			RoutingNumber: n.RoutingNumber, BSB: n.BSB},
		InstitutionID: a.InstitutionID, UpdatedAt: optTime(a.UpdatedAt), FetchedAt: optTime(a.FetchedAt), Meta: a.Meta}
}

func cardView(src Source, c store.Card) Card {
	return Card{Source: src, AccountID: c.AccountID, ProviderAccountID: c.ProviderAccountID, CardNetwork: c.CardNetwork, CardType: c.CardType, Currency: c.Currency,
		DisplayName: c.DisplayName, PartialCardNumber: c.PartialCardNumber, NameOnCard: c.NameOnCard,
		ValidFrom: c.ValidFrom, ValidTo: c.ValidTo, InstitutionID: c.InstitutionID,
		UpdatedAt: optTime(c.UpdatedAt), FetchedAt: optTime(c.FetchedAt), Meta: c.Meta}
}

func balanceView(src Source, b store.Balance) Balance {
	return Balance{Source: src, AccountID: b.AccountID, ObservedAt: b.ObservedAt, Currency: b.Currency,
		Current: string(b.Current), Available: string(b.Available), Overdraft: string(b.Overdraft),
		CreditLimit: string(b.CreditLimit), LastStatementBalance: string(b.LastStatementBalance),
		LastStatementDate: optTime(b.LastStatementDate), PaymentDue: string(b.PaymentDue),
		PaymentDueDate: optTime(b.PaymentDueDate), UpdatedAt: optTime(b.UpdatedAt)}
}

func transactionView(src Source, t store.Transaction) Transaction {
	v := Transaction{Source: src, AccountID: t.AccountID, TransactionID: t.NormalisedProviderTransactionID,
		ProviderTransactionID: t.ProviderTransactionID, Timestamp: t.Timestamp, Description: t.Description,
		Amount: string(t.Amount), Currency: t.Currency, Type: t.Type, Category: t.Category,
		Classification: t.Classification, MerchantName: t.MerchantName, Meta: t.Meta}
	if rb := t.RunningBalance; rb != nil {
		v.RunningBalance = &Money{Amount: string(rb.Amount), Currency: rb.Currency}
	}
	return v
}

func standingOrderView(src Source, o store.StandingOrder) StandingOrder {
	return StandingOrder{Source: src, AccountID: o.AccountID, Frequency: o.Frequency, Status: o.Status,
		Timestamp: optTime(o.Timestamp), Currency: o.Currency,
		NextPaymentDate: optTime(o.NextPaymentDate), NextPaymentAmount: string(o.NextPaymentAmount),
		FirstPaymentDate: optTime(o.FirstPaymentDate), FirstPaymentAmount: string(o.FirstPaymentAmount),
		FinalPaymentDate: optTime(o.FinalPaymentDate), FinalPaymentAmount: string(o.FinalPaymentAmount),
		Payee: o.Payee, Reference: o.Reference, Meta: o.Meta}
}

func directDebitView(src Source, d store.DirectDebit) DirectDebit {
	return DirectDebit{Source: src, AccountID: d.AccountID, DirectDebitID: d.DirectDebitID, Timestamp: optTime(d.Timestamp),
		Name: d.Name, Status: d.Status, PreviousPaymentTimestamp: optTime(d.PreviousPaymentTimestamp),
		PreviousPaymentAmount: string(d.PreviousPaymentAmount), Currency: d.Currency, Meta: d.Meta}
}

func identityView(src Source, accountID string, id store.Identity) Identity {
	return Identity{Source: src, AccountID: accountID, FullName: id.FullName, Title: id.Title, FirstName: id.FirstName,
		LastName: id.LastName, DateOfBirth: id.DateOfBirth, BranchID: id.BranchID, Emails: id.Emails, Phones: id.Phones,
		Addresses: id.Addresses, UpdatedAt: optTime(id.UpdatedAt), Meta: id.Meta}
}

func syncRunView(r store.SyncRun) SyncRun {
	return SyncRun{Source: sourceOf(r.Owner.Key()), RunID: r.RunID, SyncJob: r.SyncJob, StartedAt: r.StartedAt,
		FinishedAt: optTime(r.FinishedAt), Status: string(r.Status), Counts: r.Counts, Error: r.Error}
}

func erasureView(userRef string, e store.Erased) Erasure {
	c := e.Counts
	return Erasure{UserRef: userRef, Accounts: c.Accounts, Cards: c.Cards, Balances: c.Balances,
		Transactions: c.Transactions, Pending: c.Pending, StandingOrders: c.StandingOrders,
		DirectDebits: c.DirectDebits, Identities: c.Identities, SyncRuns: e.SyncRuns, Connections: e.Connections}
}
