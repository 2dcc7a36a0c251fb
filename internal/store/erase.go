package store

// Erased is how many rows an erasure removed per table.
type Erased struct {
	Counts
	SyncRuns    int64
	Connections int64
}

// Total is the number of rows removed.
func (e Erased) Total() int64 {
	c := e.Counts
	return c.Accounts + c.Cards + c.Balances + c.Transactions + c.Pending + c.StandingOrders +
		c.DirectDebits + c.Identities + e.SyncRuns + e.Connections
}
