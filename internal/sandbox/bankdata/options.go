package bankdata

import (
	"fmt"
	"strings"
	"time"
)

// Size selects how much data a Dataset holds.
type Size string

const (
	// SizeSmall: one current account, a savings account and a card; 1 year of
	// history; about one purchase a day.
	SizeSmall Size = "small"
	// SizeMedium (the default): the same accounts, 3 years of history, about
	// two purchases a day.
	SizeMedium Size = "medium"
	// SizeLarge: two current accounts, a savings account and a card, 5 years of
	// history, about five purchases a day.
	SizeLarge Size = "large"
)

// FutureDays is how many days after the anchor the dataset extends, so a
// sandbox clock can travel forward (e.g. past a 90-day consent) and still see
// new transactions.
const FutureDays = 3 * 366

// ParseSize parses "small", "medium" or "large" (case-insensitive); "" means
// SizeMedium.
func ParseSize(s string) (Size, error) {
	switch Size(strings.ToLower(strings.TrimSpace(s))) {
	case "":
		return SizeMedium, nil
	case SizeSmall:
		return SizeSmall, nil
	case SizeMedium:
		return SizeMedium, nil
	case SizeLarge:
		return SizeLarge, nil
	}
	return "", fmt.Errorf("unknown dataset size %q (want small, medium or large)", s)
}

type sizeParams struct {
	historyDays     int
	currentAccounts int
	purchasesPerDay float64 // mean purchases a day on the main current account
	cardPerDay      float64 // mean purchases a day on the card
}

func (s Size) params() sizeParams {
	switch s {
	case SizeSmall:
		return sizeParams{historyDays: 366, currentAccounts: 1, purchasesPerDay: 1, cardPerDay: 0.5}
	case SizeLarge:
		return sizeParams{historyDays: 5 * 366, currentAccounts: 2, purchasesPerDay: 5, cardPerDay: 2}
	default:
		return sizeParams{historyDays: 3 * 366, currentAccounts: 1, purchasesPerDay: 2, cardPerDay: 1}
	}
}

// Options determine a Dataset completely.
type Options struct {
	// Seed makes different sandboxes' data differ; the same seed gives the same data.
	Seed int64
	// User is the mock bank user the data belongs to (e.g. "john", "john7");
	// different users get different accounts and transactions.
	User string
	// Size selects the amount of data; "" means SizeMedium.
	Size Size
	// Anchor is the reference time: history reaches back from it and the
	// dataset extends FutureDays after it. Only its UTC day matters. Required.
	Anchor time.Time
	// AccountIDGeneration, when above 0, gives every account and card other ids
	// (one set per generation) and changes nothing else: the same accounts,
	// numbers, balances and transactions, with the same transaction ids. It is what
	// a re-consent looks like at a provider whose account ids are per consent.
	AccountIDGeneration int
}

func (o Options) validate() error {
	if o.Anchor.IsZero() {
		return fmt.Errorf("bankdata: Options.Anchor is required")
	}
	if _, err := ParseSize(string(o.Size)); err != nil {
		return fmt.Errorf("bankdata: %w", err)
	}
	return nil
}
