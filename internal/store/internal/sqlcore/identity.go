package sqlcore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/consent-operator/consent-operator/internal/store"
)

// A re-consent may bring new provider ids for the same accounts and cards. The
// store keeps one row per account: UpsertAccounts and UpsertCards find the row by
// the stable key (store.AccountKey, store.CardKey), else by the provider's id, and
// record the new provider id in it; every other write names the account by the
// provider's id and is stored under the row's account_id, so a transaction read
// again under a new account id lands on the row it already has.

// queryer is what identity reads need: the backend outside a write, or the write's
// transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
}

// accountIDs maps the provider ids of re-keyed accounts and cards to the store's
// ids. Accounts never re-keyed are absent: their provider id is their store id.
type accountIDs map[string]string

// of returns the store's id of the account the provider calls id.
func (m accountIDs) of(id string) string {
	if stored, ok := m[id]; ok {
		return stored
	}
	return id
}

// accountIDs reads the re-keyed accounts and cards of a connection. It is empty
// until a re-consent changes an id, so the common write pays one indexed read.
func (c *Core) accountIDs(ctx context.Context, q queryer, k store.ConnectionKey) (accountIDs, error) {
	a := c.args()
	cond := func() string { return a.connection(k) }
	rekeyed := "provider_account_id <> account_id AND provider_account_id <> ''"
	query := fmt.Sprintf(`SELECT provider_account_id, account_id FROM accounts WHERE %s AND %s
UNION ALL SELECT provider_account_id, account_id FROM cards WHERE %s AND %s`,
		cond(), rekeyed, cond(), rekeyed)
	rows, err := q.Query(ctx, query, a.vals...)
	if err != nil {
		return nil, fmt.Errorf("read re-keyed accounts of %s: %w", k, err)
	}
	defer rows.Close()
	ids := accountIDs{}
	for rows.Next() {
		var provider, stored string
		if err := rows.Scan(&provider, &stored); err != nil {
			return nil, fmt.Errorf("read re-keyed accounts of %s: %w", k, err)
		}
		ids[provider] = stored
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read re-keyed accounts of %s: %w", k, err)
	}
	return ids, rows.Close()
}

// AccountIdentities implements store.Reader.
func (c *Core) AccountIdentities(ctx context.Context, key store.ConnectionKey) ([]store.AccountIdentity, error) {
	if err := key.Validate(); err != nil {
		return nil, err
	}
	var out []store.AccountIdentity
	for _, t := range []*Table{Accounts, Cards} {
		rows, err := c.identities(ctx, c.b, t, key)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// identities reads the identity columns of a connection's accounts or cards,
// ordered by the store's id. A row without a key (written before migration 0003,
// which could not compute keys in SQL) gets it from its stored numbers, so a
// re-consent right after the upgrade still finds it.
func (c *Core) identities(ctx context.Context, q queryer, t *Table, k store.ConnectionKey) ([]store.AccountIdentity, error) {
	numbers := identityNumbers[t]
	a := c.args()
	query := fmt.Sprintf("SELECT provider_account_id, account_id, account_key, %s FROM %s WHERE %s ORDER BY account_id",
		strings.Join(numbers.columns, ", "), t.Name, a.connection(k))
	rows, err := q.Query(ctx, query, a.vals...)
	if err != nil {
		return nil, fmt.Errorf("read %s identities of %s: %w", t.Name, k, err)
	}
	defer rows.Close()
	var out []store.AccountIdentity
	for rows.Next() {
		var id store.AccountIdentity
		vals := make([]string, len(numbers.columns))
		dest := []any{&id.ProviderAccountID, &id.AccountID, &id.Key}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read %s identities of %s: %w", t.Name, k, err)
		}
		if id.Key == "" {
			id.Key = numbers.key(vals)
		}
		id.Card = t == Cards
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s identities of %s: %w", t.Name, k, err)
	}
	return out, rows.Close()
}

// identityNumbers are the columns a table's stable key is computed from.
var identityNumbers = map[*Table]struct {
	columns []string
	key     func(vals []string) string
}{
	Accounts: {[]string{"number", "sort_code", "iban", "routing_number", "bsb"}, func(v []string) string {
		return store.AccountKey(store.Account{Number: store.AccountNumber{Number: v[0], SortCode: v[1], IBAN: v[2], RoutingNumber: v[3], BSB: v[4]}})
	}},
	Cards: {[]string{"institution_id", "card_network", "partial_card_number", "name_on_card"}, func(v []string) string {
		return store.CardKey(store.Card{InstitutionID: v[0], CardNetwork: v[1], PartialCardNumber: v[2], NameOnCard: v[3]})
	}},
}

// matchAccounts returns the store's id of each incoming account or card (named
// by its provider id, with its stable key): the row with the same key, else the
// row the provider already calls by that id, else the provider's id (a new row).
// Keys repeated inside the batch are dropped (returned as ""), since they cannot
// tell those accounts apart; each existing row is matched at most once.
func matchAccounts(existing []store.AccountIdentity, providerIDs, keys []string) (stored, usable []string) {
	byKey := map[string]string{}
	byProvider := map[string]string{}
	for _, e := range existing {
		byProvider[e.AccountID] = e.AccountID
		if e.Key != "" {
			byKey[e.Key] = e.AccountID
		}
	}
	for _, e := range existing {
		if e.ProviderAccountID != "" {
			byProvider[e.ProviderAccountID] = e.AccountID // the latest consent's name wins
		}
	}
	usable = slices.Clone(keys)
	// A key shared by different provider ids cannot tell those accounts apart; the
	// same account repeated in the batch (the last occurrence wins) keeps its key.
	named := map[string]string{}
	for i, k := range keys {
		if prev, ok := named[k]; ok && prev != providerIDs[i] {
			named[k] = ""
		} else if !ok {
			named[k] = providerIDs[i]
		}
	}
	for i, k := range usable {
		if named[k] == "" {
			usable[i] = ""
		}
	}
	taken := map[string]string{} // store id -> the provider id matched to it
	stored = make([]string, len(providerIDs))
	for i, id := range providerIDs {
		s := ""
		if usable[i] != "" {
			s = byKey[usable[i]]
		}
		if s == "" {
			s = byProvider[id]
		}
		if by, ok := taken[s]; s == "" || (ok && by != id) {
			s = id
		}
		taken[s] = id
		stored[i] = s
	}
	return stored, usable
}
