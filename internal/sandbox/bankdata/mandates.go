package bankdata

import (
	"fmt"
	"time"
)

// nextOnDay returns the first date on or after t (by day) whose day of month is dom.
func nextOnDay(t time.Time, dom int) time.Time {
	d := time.Date(t.Year(), t.Month(), dom, 0, 0, 0, 0, time.UTC)
	if d.Before(t.UTC().Truncate(day)) {
		d = d.AddDate(0, 1, 0)
	}
	return d
}

// lastOnDay returns the last date on or before t whose day of month is dom.
func lastOnDay(t time.Time, dom int) time.Time {
	d := time.Date(t.Year(), t.Month(), dom, 0, 0, 0, 0, time.UTC)
	if d.After(t.UTC()) {
		d = d.AddDate(0, -1, 0)
	}
	return d
}

// StandingOrders returns the account's standing orders as seen at now; only
// the main current account has any (rent and the monthly transfer to savings),
// and they match its STANDING_ORDER transactions.
func (ds *Dataset) StandingOrders(accountID string, now time.Time) []StandingOrder {
	a, ok := ds.byID[accountID]
	if !ok || a.role != roleMain {
		return nil
	}
	holder := ds.identity.FullName
	defs := []struct {
		payee, ref string
		dom        int
		amount     int64
	}{
		{"HIGH ST LETTINGS", "RENT", 1, ds.rent},
		{holder, "Savings", 26, ds.toSavings},
	}
	out := make([]StandingOrder, 0, len(defs))
	for i, def := range defs {
		first := nextOnDay(ds.start, def.dom)
		next := nextOnDay(now.UTC().Add(day).Truncate(day), def.dom)
		if next.Before(first) {
			next = first
		}
		out = append(out, StandingOrder{
			ID:                hexID(ds.base, streamSO, uint64(i)),
			AccountID:         a.ID,
			Payee:             def.payee,
			Reference:         def.ref,
			Frequency:         fmt.Sprintf("IntrvlMnthDay:01:%02d", def.dom),
			DayOfMonth:        def.dom,
			Amount:            def.amount,
			Currency:          a.Currency,
			Status:            "Active",
			FirstPaymentDate:  first,
			NextPaymentDate:   next,
			Created:           a.Created,
			ProviderAccountID: a.ProviderAccountID,
		})
	}
	return out
}

// DirectDebits returns the account's direct debit mandates as seen at now;
// only the main current account has any, and their previous payments match
// its DIRECT_DEBIT transactions.
func (ds *Dataset) DirectDebits(accountID string, now time.Time) []DirectDebit {
	a, ok := ds.byID[accountID]
	if !ok || a.role != roleMain {
		return nil
	}
	out := make([]DirectDebit, 0, len(directDebitDefs))
	for i, def := range directDebitDefs {
		dd := DirectDebit{
			ID:                    hexID(ds.base, streamDD, uint64(i)),
			AccountID:             a.ID,
			Name:                  def.name,
			Status:                "Active",
			MandateID:             fmt.Sprintf("%d", i+1),
			DayOfMonth:            def.dom,
			Currency:              a.Currency,
			Created:               a.Created,
			ProviderAccountID:     a.ProviderAccountID,
			ProviderDirectDebitID: b36(10, ds.base, streamDD, uint64(i), 1),
		}
		// The collection happens at 00:03 on its day.
		prev := lastOnDay(now.UTC().Add(-3*time.Minute), def.dom)
		if !prev.Before(ds.start) {
			d := ds.dayIndex(prev)
			if d < ds.days {
				dd.PreviousPaymentTime = prev
				dd.PreviousPaymentAmount = ddAmount(ds, i, d)
			}
		}
		out = append(out, dd)
	}
	return out
}
