package bankdata

import (
	"math/rand/v2"
	"sort"
	"time"
)

// event is one transaction of one day before it is dressed up as a
// Transaction: its second of the day, signed amount and template.
type event struct {
	sec    int32
	amount int64
	tmpl   *template
	desc   string // overrides tmpl.description when set
}

// count draws a number of events with the given mean (0 <= mean).
func count(r *rand.Rand, mean float64) int {
	return int(r.Float64()*2*mean + 0.5)
}

// amountIn draws an amount in [min, max] skewed towards small values, scaled
// so that its mean is roughly mean when mean > 0.
func amountIn(r *rand.Rand, t *template) int64 {
	if t.max <= t.min {
		return t.min
	}
	u := r.Float64()
	return t.min + int64(u*u*float64(t.max-t.min))
}

func randomSec(r *rand.Rand) int32 { return int32(7*3600 + r.IntN(16*3600)) }

// purchases draws n purchases whose mean total per day is about budget.
func purchases(r *rand.Rand, pool []template, mean float64, budget int64) []event {
	n := count(r, mean)
	var out []event
	for i := 0; i < n; i++ {
		t := &pool[r.IntN(len(pool))]
		amt := amountIn(r, t)
		// Scale towards the plan's budget so balances stay realistic.
		meanTmpl := t.min + (t.max-t.min)/3
		if meanTmpl > 0 && mean > 0 {
			amt = amt * budget / int64(mean*float64(meanTmpl)+0.5)
		}
		if amt < 50 {
			amt = 50 + int64(r.IntN(100))
		}
		out = append(out, event{sec: randomSec(r), amount: -amt, tmpl: t})
	}
	return out
}

// monthStartDay returns the day index of the first day of the month of day d
// shifted by months.
func (ds *Dataset) monthStartDay(d int, months int) int {
	t := ds.dayStart(d)
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, months, 0)
	return ds.dayIndex(first)
}

// cardRepayment is the amount (positive) repaid on the 5th of the month of
// day d: everything spent on the card in the previous calendar month.
func (ds *Dataset) cardRepayment(d int) int64 {
	c := ds.card()
	from, to := ds.monthStartDay(d, -1), ds.monthStartDay(d, 0)
	if from < 0 {
		from = 0
	}
	if to <= from {
		return 0
	}
	return c.spend[to] - c.spend[from]
}

func ddAmount(ds *Dataset, i int, d int) int64 {
	t := ds.dayStart(d)
	r := rngFor(ds.base, streamDDAmount, uint64(i), uint64(t.Year()*12+int(t.Month())))
	base := directDebitDefs[i].base
	return base - base/10 + r.Int64N(base/5+1)
}

// dayEvents returns the events of account a on day d, sorted by time. The
// stream is streamBooked or streamPending.
func (ds *Dataset) dayEvents(a *account, d int, stream uint64) []event {
	if d < 0 || d >= ds.days {
		return nil
	}
	r := rngFor(ds.base, stream, uint64(a.idx), uint64(d))
	if stream == streamPending {
		switch a.role {
		case roleMain:
			return sortEvents(purchases(r, currentPurchases, 0.7, ds.dailyBudget))
		case roleCard:
			return sortEvents(purchases(r, cardPurchases, 0.5, ds.cardDaily))
		}
		return nil
	}
	dom := ds.dayStart(d).Day()
	var evs []event
	switch a.role {
	case roleMain:
		if dom == 1 {
			evs = append(evs, event{sec: 60, amount: -ds.rent, tmpl: &tmplRent})
		}
		if dom == 5 {
			if amt := ds.cardRepayment(d); amt > 0 {
				evs = append(evs, event{sec: 120, amount: -amt, tmpl: &tmplCardPayment})
			}
		}
		for i := range directDebitDefs {
			if directDebitDefs[i].dom == dom {
				evs = append(evs, event{sec: 180, amount: -ddAmount(ds, i, d), tmpl: &directDebitDefs[i].tmpl})
			}
		}
		if dom == 25 {
			evs = append(evs, event{sec: 6 * 3600, amount: ds.salary, tmpl: &tmplSalary})
		}
		if dom == 26 {
			evs = append(evs, event{sec: 240, amount: -ds.toSavings, tmpl: &tmplToSavings})
		}
		if dom == 28 && a.balanceBeforeDay(d) < 0 {
			evs = append(evs, event{sec: 300, amount: -tmplOverdraftFee.min, tmpl: &tmplOverdraftFee})
		}
		evs = append(evs, purchases(r, currentPurchases, ds.params.purchasesPerDay, ds.dailyBudget)...)
	case roleHousehold:
		if dom == 25 {
			evs = append(evs, event{sec: 7 * 3600, amount: ds.household, tmpl: &tmplHousehold})
		}
		evs = append(evs, purchases(r, currentPurchases[:4], ds.params.purchasesPerDay/2, ds.householdRate)...)
	case roleSavings:
		if dom == 1 {
			if bal := a.balanceBeforeDay(d); bal > 0 {
				// 2% AER paid monthly.
				if interest := bal * 2 / 100 / 12; interest > 0 {
					evs = append(evs, event{sec: 60, amount: interest, tmpl: &tmplInterest})
				}
			}
		}
		if dom == 26 {
			evs = append(evs, event{sec: 240, amount: ds.toSavings, tmpl: &tmplFromCurrent})
		}
	case roleCard:
		if dom == 5 {
			if amt := ds.cardRepayment(d); amt > 0 {
				evs = append(evs, event{sec: 120, amount: amt, tmpl: &tmplCardPaymentIn})
			}
		}
		if dom == 9 {
			evs = append(evs, event{sec: 3600, amount: -tmplNetflix.min, tmpl: &tmplNetflix})
		}
		evs = append(evs, purchases(r, cardPurchases, ds.params.cardPerDay, ds.cardDaily)...)
	}
	return sortEvents(evs)
}

