package bankdata

import (
	"fmt"
	"math"
	"strings"
	"time"
)

const day = 24 * time.Hour

// stream tags keep the hash inputs of different purposes apart.
const (
	streamAccount uint64 = iota + 1
	streamBooked
	streamPending
	streamTxID
	streamPlan
	streamIdentity
	streamDDAmount
	streamSO
	streamDD
	streamAccountIDGeneration
)

// account is an Account plus the precomputed daily sums that make any window's
// running balances cheap to compute.
type account struct {
	Account
	idx  int
	role role
	// net[i] is the sum of the amounts of days [0, i); len(net) == days+1.
	net []int64
	// spend[i] is the sum of the debits of days [0, i) (cards only), used to
	// compute the monthly card repayment.
	spend []int64
}

type role int

const (
	roleMain role = iota
	roleHousehold
	roleSavings
	roleCard
)

// Dataset is one mock bank user's data. It is immutable after Generate and
// safe for concurrent use.
type Dataset struct {
	opts     Options
	params   sizeParams
	base     uint64    // hash of seed and user
	start    time.Time // UTC midnight of day 0
	days     int       // number of covered days
	identity Identity
	accounts []*account
	byID     map[string]*account

	// monthly plan of the main current account, minor units.
	salary        int64
	rent          int64
	toSavings     int64
	household     int64
	dailyBudget   int64 // mean daily spend on the main current account
	cardDaily     int64 // mean daily spend on the card
	householdRate int64 // mean daily spend on the household account
}

// Generate builds the dataset for opts.
func Generate(opts Options) (*Dataset, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Size == "" {
		opts.Size = SizeMedium
	}
	p := opts.Size.params()
	anchorDay := opts.Anchor.UTC().Truncate(day)
	ds := &Dataset{
		opts:   opts,
		params: p,
		base:   mix(uint64(opts.Seed), hashString(opts.User)),
		start:  anchorDay.AddDate(0, 0, -p.historyDays),
		days:   p.historyDays + FutureDays,
		byID:   map[string]*account{},
	}
	ds.identity = ds.makeIdentity()
	ds.makePlan()
	ds.makeAccounts()
	ds.precompute()
	return ds, nil
}

// Options returns the options the dataset was generated from (Size filled in).
func (ds *Dataset) Options() Options { return ds.opts }

// HistoryStart is the first instant covered by the dataset.
func (ds *Dataset) HistoryStart() time.Time { return ds.start }

// FutureEnd is the first instant after the covered range.
func (ds *Dataset) FutureEnd() time.Time { return ds.start.Add(time.Duration(ds.days) * day) }

// Identity returns the account holder.
func (ds *Dataset) Identity() Identity { return ds.identity }

// Accounts returns all accounts, bank accounts first, then cards.
func (ds *Dataset) Accounts() []Account {
	out := make([]Account, len(ds.accounts))
	for i, a := range ds.accounts {
		out[i] = a.Account
	}
	return out
}

// Account returns the account with the given id.
func (ds *Dataset) Account(id string) (Account, bool) {
	a, ok := ds.byID[id]
	if !ok {
		return Account{}, false
	}
	return a.Account, true
}

