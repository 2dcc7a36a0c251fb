package truelayer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
)

func TestToDateWindow(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name           string
		from, to       time.Time
		wantF, wantT   string
		wantFuture     bool
		in, out        []string // timestamps inWindow must accept / refuse
		checkInclusive bool
	}{
		{name: "midnight to midnight", from: at("2026-01-01T00:00:00Z"), to: at("2026-02-01T00:00:00Z"),
			wantF: "2026-01-01", wantT: "2026-01-31",
			in: []string{"2026-01-01T00:00:00Z", "2026-01-31T23:59:59.999Z"}, out: []string{"2025-12-31T23:59:59Z", "2026-02-01T00:00:00Z"}},
		{name: "inside days", from: at("2026-01-01T13:30:00Z"), to: at("2026-01-05T08:00:00Z"),
			wantF: "2026-01-01", wantT: "2026-01-05",
			in: []string{"2026-01-01T13:30:00Z", "2026-01-05T07:59:59Z"}, out: []string{"2026-01-01T13:29:59Z", "2026-01-05T08:00:00Z"}},
		{name: "offsets are read in UTC", from: at("2026-01-02T01:00:00+02:00"), to: at("2026-01-03T01:00:00+02:00"),
			wantF: "2026-01-01", wantT: "2026-01-02"},
		{name: "to in the future is capped at today", from: at("2026-02-20T00:00:00Z"), to: at("2026-03-10T00:00:00Z"),
			wantF: "2026-02-20", wantT: "2026-03-02"},
		{name: "to now", from: at("2026-02-20T00:00:00Z"), to: now, wantF: "2026-02-20", wantT: "2026-03-02"},
		{name: "window after today", from: at("2026-03-03T00:00:00Z"), to: at("2026-03-04T00:00:00Z"), wantFuture: true},
		{name: "open ends", wantF: "", wantT: "", in: []string{"2001-01-01T00:00:00Z", "2030-01-01T00:00:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := provider.Fetch{From: tc.from, To: tc.to}
			w := toDateWindow(f, now)
			if w.future != tc.wantFuture || (!tc.wantFuture && (w.from != tc.wantF || w.to != tc.wantT)) {
				t.Fatalf("window %+v, want %q..%q future %v", w, tc.wantF, tc.wantT, tc.wantFuture)
			}
			for _, s := range tc.in {
				if !inWindow(at(s), f) {
					t.Errorf("%s should be in the window", s)
				}
			}
			for _, s := range tc.out {
				if inWindow(at(s), f) {
					t.Errorf("%s should not be in the window", s)
				}
			}
		})
	}
}

func TestJSONAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want store.Amount
		bad  bool
	}{
		{in: `-2.99`, want: "-2.99"},
		{in: `2150.80`, want: "2150.80"},
		{in: `1000`, want: "1000"},
		{in: `"24.25"`, want: "24.25"},
		{in: `1e3`, want: "1000"},
		{in: `-1.5E-2`, want: "-0.015"},
		{in: `null`, want: ""},
		{in: `""`, want: ""},
		{in: `"12,50"`, bad: true},
		{in: `true`, bad: true},
	} {
		var a jsonAmount
		err := json.Unmarshal([]byte(tc.in), &a)
		if (err != nil) != tc.bad || a.Amount != tc.want {
			t.Errorf("%s: got %q, %v", tc.in, a.Amount, err)
		}
	}
}

func TestCurrencyDecimals(t *testing.T) {
	for cur, want := range map[string]int{"GBP": 2, "EUR": 2, "JPY": 0, "KWD": 3, "": 2} {
		if got := currencyDecimals(cur); got != want {
			t.Errorf("%s: %d, want %d", cur, got, want)
		}
	}
	if got := store.AmountFromMinor(-4200, currencyDecimals("GBP")); got != "-42.00" {
		t.Errorf("-4200 GBP minor is %s", got)
	}
}

