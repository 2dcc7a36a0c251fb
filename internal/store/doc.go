// Package store is the operator's data store: the provider-neutral shape of
// the data a SyncJob fetches (accounts, cards, balances, transactions,
// pending transactions, standing orders, direct debits, identity) and the
// bookkeeping of sync runs, behind one Store interface.
//
// Every row carries the namespace and name of the BankConnection it was
// fetched through, plus the connection's userRef and provider, so an
// application can find its user's data with plain SQL.
//
// Implementations live in sub-packages: postgres (production) and sqlite
// (embedded default). Package open selects one from a DSN. Package storetest
// holds the contract test suite both must pass.
package store
