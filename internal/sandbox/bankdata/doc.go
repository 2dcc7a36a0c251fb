// Package bankdata generates the bank sandbox's mock banking data: a user's
// identity, accounts (current, savings), a credit card, years of transaction
// history, pending transactions, standing orders, direct debits and balances.
//
// The data is provider-neutral: the TrueLayer emulator (package sandbox) and the
// Codat emulator (package sandbox/codat) map the same Dataset to their own wire
// shapes, so an operator test can compare what it stored against the single
// source of truth here.
//
// # Determinism
//
// A Dataset is a pure function of Options (Seed, User, Size, Anchor). Nothing is
// random at read time: every transaction of every day is derived from a hash of
// (seed, user, account, day, position), so
//
//	ds, _ := bankdata.Generate(bankdata.Options{Seed: 1, User: "john", Anchor: t0})
//	txs := ds.Transactions(accountID, from, to)
//
// returns the same rows, with the same ids, in the same order, in any process,
// for any window. The dataset covers the days from Anchor minus the size's
// history (1, 3 or 5 years) to Anchor plus FutureDays; a sandbox whose clock
// moves forward serves the transactions whose timestamp is not after its
// clock's "now", so new transactions "happen" as the clock advances. Windows
// are clamped to the covered range.
//
// # Amounts
//
// Amounts are int64 minor units (pence), signed from the account holder's
// point of view: negative means money left the account (a DEBIT), positive
// means money arrived (a CREDIT). This holds for the credit card too: a
// purchase is negative and the card's balance is negative while money is owed
// (TrueLayer reports card purchases as positive DEBITs; the emulator flips the
// sign, see Transaction.Type). Running balances add up exactly: for every
// transaction, RunningBalance equals the previous transaction's RunningBalance
// plus Amount, and the first transaction of the history starts from the
// account's OpeningBalance.
//
// # Main API
//
//	Generate(Options) (*Dataset, error)
//	(*Dataset).Identity() Identity
//	(*Dataset).Accounts() []Account          // current and savings accounts, then cards
//	(*Dataset).Account(id) (Account, bool)
//	(*Dataset).Transactions(id, from, to) []Transaction  // booked, from <= Timestamp <= to, ascending
//	(*Dataset).Pending(id, now) []Transaction
//	(*Dataset).BalanceAt(id, at) (Balance, error)
//	(*Dataset).StandingOrders(id, now) []StandingOrder
//	(*Dataset).DirectDebits(id, now) []DirectDebit
//	(*Dataset).HistoryStart(), FutureEnd()
//	MinorToMajor(int64) float64
package bankdata
