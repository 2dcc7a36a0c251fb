package store

import (
	"errors"
	"math"
	"testing"
)

func TestAmountValidate(t *testing.T) {
	for _, tc := range []struct {
		in    Amount
		valid bool
	}{
		{"", true}, {"0", true}, {"-2.99", true}, {"1234567890123.456789", true},
		{"1e5", false}, {"+1", false}, {"1.", false}, {".5", false}, {"1,5", false},
		{" 1", false}, {"--1", false}, {"NaN", false},
	} {
		err := tc.in.Validate()
		if (err == nil) != tc.valid {
			t.Errorf("Validate(%q) = %v, want valid=%v", tc.in, err, tc.valid)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%q) error %v is not ErrInvalid", tc.in, err)
		}
	}
}

func TestAmountCanonical(t *testing.T) {
	for in, want := range map[Amount]Amount{
		"": "", "0": "0", "-0": "0", "-0.00": "0.00", "007.50": "7.50", "-007": "-7",
		"-2.99": "-2.99", "10": "10", "-0.001": "-0.001", "000.000": "0.000",
	} {
		if got := in.Canonical(); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAmountFromFloat(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want Amount
	}{
		{-2.99, "-2.99"}, {2150.8, "2150.8"}, {1000, "1000"}, {0.30000000000000004, "0.30000000000000004"}, {1e21, "1000000000000000000000"},
	} {
		got, err := AmountFromFloat(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("AmountFromFloat(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := AmountFromFloat(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("AmountFromFloat(%v) error %v, want ErrInvalid", bad, err)
		}
	}
}

func TestAmountFromMinor(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		decimals int
		want     Amount
	}{
		{-4200, 2, "-42.00"}, {5, 2, "0.05"}, {-5, 2, "-0.05"}, {0, 2, "0.00"},
		{123, 0, "123"}, {1234, 3, "1.234"},
		{math.MinInt64, 2, "-92233720368547758.08"},
	} {
		if got := AmountFromMinor(tc.minor, tc.decimals); got != tc.want {
			t.Errorf("AmountFromMinor(%d, %d) = %q, want %q", tc.minor, tc.decimals, got, tc.want)
		}
	}
}
