package codat

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/store"
)

func TestBalanceObservedAt(t *testing.T) {
	d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name                   string
		date, modified, pulled time.Time
		want                   time.Time
	}{
		{"past day: end of day", d, d.Add(5 * 24 * time.Hour), time.Time{}, d.Add(24 * time.Hour)},
		{"current day: when Codat read it", d, d.Add(15 * time.Hour), time.Time{}, d.Add(15 * time.Hour)},
		{"current day without modifiedDate: the pull", d, time.Time{}, d.Add(9 * time.Hour), d.Add(9 * time.Hour)},
		{"no times at all: end of day", d, time.Time{}, time.Time{}, d.Add(24 * time.Hour)},
		{"modified before the date is ignored", d, d.Add(-time.Hour), time.Time{}, d.Add(24 * time.Hour)},
		{"a balance with a time of day", d.Add(13 * time.Hour), d.Add(20 * time.Hour), time.Time{}, d.Add(13 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := balanceObservedAt(tc.date, tc.modified, tc.pulled); !got.Equal(tc.want) {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAmountOf(t *testing.T) {
	tests := []struct {
		in      json.Number
		want    store.Amount
		wantErr bool
	}{
		{"-2.99", "-2.99", false},
		{"1234.5", "1234.5", false},
		{"0", "0", false},
		{"", "", false},
		{"1e3", "1000", false},
		{"-1.5E-1", "-0.15", false},
		{"abc", "", true},
	}
	for _, tc := range tests {
		got, err := amountOf("amount", tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Fatalf("amountOf(%q) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2021, 11, 15, 6, 0, 0, 0, time.UTC)
	for _, s := range []string{"2021-11-15T06:00:00Z", "2021-11-15T06:00:00.000Z", "2021-11-15T01:00:00-05:00", "2021-11-15T06:00:00"} {
		got, err := parseTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("parseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if got, err := parseTime("2021-11-15"); err != nil || !got.Equal(time.Date(2021, 11, 15, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("date only: %v, %v", got, err)
	}
	if got, err := parseTime(""); err != nil || !got.IsZero() {
		t.Fatalf("empty: %v, %v", got, err)
	}
	if _, err := parseTime("15/11/2021"); err == nil {
		t.Fatal("accepted a date Codat does not send")
	}
}

func TestQueryTime(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 500_000_000, time.UTC)
	if got := queryTime(at, false); got != "2026-03-01T10:00:00Z" {
		t.Fatalf("lower bound %s", got)
	}
	if got := queryTime(at, true); got != "2026-03-01T10:00:01Z" {
		t.Fatalf("upper bound %s", got)
	}
	if got := queryTime(at.Truncate(time.Second), true); got != "2026-03-01T10:00:00Z" {
		t.Fatalf("whole-second upper bound %s", got)
	}
}

func TestCompanyName(t *testing.T) {
	tests := []struct {
		conn provider.Connection
		want string
	}{
		{provider.Connection{CompanyName: "Acme_42 Ltd", UserRef: "user-42"}, "Acme-42 Ltd"},
		{provider.Connection{CompanyName: "Dave's Café & Co."}, "Dave's Caf- & Co."},
		{provider.Connection{Namespace: "team-a", Name: "acme", UserRef: "user-42"}, "team-a-acme"}, // userRef is an id, not a name
		{provider.Connection{CompanyName: "   ", Namespace: "ns", Name: "n"}, "ns-n"},
		{provider.Connection{CompanyName: "///"}, "consent-operator connection"},
	}
	for _, tc := range tests {
		if got := companyName(tc.conn); got != tc.want {
			t.Fatalf("companyName(%+v) = %q, want %q", tc.conn, got, tc.want)
		}
	}
	if got := companyName(provider.Connection{CompanyName: strings.Repeat("a", 300)}); len(got) != maxCompanyName {
		t.Fatalf("long name has %d characters, want %d", len(got), maxCompanyName)
	}
}

func TestClassify(t *testing.T) {
	body := func(status int, msg, retry string) *httpx.Response {
		b, _ := json.Marshal(map[string]any{"statusCode": status, "service": "PublicApi", "error": msg,
			"correlationId": "abc", "canBeRetried": retry})
		return &httpx.Response{Status: status, Header: http.Header{}, Body: b}
	}
	tests := []struct {
		name   string
		kind   opKind
		resp   *httpx.Response
		class  provider.Class
		reason string
	}{
		{"401", opAccount, body(401, "Unauthorized", "False"), provider.ClassNeedsHuman, provider.ReasonInvalidClientCredentials},
		{"403", opConnection, body(403, "Forbidden", "False"), provider.ClassNeedsHuman, provider.ReasonInvalidClientCredentials},
		{"404 connection", opConnection, body(404, "No company was found with ID x", "False"), provider.ClassNeedsHuman, provider.ReasonConsentRevoked},
		{"404 account-level", opAccount, body(404, "No integration was found with key x", "False"), provider.ClassInvalidRequest, ""},
		{"409 not requested", opConnection, body(409, "The data set has not been requested.", "False"), provider.ClassInvalidRequest, ""},
		{"409 not completed", opConnection, body(409, "The data set has not been completed: running.", "False"), provider.ClassRetryLater, ""},
		{"400 in progress", opConnection, body(400, "Cannot queue banking-accounts sync for c as previous sync 1f-2a is still in progress", "False"), provider.ClassRetryLater, ""},
		{"400 retriable", opConnection, body(400, "try again", "True"), provider.ClassRetryLater, ""},
		{"400", opConnection, body(400, "bad", "False"), provider.ClassInvalidRequest, ""},
		{"402", opAccount, body(402, "limit", "False"), provider.ClassInvalidRequest, ""},
		{"408", opAccount, body(408, "timeout", "Unknown"), provider.ClassRetryLater, ""},
		{"429", opAccount, body(429, "slow down", "True"), provider.ClassRateLimited, ""},
		{"500", opAccount, body(500, "oops", "Unknown"), provider.ClassRetryLater, ""},
		{"302 from a proxy", opAccount, &httpx.Response{Status: 302, Header: http.Header{}}, provider.ClassRetryLater, ""},
		{"canBeRetried as a JSON boolean", opAccount, &httpx.Response{Status: 400, Header: http.Header{},
			Body: []byte(`{"statusCode":400,"error":"x","canBeRetried":true}`)}, provider.ClassRetryLater, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pe := classify(tc.kind, parseErrorBody(tc.resp))
			if pe.Class != tc.class || pe.Reason != tc.reason || pe.Status != tc.resp.Status {
				t.Fatalf("classify = %+v, want %s %q", pe, tc.class, tc.reason)
			}
		})
	}
}

func TestInProgressSyncID(t *testing.T) {
	ae := apiError{status: 400, message: "Cannot queue banking-transactions sync for 7b0c as previous sync 2e9f1c3a-0000-4000-8000-00000000abcd is still in progress"}
	if id, ok := inProgressSyncID(ae); !ok || id != "2e9f1c3a-0000-4000-8000-00000000abcd" {
		t.Fatalf("inProgressSyncID = %q, %v", id, ok)
	}
	ae.status = 409
	if _, ok := inProgressSyncID(ae); ok {
		t.Fatal("matched a non-400 answer")
	}
}

func TestMorePages(t *testing.T) {
	next := &struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	}{Next: &struct {
		Href string `json:"href"`
	}{Href: "/x?page=2"}}
	noNext := &struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	}{}
	tests := []struct {
		name string
		p    pageJSON[int]
		page int
		want bool
	}{
		{"next link", pageJSON[int]{Results: []int{1}, Links: next}, 1, true},
		{"no next link", pageJSON[int]{Results: []int{1}, TotalResults: 50, PageSize: 1, Links: noNext}, 1, false},
		{"empty page ends even with a next link", pageJSON[int]{Links: next}, 1, false},
		{"no links: totals say more", pageJSON[int]{Results: []int{1, 2}, PageSize: 2, TotalResults: 5}, 2, true},
		{"no links: totals say done", pageJSON[int]{Results: []int{1}, PageSize: 2, TotalResults: 5}, 3, false},
	}
	for _, tc := range tests {
		if got := morePages(tc.p, tc.page); got != tc.want {
			t.Fatalf("%s: morePages = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMapTransaction(t *testing.T) {
	base := transactionJSON{ID: "t1", AccountID: "a1", Amount: "-12.30", Currency: "GBP",
		PostedDate: "2026-03-01T12:00:00Z", Code: "Purchase", MerchantName: "Shop"}
	got, err := mapTransaction(base)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != "DEBIT" || got.Amount != "-12.30" || got.NormalisedProviderTransactionID != "t1" || got.Category != "Purchase" ||
		!got.Timestamp.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("mapped %+v", got)
	}
	credit := base
	credit.Amount = "5"
	if got, _ := mapTransaction(credit); got.Type != "CREDIT" {
		t.Fatalf("positive amount mapped to %s", got.Type)
	}
	authorizedOnly := base
	authorizedOnly.PostedDate, authorizedOnly.AuthorizedDate = "", "2026-02-28T08:00:00Z"
	if got, err := mapTransaction(authorizedOnly); err != nil || !got.Timestamp.Equal(time.Date(2026, 2, 28, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("authorized date fallback: %+v, %v", got, err)
	}
	for name, broken := range map[string]transactionJSON{
		"no id":     {AccountID: "a1", Amount: "1", PostedDate: "2026-03-01"},
		"no date":   {ID: "t", Amount: "1"},
		"bad date":  {ID: "t", Amount: "1", PostedDate: "yesterday"},
		"no amount": {ID: "t", PostedDate: "2026-03-01"},
	} {
		if _, err := mapTransaction(broken); err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}
}

func TestMapBalanceLimit(t *testing.T) {
	b := accountBalanceJSON{AccountID: "a", Date: "2026-03-01T00:00:00Z", Modified: "2026-03-01T09:00:00Z",
		Balance: balanceAmountsJSON{Current: "-40.5", Available: "959.5", Limit: "1000"}}
	card, err := mapBalance(b, accountInfo{currency: "GBP", card: true}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if card.CreditLimit != "1000" || card.Overdraft != "" || card.Currency != "GBP" || card.Current != "-40.5" {
		t.Fatalf("card balance %+v", card)
	}
	acct, err := mapBalance(b, accountInfo{currency: "GBP"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if acct.Overdraft != "1000" || acct.CreditLimit != "" {
		t.Fatalf("account balance %+v", acct)
	}
}
