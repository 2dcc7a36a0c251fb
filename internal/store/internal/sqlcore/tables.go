package sqlcore

import (
	"slices"
	"strings"
)

// Column is a table column written and read by the Core.
type Column struct {
	Name string
	Kind Kind
}

// Table describes a table for bulk writes and reads. Bookkeeping columns
// with database defaults (created_at, updated_at) are not listed.
type Table struct {
	Name    string
	Columns []Column
	// Key is the conflict target (the primary key).
	Key []string
	// Update lists the columns an upsert overwrites; empty means an
	// existing key is left as it is.
	Update []string
	// Touch says the table has an updated_at column to set on update.
	Touch bool
}

// ColumnNames returns the column names in order.
func (t *Table) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// ColumnList returns the column names joined by commas.
func (t *Table) ColumnList() string { return strings.Join(t.ColumnNames(), ", ") }

func (t *Table) index(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	panic("sqlcore: table " + t.Name + " has no column " + name)
}

// nonKey lists the columns not in the key: what an upsert overwrites.
func nonKey(cols []Column, key ...string) []string {
	var out []string
	for _, c := range cols {
		isKey := false
		for _, k := range key {
			if c.Name == k {
				isKey = true
			}
		}
		if !isKey {
			out = append(out, c.Name)
		}
	}
	return out
}

func ownerColumns(extra ...Column) []Column {
	cols := []Column{
		{"namespace", Text}, {"connection", Text}, {"user_ref", Text}, {"provider", Text},
		{"connection_uid", Text},
	}
	return append(cols, extra...)
}

// connectionKey is the columns that name a connection's rows; every owned
// table's key starts with them.
func connectionKey(more ...string) []string {
	return append([]string{"namespace", "connection", "connection_uid"}, more...)
}

// upsertTable is an owned table of records an upsert overwrites, keyed by the
// connection and the columns key.
func upsertTable(name string, cols []Column, key ...string) *Table {
	t := &Table{Name: name, Columns: ownerColumns(cols...), Key: connectionKey(key...), Touch: true}
	t.Update = nonKey(t.Columns, t.Key...)
	return t
}

// snapshotTable is an owned table of per-account snapshots, replaced as a
// whole; "position" keeps the provider's order and makes rows without a
// stable id unique.
func snapshotTable(name string, cols ...Column) *Table {
	return &Table{
		Name:    name,
		Columns: ownerColumns(slices.Concat([]Column{{"account_id", Text}, {"position", Int}}, cols, []Column{{"fetched_at", Time}})...),
		Key:     connectionKey("account_id", "position"),
	}
}

// Accounts is keyed by connection and the store's account id; provider_account_id
// and account_key match an account across consents (identity.go).
var Accounts = upsertTable("accounts", []Column{
	{"account_id", Text}, {"account_type", Text}, {"display_name", Text},
	{"currency", Text}, {"number", Text}, {"sort_code", Text},
	{"swift_bic", Text}, {"iban", Text}, {"routing_number", Text},
	{"bsb", Text}, {"institution_id", Text}, {"update_timestamp", Time},
	{"fetched_at", Time}, {"meta", JSON},
	{"provider_account_id", Text}, {"account_key", Text},
}, "account_id")

// Cards is keyed by connection and the store's card id, matched as accounts are.
var Cards = upsertTable("cards", []Column{
	{"account_id", Text}, {"card_network", Text}, {"card_type", Text},
	{"currency", Text}, {"display_name", Text}, {"partial_card_number", Text},
	{"name_on_card", Text}, {"valid_from", Text}, {"valid_to", Text},
	{"institution_id", Text}, {"update_timestamp", Time}, {"fetched_at", Time},
	{"meta", JSON}, {"provider_account_id", Text}, {"account_key", Text},
}, "account_id")

