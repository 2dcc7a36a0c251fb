package store

import "testing"

func TestAccountKey(t *testing.T) {
	cases := []struct {
		name string
		n    AccountNumber
		want string
	}{
		{"sort code and number", AccountNumber{SortCode: "12-34-56", Number: "12345678"}, "gb:123456:12345678"},
		{"GB IBAN alone gives the same key", AccountNumber{IBAN: "GB35 LOYD 1234 5612 3456 78"}, "gb:123456:12345678"},
		{"sort code wins over a GB IBAN", AccountNumber{SortCode: "123456", Number: "12345678", IBAN: "GB35LOYD99999988888888"}, "gb:123456:12345678"},
		{"other IBAN, spaces and case ignored", AccountNumber{IBAN: "de89 3704 0044 0532 0130 00"}, "iban:DE89370400440532013000"},
		{"routing number", AccountNumber{RoutingNumber: "021000021", Number: "9876543210"}, "aba:021000021:9876543210"},
		{"BSB", AccountNumber{BSB: "062-000", Number: "12345678"}, "bsb:062000:12345678"},
		{"number alone identifies nothing", AccountNumber{Number: "12345678"}, ""},
		{"nothing reported", AccountNumber{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := AccountKey(Account{AccountID: "x", Number: tc.n}); got != tc.want {
				t.Fatalf("AccountKey(%+v) = %q, want %q", tc.n, got, tc.want)
			}
		})
	}
}

func TestCardKey(t *testing.T) {
	cases := []struct {
		name string
		card Card
		want string
	}{
		{"masked number, network, bank, name", Card{InstitutionID: "ob-amex", CardNetwork: "visa", PartialCardNumber: "**** 1234", NameOnCard: "John Doe"}, "card:ob-amex:VISA:1234:JOHNDOE"},
		{"no masked number", Card{InstitutionID: "ob-amex", CardNetwork: "VISA"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := CardKey(tc.card); got != tc.want {
				t.Fatalf("CardKey(%+v) = %q, want %q", tc.card, got, tc.want)
			}
		})
	}
}