func (ds *Dataset) makeIdentity() Identity {
	r := rngFor(ds.base, streamIdentity)
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	title := "Ms"
	if r.IntN(2) == 0 {
		title = "Mr"
	}
	// The mock users of TrueLayer's sandbox are all "John Doe".
	if strings.HasPrefix(ds.opts.User, "john") {
		first, last, title = "John", "Doe", "Mr"
	}
	c := cities[r.IntN(len(cities))]
	dob := time.Date(1960+r.IntN(40), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	return Identity{
		Title:       title,
		FirstName:   first,
		LastName:    last,
		FullName:    first + " " + last,
		DateOfBirth: dob,
		Email:       strings.ToLower(first + "." + last + "@example.com"),
		Phone:       "+447" + digits(9, ds.base, streamIdentity, 1),
		Address: Address{
			Line1:    fmt.Sprintf("%d %s", 1+r.IntN(220), streets[r.IntN(len(streets))]),
			Line2:    fmt.Sprintf("Flat %d", 1+r.IntN(9)),
			City:     c.city,
			State:    c.state,
			Postcode: c.postcode,
			Country:  "GB",
		},
	}
}

func (ds *Dataset) makePlan() {
	r := rngFor(ds.base, streamPlan)
	ds.salary = 300000 + r.Int64N(150000)       // £3,000-£4,500
	ds.rent = 90000 + r.Int64N(45000)           // £900-£1,350
	ds.toSavings = (ds.salary / 10 / 100) * 100 // 10% in whole pounds
	ds.cardDaily = 1200 + r.Int64N(800)         // £12-£20 a day on the card
	var dd int64
	for _, d := range directDebitDefs {
		dd += d.base
	}
	// What is left of the salary is spent day by day, minus a small margin so
	// balances drift gently upwards rather than into the overdraft.
	left := ds.salary - ds.rent - ds.toSavings - dd - ds.cardDaily*30 - 5000
	if left < 30000 {
		left = 30000
	}
	ds.dailyBudget = left * 12 / 365
	ds.household = 40000 + r.Int64N(20000)
	ds.householdRate = ds.household * 12 / 365
}

func (ds *Dataset) makeAccounts() {
	created := ds.start.AddDate(0, 0, -30)
	add := func(a *account) {
		a.idx = len(ds.accounts)
		a.Currency = "GBP"
		a.Created = created
		a.ID = hexID(ds.base, streamAccount, uint64(a.idx))
		if g := ds.opts.AccountIDGeneration; g > 0 {
			a.ID = hexID(ds.base, streamAccount, uint64(a.idx), streamAccountIDGeneration, uint64(g))
		}
		a.ProviderAccountID = fmt.Sprintf("%s-%s-%s", digits(4, ds.base, streamAccount, uint64(a.idx), 1), b36(4, ds.base, streamAccount, uint64(a.idx), 2), b36(12, ds.base, streamAccount, uint64(a.idx), 3))
		if a.Kind != KindCreditCard {
			a.SortCode = digits(6, ds.base, streamAccount, uint64(a.idx), 4)
			a.AccountNumber = digits(8, ds.base, streamAccount, uint64(a.idx), 5)
			a.IBAN = ukIBAN("MOCK", a.SortCode, a.AccountNumber)
			a.SwiftBIC = "MOCKGB2L"
		}
		a.net = make([]int64, ds.days+1)
		ds.accounts = append(ds.accounts, a)
		ds.byID[a.ID] = a
	}
	r := rngFor(ds.base, streamAccount)
	add(&account{role: roleMain, Account: Account{Kind: KindCurrent, DisplayName: "Club Lloyds", OpeningBalance: 50000 + r.Int64N(150000), Overdraft: 100000}})
	if ds.params.currentAccounts > 1 {
		add(&account{role: roleHousehold, Account: Account{Kind: KindCurrent, DisplayName: "Household Account", OpeningBalance: 20000 + r.Int64N(50000), Overdraft: 50000}})
	}
	add(&account{role: roleSavings, Account: Account{Kind: KindSavings, DisplayName: "Instant Saver", OpeningBalance: 200000 + r.Int64N(800000)}})
	card := &account{role: roleCard, Account: Account{
		Kind:        KindCreditCard,
		DisplayName: "Platinum super",
		CardNetwork: "VISA",
		CardType:    "CREDIT",
		NameOnCard:  strings.ToUpper(ds.identity.FullName),
		CreditLimit: 500000,
	}}
	add(card)
	card.PartialCardNumber = digits(4, ds.base, streamAccount, uint64(card.idx), 6)
	card.ValidFrom = ds.start.AddDate(0, -1, 0).Format("2006-01")
	card.ValidTo = ds.start.AddDate(0, 0, ds.days).AddDate(1, 0, 0).Format("2006-01")
	card.spend = make([]int64, ds.days+1)
}

func (ds *Dataset) card() *account { return ds.accounts[len(ds.accounts)-1] }

// precompute fills the daily sums, day by day across all accounts, so that
// amounts depending on earlier balances (interest, fees, card repayments) can
// be derived from sums of earlier days only.
func (ds *Dataset) precompute() {
	for d := 0; d < ds.days; d++ {
		for _, a := range ds.accounts {
			var sum, spend int64
			for _, e := range ds.dayEvents(a, d, streamBooked) {
				sum += e.amount
				if e.amount < 0 {
					spend -= e.amount
				}
			}
			a.net[d+1] = a.net[d] + sum
			if a.spend != nil {
				a.spend[d+1] = a.spend[d] + spend
			}
		}
	}
}

// dayIndex returns the day of t relative to the start (may be out of range).
func (ds *Dataset) dayIndex(t time.Time) int {
	return int(math.Floor(float64(t.UTC().Sub(ds.start)) / float64(day)))
}

func (ds *Dataset) dayStart(d int) time.Time { return ds.start.Add(time.Duration(d) * day) }

// balanceBeforeDay is the booked balance at the start of day d.
func (a *account) balanceBeforeDay(d int) int64 {
	if d < 0 {
		return a.OpeningBalance
	}
	if d >= len(a.net) {
		d = len(a.net) - 1
	}
	return a.OpeningBalance + a.net[d]
}

func (ds *Dataset) lookup(id string) (*account, error) {
	a, ok := ds.byID[id]
	if !ok {
		return nil, fmt.Errorf("bankdata: unknown account %q", id)
	}
	return a, nil
}
