package sqlcore

import "github.com/consent-operator/consent-operator/internal/store"

// rekeyedID is the provider's latest id of an account when it differs from the
// store's (store.Account.ProviderAccountID).
func rekeyedID(r *row) string {
	if p := r.text("provider_account_id"); p != r.text("account_id") {
		return p
	}
	return ""
}

func decodeAccount(r *row) store.Account {
	return store.Account{
		AccountID: r.text("account_id"), ProviderAccountID: rekeyedID(r), Type: r.text("account_type"),
		DisplayName: r.text("display_name"), Currency: r.text("currency"),
		Number: store.AccountNumber{
			Number: r.text("number"), SortCode: r.text("sort_code"), SwiftBIC: r.text("swift_bic"),
			IBAN: r.text("iban"), RoutingNumber: r.text("routing_number"), BSB: r.text("bsb"),
		},
		InstitutionID: r.text("institution_id"), UpdatedAt: r.time("update_timestamp"),
		FetchedAt: r.time("fetched_at"), Meta: r.json("meta"),
	}
}

func decodeCard(r *row) store.Card {
	return store.Card{
		AccountID: r.text("account_id"), ProviderAccountID: rekeyedID(r), CardNetwork: r.text("card_network"),
		CardType: r.text("card_type"), Currency: r.text("currency"),
		DisplayName: r.text("display_name"), PartialCardNumber: r.text("partial_card_number"),
		NameOnCard: r.text("name_on_card"), ValidFrom: r.text("valid_from"),
		ValidTo: r.text("valid_to"), InstitutionID: r.text("institution_id"),
		UpdatedAt: r.time("update_timestamp"), FetchedAt: r.time("fetched_at"), Meta: r.json("meta"),
	}
}

func decodeBalance(r *row) store.Balance {
	return store.Balance{
		AccountID: r.text("account_id"), ObservedAt: r.time("observed_at"),
		Currency: r.text("currency"), Current: r.amount("current"),
		Available: r.amount("available"), Overdraft: r.amount("overdraft"),
		CreditLimit: r.amount("credit_limit"), LastStatementBalance: r.amount("last_statement_balance"),
		LastStatementDate: r.time("last_statement_date"), PaymentDue: r.amount("payment_due"),
		PaymentDueDate: r.time("payment_due_date"), UpdatedAt: r.time("update_timestamp"),
	}
}

// decodeTransaction reads the transaction columns shared by the booked and
// pending tables.
func decodeTransaction(r *row) store.Transaction {
	t := store.Transaction{
		AccountID:                       r.text("account_id"),
		NormalisedProviderTransactionID: r.text("normalised_provider_transaction_id"),
		ProviderTransactionID:           r.text("provider_transaction_id"),
		Timestamp:                       r.time("timestamp"),
		Description:                     r.text("description"),
		Amount:                          r.amount("amount"),
		Currency:                        r.text("currency"),
		Type:                            r.text("transaction_type"),
		Category:                        r.text("transaction_category"),
		MerchantName:                    r.text("merchant_name"),
		Meta:                            r.json("meta"),
	}
	r.list("transaction_classification", &t.Classification)
	if rb := r.amount("running_balance"); rb != "" || r.text("running_balance_currency") != "" {
		t.RunningBalance = &store.Money{Amount: rb, Currency: r.text("running_balance_currency")}
	}
	return t
}

func decodeStandingOrder(r *row) store.StandingOrder {
	return store.StandingOrder{
		AccountID: r.text("account_id"), Frequency: r.text("frequency"), Status: r.text("status"),
		Timestamp: r.time("timestamp"), Currency: r.text("currency"),
		NextPaymentDate: r.time("next_payment_date"), NextPaymentAmount: r.amount("next_payment_amount"),
		FirstPaymentDate: r.time("first_payment_date"), FirstPaymentAmount: r.amount("first_payment_amount"),
		FinalPaymentDate: r.time("final_payment_date"), FinalPaymentAmount: r.amount("final_payment_amount"),
		Payee: r.text("payee"), Reference: r.text("reference"), Meta: r.json("meta"),
	}
}

func decodeDirectDebit(r *row) store.DirectDebit {
	return store.DirectDebit{
		AccountID: r.text("account_id"), DirectDebitID: r.text("direct_debit_id"),
		Timestamp: r.time("timestamp"), Name: r.text("name"), Status: r.text("status"),
		PreviousPaymentTimestamp: r.time("previous_payment_timestamp"),
		PreviousPaymentAmount:    r.amount("previous_payment_amount"),
		Currency:                 r.text("currency"), Meta: r.json("meta"),
	}
}

func decodeIdentity(r *row) store.Identity {
	id := store.Identity{
		FullName: r.text("full_name"), Title: r.text("title"), FirstName: r.text("first_name"),
		LastName: r.text("last_name"), DateOfBirth: r.text("date_of_birth"),
		BranchID: r.text("branch_id"), UpdatedAt: r.time("update_timestamp"), Meta: r.json("meta"),
	}
	r.list("emails", &id.Emails)
	r.list("phones", &id.Phones)
	r.list("addresses", &id.Addresses)
	return id
}

func decodeSyncRun(r *row) store.SyncRun {
	return store.SyncRun{
		RunID:      r.text("run_id"),
		SyncJob:    r.text("sync_job"),
		Owner:      r.owner(),
		StartedAt:  r.time("started_at"),
		FinishedAt: r.time("finished_at"),
		Status:     store.RunStatus(r.text("status")),
		Error:      r.text("error"),
	}
}