func TestDeriveMissingIDs(t *testing.T) {
	ts := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	coffee := store.Transaction{AccountID: "a", Timestamp: ts, Amount: "-3.10", Currency: "GBP", Type: "DEBIT", Description: "COFFEE"}
	other := coffee
	other.Amount = "-3.20"
	given := coffee
	given.NormalisedProviderTransactionID = "txn-1"

	first := deriveMissingIDs([]store.Transaction{coffee, given, coffee, other})
	ids := []string{first[0].NormalisedProviderTransactionID, first[1].NormalisedProviderTransactionID,
		first[2].NormalisedProviderTransactionID, first[3].NormalisedProviderTransactionID}
	if ids[1] != "txn-1" {
		t.Fatalf("a provider id was replaced: %v", ids)
	}
	if ids[0] == "" || ids[2] != ids[0]+"#2" || ids[3] == ids[0] || ids[3] == "" {
		t.Fatalf("derived ids %v", ids)
	}
	// The same transactions in another answer (another order, another
	// window) get the same ids.
	again := deriveMissingIDs([]store.Transaction{other, coffee, coffee})
	if again[0].NormalisedProviderTransactionID != ids[3] || again[1].NormalisedProviderTransactionID != ids[0] ||
		again[2].NormalisedProviderTransactionID != ids[2] {
		t.Fatalf("ids not stable: %v then %v", ids, again)
	}
	// "-3.1" and "-3.10" are one amount.
	short := coffee
	short.Amount = "-3.1"
	if got := deriveMissingIDs([]store.Transaction{short})[0].NormalisedProviderTransactionID; got != ids[0] {
		t.Fatalf("the amount's form changed the id: %s vs %s", got, ids[0])
	}
}

func TestMapV1Malformed(t *testing.T) {
	f := provider.Fetch{Resource: provider.ResourceTransactions, AccountID: "a"}
	for name, raw := range map[string]string{
		"no results":     ``,
		"not an array":   `{"a":1}`,
		"bad timestamp":  `[{"timestamp":"yesterday","amount":1}]`,
		"no amount":      `[{"timestamp":"2026-01-01T00:00:00Z"}]`,
		"amount as text": `[{"timestamp":"2026-01-01T00:00:00Z","amount":"ten"}]`,
	} {
		_, err := mapV1("fetch transactions", f, json.RawMessage(raw), time.Now())
		pe, ok := provider.AsError(err)
		if !ok || pe.Class != provider.ClassRetryLater || pe.Code != "malformed_response" {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Timestamps without an offset are UTC; meta is kept; a missing
	// normalised id is derived.
	d, err := mapV1("fetch transactions", f, json.RawMessage(
		`[{"timestamp":"2018-03-06T00:00:00","amount":-2.99,"currency":"GBP","transaction_type":"DEBIT","description":"GOOGLE PLAY STORE",`+
			`"transaction_classification":["Entertainment","Games"],"meta":{"provider_transaction_category":"DEB"}}]`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tx := d.Transactions[0]
	if !tx.Timestamp.Equal(time.Date(2018, 3, 6, 0, 0, 0, 0, time.UTC)) || tx.Amount != "-2.99" || tx.NormalisedProviderTransactionID == "" ||
		string(tx.Meta) != `{"provider_transaction_category":"DEB"}` {
		t.Fatalf("%+v", tx)
	}
}

func TestMapV1StandingOrderOpenEnded(t *testing.T) {
	f := provider.Fetch{Resource: provider.ResourceStandingOrders, AccountID: "a"}
	d, err := mapV1("fetch standing_orders", f, json.RawMessage(
		`[{"frequency":"IntrvlMnthDay:01:26","status":"Active","timestamp":"2019-07-24T11:29:47.414+00:00","currency":"GBP",`+
			`"next_payment_date":"2019-07-26T00:00:00+00:00","next_payment_amount":500,"final_payment_date":"9999-12-31T00:00:00+00:00",`+
			`"final_payment_amount":"0","reference":"Savings"}]`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	so := d.StandingOrders[0]
	if !so.FinalPaymentDate.IsZero() || so.NextPaymentAmount != "500" || so.FinalPaymentAmount != "0" || so.AccountID != "a" {
		t.Fatalf("%+v", so)
	}
}

func TestSameOrigin(t *testing.T) {
	base := "https://api.truelayer.com"
	for raw, want := range map[string]bool{
		"https://api.truelayer.com/data/v1/results/x":      true,
		"http://api.truelayer.com/data/v1/results/x":       false,
		"https://api.truelayer.com.evil.test/results/x":    false,
		"https://user:pw@api.truelayer.com/data/v1/result": false,
		"/data/v1/results/x":                               false,
	} {
		if got := sameOrigin(raw, base); got != want {
			t.Errorf("%s: %v", raw, got)
		}
	}
}
