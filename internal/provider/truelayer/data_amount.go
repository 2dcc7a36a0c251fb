package truelayer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/consent-operator/consent-operator/internal/store"
)

// jsonAmount is a money amount as TrueLayer sends it: a JSON number, or a
// numeric string where the published schema types it so (CardBalance's
// available, standing-order amounts). The decimal text is kept as sent when
// it is a plain decimal, so no float rounding can creep in; other forms
// (exponents) go through float64 and store.AmountFromFloat. null and ""
// leave it unset.
type jsonAmount struct {
	store.Amount
}

func (a *jsonAmount) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		a.Amount = ""
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return fmt.Errorf("amount: %w", err)
		}
		if text == "" {
			a.Amount = ""
			return nil
		}
	}
	amt, err := parseAmount(text)
	if err != nil {
		return err
	}
	a.Amount = amt
	return nil
}

func parseAmount(text string) (store.Amount, error) {
	if amt := store.Amount(text); amt.Validate() == nil {
		return amt, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return "", fmt.Errorf("amount %q is not a number", truncate(text))
	}
	amt, err := store.AmountFromFloat(f)
	if err != nil {
		return "", fmt.Errorf("amount: %w", err)
	}
	return amt, nil
}

// currencyDecimals is the number of minor-unit digits of an ISO 4217
// currency, for Data API v3's amount_in_minor. Two unless listed.
func currencyDecimals(currency string) int {
	switch currency {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
		"UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	case "CLF", "UYW":
		return 4
	}
	return 2
}
