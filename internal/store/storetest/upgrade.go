package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Upgrading from schema version 1, whose rows were keyed by name only: a backend's
// test builds a database at version 1 (its 0001 migration and the bookkeeping row
// SchemaV1Record returns), runs LegacyRows in it, opens the store (which applies the
// later migrations) and hands it to CheckLegacyRowsAdopted.

// LegacyRows are rows a version-1 store wrote for connection team-a/legacy, in SQL
// both databases accept.
var LegacyRows = []string{
	`INSERT INTO connections (namespace, connection, user_ref, provider) VALUES ('team-a', 'legacy', 'alice', 'truelayer')`,
	`INSERT INTO accounts (namespace, connection, user_ref, provider, account_id) VALUES ('team-a', 'legacy', 'alice', 'truelayer', 'acc')`,
	`INSERT INTO accounts (namespace, connection, user_ref, provider, account_id, sort_code, number) VALUES ('team-a', 'legacy', 'alice', 'truelayer', 'acc-scan', '12-34-56', '12345678')`,
	`INSERT INTO transactions (namespace, connection, user_ref, provider, account_id, normalised_provider_transaction_id, "timestamp", amount)
VALUES ('team-a', 'legacy', 'alice', 'truelayer', 'acc', 'tx-old', '2026-02-01T09:30:00.000000Z', '-1.5')`,
	`INSERT INTO connections (namespace, connection, user_ref, provider) VALUES ('team-a', 'idle', 'bob', 'truelayer')`,
	`INSERT INTO accounts (namespace, connection, user_ref, provider, account_id) VALUES ('team-a', 'idle', 'bob', 'truelayer', 'acc')`,
}

// SchemaV1Record is the schema_migrations table and its row of version 1 (body is
// the 0001 migration's text), as the migrator of version 1 left them.
func SchemaV1Record(body []byte) []string {
	sum := sha256.Sum256(body)
	return []string{
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at text NOT NULL)`,
		fmt.Sprintf(`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (1, 'init', '%s', 'then')`, hex.EncodeToString(sum[:])),
	}
}

// CheckLegacyRowsAdopted: after the upgrade, the first write of the connection that
// holds a legacy row's name adopts it (its history stays readable through it), and
// deleting a connection that never wrote again removes its legacy rows.
func CheckLegacyRowsAdopted(t *testing.T, s store.Store) {
	ctx := t.Context()
	legacy := Incarnation("team-a", "legacy", "alice", 7)
	if c := counts(t, s, legacy.Key()); c != (store.Counts{}) {
		t.Fatalf("legacy rows are read under a UID before anything adopted them: %+v", c)
	}
	_, err := s.UpsertTransactions(ctx, legacy, Transactions("acc", 2, Base))
	must(t, "first write after the upgrade", err)
	if c := counts(t, s, legacy.Key()); c.Transactions != 3 || c.Accounts != 2 {
		t.Fatalf("after the first write: %+v, want the legacy transaction and accounts adopted", c)
	}
	// A re-consent right after the upgrade renames an account written before
	// account keys existed (migration 0003): it is still found by its numbers.
	res, err := s.UpsertAccounts(ctx, legacy, []store.Account{{AccountID: "acc-scan-new", Number: store.AccountNumber{SortCode: "123456", Number: "12345678"}}})
	must(t, "re-consent after the upgrade", err)
	wantResult(t, "re-consent after the upgrade", res, store.BatchResult{Updated: 1})
	ids, err := s.AccountIdentities(ctx, legacy.Key())
	must(t, "identities after the upgrade", err)
	if len(ids) != 2 || ids[1] != (store.AccountIdentity{AccountID: "acc-scan", ProviderAccountID: "acc-scan-new", Key: "gb:123456:12345678"}) {
		t.Fatalf("identities after a re-consent following the upgrade: %+v", ids)
	}
	owners, err := s.ListConnections(ctx, "team-a", "alice")
	must(t, "connections", err)
	if len(owners) != 1 || owners[0] != legacy {
		t.Fatalf("connections after adoption: %+v", owners)
	}
	idle := Incarnation("team-a", "idle", "bob", 1)
	must(t, "delete the idle connection", s.DeleteConnection(ctx, idle.Key()))
	if left, err := s.ListConnections(ctx, "team-a", "bob"); err != nil || len(left) != 0 {
		t.Fatalf("the idle connection's legacy rows after its deletion: %+v (%v)", left, err)
	}
	erased, err := s.DeleteUser(ctx, store.UserKey{Namespace: "team-a", UserRef: "bob"})
	must(t, "erase bob", err)
	if erased.Total() != 0 {
		t.Fatalf("rows of the deleted idle connection were left: %+v", erased)
	}
}
