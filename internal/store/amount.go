package store

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Amount is an exact decimal money amount in its plain text form, e.g.
// "-2.99". Providers send JSON numbers; storing them as float64 would make
// sums drift, so the store keeps the decimal text (NUMERIC in PostgreSQL,
// TEXT in SQLite). The empty Amount means "not reported" and is stored as NULL.
type Amount string

var amountPattern = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// AmountFromFloat converts a provider's JSON number into an Amount using the
// shortest decimal that reads back as the same float64, so -2.99 stays "-2.99".
func AmountFromFloat(f float64) (Amount, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("%w: amount %v is not a finite number", ErrInvalid, f)
	}
	return Amount(strconv.FormatFloat(f, 'f', -1, 64)), nil
}

// AmountFromMinor converts an amount in minor units (e.g. Data API v3's
// amount_in_minor) with the given number of decimal places into an Amount.
func AmountFromMinor(minor int64, decimals int) Amount {
	if decimals <= 0 {
		return Amount(strconv.FormatInt(minor, 10))
	}
	neg := minor < 0
	digits := strconv.FormatUint(absInt64(minor), 10)
	for len(digits) <= decimals {
		digits = "0" + digits
	}
	s := digits[:len(digits)-decimals] + "." + digits[len(digits)-decimals:]
	if neg {
		s = "-" + s
	}
	return Amount(s)
}

func absInt64(v int64) uint64 {
	if v < 0 {
		return uint64(-(v + 1)) + 1
	}
	return uint64(v)
}

// Validate reports an ErrInvalid error unless a is empty or a plain decimal
// (optional minus sign, digits, optional fraction; no exponent, no plus sign).
func (a Amount) Validate() error {
	if a == "" || amountPattern.MatchString(string(a)) {
		return nil
	}
	return fmt.Errorf("%w: amount %q is not a plain decimal", ErrInvalid, string(a))
}

// Canonical returns the form both databases read back: no leading zeros in
// the integer part and no minus sign on zero ("-0.00" becomes "0.00",
// "007.5" becomes "7.5"). The fraction keeps its digits, as PostgreSQL's
// numeric keeps its scale. a must be valid.
func (a Amount) Canonical() Amount {
	s := string(a)
	if s == "" {
		return a
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if hasFrac {
		out += "." + frac
	}
	if neg && strings.Trim(intPart+frac, "0") != "" {
		out = "-" + out
	}
	return Amount(out)
}
