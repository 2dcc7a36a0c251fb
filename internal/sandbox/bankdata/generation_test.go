package bankdata

import (
	"slices"
	"testing"
)

// TestAccountIDGeneration: another generation renames every account and card, and
// changes nothing else; each generation has its own ids.
func TestAccountIDGeneration(t *testing.T) {
	base := gen(t, Options{Seed: 3, User: "john", Size: SizeSmall})
	seen := map[string]int{}
	for _, a := range base.Accounts() {
		seen[a.ID] = 0
	}
	for _, g := range []int{1, 2} {
		ds := gen(t, Options{Seed: 3, User: "john", Size: SizeSmall, AccountIDGeneration: g})
		from, to := anchor.AddDate(0, 0, -60), anchor
		for i, a := range ds.Accounts() {
			was := base.Accounts()[i]
			if prev, ok := seen[a.ID]; ok {
				t.Fatalf("generation %d: account %d has id %s of generation %d", g, i, a.ID, prev)
			}
			seen[a.ID] = g
			renamed := a
			renamed.ID = was.ID
			if renamed != was {
				t.Fatalf("generation %d: account %d differs beyond its id:\n%+v\n%+v", g, i, a, was)
			}
			strip := func(txs []Transaction) []Transaction {
				for j := range txs {
					txs[j].AccountID = ""
				}
				return txs
			}
			got, want := strip(ds.Transactions(a.ID, from, to)), strip(base.Transactions(was.ID, from, to))
			if len(want) == 0 || !slices.EqualFunc(got, want, func(x, y Transaction) bool {
				return x.ID == y.ID && x.NormalisedID == y.NormalisedID && x.Amount == y.Amount && x.Timestamp.Equal(y.Timestamp)
			}) {
				t.Fatalf("generation %d: account %d transactions differ (%d and %d)", g, i, len(got), len(want))
			}
		}
	}
}
