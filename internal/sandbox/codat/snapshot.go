package codat

import (
	"fmt"
	"slices"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// snapshot is the data one successful pull brought into "Codat": the bank's
// data as of the pull's completion. Reads serve the latest snapshot, so data
// stays readable after the connection is unlinked or deauthorized, and new
// transactions appear only after a new pull.
type snapshot struct {
	accounts     []accountJSON
	balances     []accountBalanceJSON
	transactions []transactionJSON
	categories   []categoryJSON
}

// snapshotSource is what building a snapshot needs to know about the pull,
// copied out from under e.mu.
type snapshotSource struct {
	pullID   string
	dataType string
	dataUser string
	source   Source
	asOf     time.Time
}

// snapshotFor returns the (cached) snapshot of a successful pull.
func (e *Emulator) snapshotFor(src snapshotSource) (*snapshot, error) {
	key := snapshotKey{pullID: src.pullID, dataType: src.dataType}
	if s, ok := e.snapshots.get(key); ok {
		return s, nil
	}
	s, err := e.buildSnapshot(src)
	if err != nil {
		return nil, fmt.Errorf("building %s snapshot of pull %s: %w", src.dataType, src.pullID, err)
	}
	e.snapshots.put(key, s)
	return s, nil
}

// window is the span of history a pull fetches.
func (e *Emulator) window(ds *bankdata.Dataset, asOf time.Time) time.Time {
	from := ds.HistoryStart()
	if e.historyMons > 0 {
		if limit := asOf.AddDate(0, -e.historyMons, 0); limit.After(from) {
			from = limit
		}
	}
	return from
}

func (e *Emulator) buildSnapshot(src snapshotSource) (*snapshot, error) {
	ds, err := e.dataset(src.dataUser)
	if err != nil {
		return nil, fmt.Errorf("generating bank data: %w", err)
	}
	asOf := src.asOf
	from := e.window(ds, asOf)
	s := &snapshot{}
	var allTxs []bankdata.Transaction
	for _, a := range ds.Accounts() {
		if a.Created.After(asOf) {
			continue
		}
		switch src.dataType {
		case dataTypeAccounts:
			b, err := ds.BalanceAt(a.ID, asOf)
			if err != nil {
				return nil, fmt.Errorf("balance of %s: %w", a.ID, err)
			}
			s.accounts = append(s.accounts, mapAccount(a, b, ds.Identity().FullName, src.source, asOf))
		case dataTypeBalances:
			b, err := ds.BalanceAt(a.ID, asOf)
			if err != nil {
				return nil, fmt.Errorf("balance of %s: %w", a.ID, err)
			}
			daily, err := dailyBalances(a, ds.Transactions(a.ID, from, asOf), from, b, asOf)
			if err != nil {
				return nil, err
			}
			s.balances = append(s.balances, daily...)
		case dataTypeTransactions, dataTypeCategories:
			allTxs = append(allTxs, ds.Transactions(a.ID, from, asOf)...)
		}
	}
	switch src.dataType {
	case dataTypeTransactions:
		// One list across accounts in posting order (accounts in their
		// order on ties), a total order that makes paging stable.
		slices.SortStableFunc(allTxs, func(a, b bankdata.Transaction) int { return a.Timestamp.Compare(b.Timestamp) })
		s.transactions = make([]transactionJSON, len(allTxs))
		for i, t := range allTxs {
			s.transactions[i] = mapTransaction(t, asOf)
		}
	case dataTypeCategories:
		s.categories = categoriesOf(allTxs, asOf)
	}
	return s, nil
}