func sortEvents(evs []event) []event {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].sec < evs[j].sec })
	return evs
}

// materialize turns the events of a day into Transactions; running is the
// balance before the first event (ignored for pending).
func (ds *Dataset) materialize(a *account, d int, stream uint64, evs []event, running int64) []Transaction {
	out := make([]Transaction, 0, len(evs))
	t0 := ds.dayStart(d)
	for i, e := range evs {
		running += e.amount
		typ := Credit
		if e.amount < 0 {
			typ = Debit
		}
		desc := e.tmpl.description
		if e.desc != "" {
			desc = e.desc
		}
		k := []uint64{ds.base, streamTxID, stream, uint64(a.idx), uint64(d), uint64(i)}
		tx := Transaction{
			AccountID:        a.ID,
			ID:               hexID(k...),
			NormalisedID:     "txn-" + b36(16, append(k, 1)...),
			ProviderID:       b36(6, append(k, 2)...) + "-" + b36(4, append(k, 3)...),
			Timestamp:        t0.Add(time.Duration(e.sec) * time.Second),
			Description:      desc,
			Amount:           e.amount,
			Currency:         a.Currency,
			Type:             typ,
			Category:         e.tmpl.category,
			Classification:   e.tmpl.classification,
			MerchantName:     e.tmpl.merchant,
			ProviderCategory: e.tmpl.providerCategory,
			CategoryCode:     e.tmpl.categoryCode,
			CategoryName:     e.tmpl.categoryName,
			Pending:          stream == streamPending,
		}
		if stream == streamBooked {
			tx.RunningBalance = running
		}
		out = append(out, tx)
	}
	return out
}

// Transactions returns the booked transactions of the account with
// from <= Timestamp <= to, in ascending time order. The window is clamped to
// the dataset's covered range; an unknown account yields nil. Callers serving
// a "now" must pass to <= now themselves.
func (ds *Dataset) Transactions(accountID string, from, to time.Time) []Transaction {
	a, ok := ds.byID[accountID]
	if !ok || to.Before(from) {
		return nil
	}
	d0, d1 := ds.dayIndex(from), ds.dayIndex(to)
	if d0 < 0 {
		d0 = 0
	}
	if d1 >= ds.days {
		d1 = ds.days - 1
	}
	var out []Transaction
	for d := d0; d <= d1; d++ {
		for _, tx := range ds.materialize(a, d, streamBooked, ds.dayEvents(a, d, streamBooked), a.balanceBeforeDay(d)) {
			if !tx.Timestamp.Before(from) && !tx.Timestamp.After(to) {
				out = append(out, tx)
			}
		}
	}
	return out
}

// Pending returns the account's pending transactions as seen at now: those
// of the previous day and those of the current day up to now. Savings
// accounts have none.
func (ds *Dataset) Pending(accountID string, now time.Time) []Transaction {
	a, ok := ds.byID[accountID]
	if !ok {
		return nil
	}
	dn := ds.dayIndex(now)
	var out []Transaction
	for d := dn - 1; d <= dn; d++ {
		for _, tx := range ds.materialize(a, d, streamPending, ds.dayEvents(a, d, streamPending), 0) {
			if !tx.Timestamp.After(now) {
				out = append(out, tx)
			}
		}
	}
	return out
}

// BalanceAt returns the account's balance at instant at.
func (ds *Dataset) BalanceAt(accountID string, at time.Time) (Balance, error) {
	a, err := ds.lookup(accountID)
	if err != nil {
		return Balance{}, err
	}
	d := ds.dayIndex(at)
	cur := a.balanceBeforeDay(d)
	if d >= 0 && d < ds.days {
		start := ds.dayStart(d)
		for _, e := range ds.dayEvents(a, d, streamBooked) {
			if !start.Add(time.Duration(e.sec) * time.Second).After(at) {
				cur += e.amount
			}
		}
	}
	var pending int64
	for _, p := range ds.Pending(accountID, at) {
		pending += p.Amount
	}
	b := Balance{AccountID: a.ID, Currency: a.Currency, Current: cur, AsOf: at.UTC(), Overdraft: a.Overdraft}
	if a.IsCard() {
		b.CreditLimit = a.CreditLimit
		b.Available = a.CreditLimit + cur + pending
		stmtDay := ds.monthStartDay(d, 0) // statement drawn at the end of the previous month
		b.LastStatementDate = ds.dayStart(stmtDay - 1)
		b.LastStatementBalance = a.balanceBeforeDay(stmtDay)
		b.PaymentDueDate = ds.dayStart(stmtDay + 4)
		b.PaymentDue = ds.cardRepayment(stmtDay + 4)
		return b, nil
	}
	b.Available = cur + pending + a.Overdraft
	return b, nil
}