// Balances is append-only history keyed by account and observation time.
var Balances = &Table{
	Name: "balances",
	Columns: ownerColumns(
		Column{"account_id", Text}, Column{"observed_at", Time}, Column{"currency", Text},
		Column{"current", Amount}, Column{"available", Amount}, Column{"overdraft", Amount},
		Column{"credit_limit", Amount}, Column{"last_statement_balance", Amount},
		Column{"last_statement_date", Time}, Column{"payment_due", Amount},
		Column{"payment_due_date", Time}, Column{"update_timestamp", Time},
	),
	Key: connectionKey("account_id", "observed_at"),
}

var transactionData = []Column{
	{"normalised_provider_transaction_id", Text}, {"provider_transaction_id", Text},
	{"timestamp", Time}, {"description", Text}, {"amount", Amount}, {"currency", Text},
	{"transaction_type", Text}, {"transaction_category", Text},
	{"transaction_classification", JSON}, {"merchant_name", Text},
	{"running_balance", Amount}, {"running_balance_currency", Text}, {"meta", JSON},
}

// Transactions is keyed by connection (name and UID), account and the provider's stable
// transaction id.
var Transactions = upsertTable("transactions", append([]Column{{"account_id", Text}}, transactionData...),
	"account_id", "normalised_provider_transaction_id")

// Pending holds the pending transactions of the latest run per account.
var Pending = snapshotTable("pending_transactions", transactionData...)

// StandingOrders holds the standing orders of the latest run per account.
var StandingOrders = snapshotTable("standing_orders",
	Column{"frequency", Text}, Column{"status", Text}, Column{"timestamp", Time}, Column{"currency", Text},
	Column{"next_payment_date", Time}, Column{"next_payment_amount", Amount},
	Column{"first_payment_date", Time}, Column{"first_payment_amount", Amount},
	Column{"final_payment_date", Time}, Column{"final_payment_amount", Amount},
	Column{"payee", Text}, Column{"reference", Text}, Column{"meta", JSON},
)

// DirectDebits holds the direct debits of the latest run per account.
var DirectDebits = snapshotTable("direct_debits",
	Column{"direct_debit_id", Text}, Column{"timestamp", Time}, Column{"name", Text}, Column{"status", Text},
	Column{"previous_payment_timestamp", Time}, Column{"previous_payment_amount", Amount},
	Column{"currency", Text}, Column{"meta", JSON},
)

// Identities holds identity records per scope (account_id "" = connection).
var Identities = snapshotTable("identities",
	Column{"full_name", Text}, Column{"title", Text}, Column{"first_name", Text}, Column{"last_name", Text},
	Column{"date_of_birth", Text}, Column{"branch_id", Text}, Column{"emails", JSON},
	Column{"phones", JSON}, Column{"addresses", JSON}, Column{"update_timestamp", Time},
	Column{"meta", JSON},
)

// SyncRuns is the bookkeeping of SyncJob runs.
var SyncRuns = &Table{
	Name: "sync_runs",
	Columns: []Column{
		{"namespace", Text}, {"run_id", Text}, {"sync_job", Text}, {"connection", Text},
		{"user_ref", Text}, {"provider", Text}, {"started_at", Time}, {"finished_at", Time},
		{"status", Text}, {"error", Text}, {"connection_uid", Text},
	},
	Key: []string{"namespace", "run_id"},
}

// SyncRunCounts is records stored per run and resource.
var SyncRunCounts = &Table{
	Name:    "sync_run_counts",
	Columns: []Column{{"namespace", Text}, {"run_id", Text}, {"resource", Text}, {"count", Int}},
	Key:     []string{"namespace", "run_id", "resource"},
}

// Connections records who owns each connection's data.
var Connections = &Table{Name: "connections", Columns: ownerColumns(), Key: connectionKey()}

// dataTables are the tables DeleteConnection empties (sync runs aside).
var dataTables = []*Table{Accounts, Cards, Balances, Transactions, Pending, StandingOrders, DirectDebits, Identities}
