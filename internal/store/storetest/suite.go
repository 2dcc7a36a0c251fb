// Package storetest is the contract every store.Store implementation must
// pass. An implementation's test calls Run with a constructor returning a
// fresh, empty store per call; the store it returns also implements
// TextQuerier, so the contract can read what the database holds.
package storetest

import (
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

// NewStore returns a fresh, empty store; it registers its own cleanup.
type NewStore func(t *testing.T) store.Store

// Run runs the contract suite.
func Run(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		run  func(*testing.T, store.Store)
	}{
		{"Ping", testPing},
		{"RoundTrip", testRoundTrip},
		{"ValuesNormalised", testValuesNormalised},
		{"JSONNotHTMLEscaped", testJSONNotHTMLEscaped},
		{"InvalidInputWritesNothing", testInvalidInput},
		{"TransactionsIdempotent", testTransactionsIdempotent},
		{"TransactionsUpdated", testTransactionsUpdated},
		{"DuplicateKeysInOneBatch", testDuplicateKeysInBatch},
		{"AccountsAndCardsUpsert", testAccountsAndCardsUpsert},
		{"TransactionWindow", testTransactionWindow},
		{"OwnerIsolation", testOwnerIsolation},
		{"DeleteConnection", testDeleteConnection},
		{"RecreatedConnectionSeesNoEarlierRows", testIncarnations},
		{"ReconsentRekeysAccounts", testReconsentRekeysAccounts},
		{"AccountMatching", testAccountMatching},
		{"DeleteUser", testDeleteUser},
		{"TransactionPages", testTransactionPages},
		{"Retention", testRetention},
		{"PendingReplacedPerAccount", testPendingReplaced},
		{"SnapshotsReplacedPerAccount", testSnapshotsReplaced},
		{"IdentityScopes", testIdentityScopes},
		{"BalancesHistory", testBalancesHistory},
		{"SyncRunBookkeeping", testSyncRuns},
		{"LargeBatch", testLargeBatch},
		{"CancelledBatchIsAllOrNothing", testCancelledBatch},
		{"ConcurrentWriters", testConcurrentWriters},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tc.run(t, s)
		})
	}
}
