package codat_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/codat"
)

func TestBeginAuthorizationChecksTheSource(t *testing.T) {
	tests := []struct {
		providerID string
		descHas    string
	}{
		{"nope", `"nope" is not a Codat banking source key (enabled sources: dmbk, mock)`},
		{"oldb", "is not enabled"},
	}
	for _, tc := range tests {
		t.Run(tc.providerID, func(t *testing.T) {
			e := newEnv(t, nil, nil)
			conn := testConn()
			conn.ProviderID = tc.providerID
			_, err := e.client.BeginAuthorization(context.Background(), conn, "s")
			mustProviderError(t, err, provider.ClassInvalidRequest, "")
			if !strings.Contains(err.Error(), tc.descHas) {
				t.Fatalf("error %q does not say %q", err, tc.descHas)
			}
			if n := len(e.emu.Companies()); n != 0 {
				t.Fatalf("%d companies created for a bad providerID", n)
			}
		})
	}
}

func TestBankingSources(t *testing.T) {
	e := newEnv(t, nil, nil)
	got, err := e.client.BankingSources(context.Background(), testConn())
	if err != nil {
		t.Fatal(err)
	}
	want := []codat.Source{
		{Key: "dmbk", Name: "Demo Bank", Enabled: true, DataProvidedBy: "TrueLayer"},
		{Key: "mock", Name: "Mock Bank", Enabled: true, DataProvidedBy: "TrueLayer"},
		{Key: "oldb", Name: "Old Bank (retired)", Enabled: false, DataProvidedBy: "TrueLayer"},
	}
	if len(got) != len(want) {
		t.Fatalf("sources %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("source %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestBeginAuthorizationRecreatesWhatWasDeleted: with refs whose connection
// or company was deleted at Codat, a new one is made (in the same company
// when it still exists); a changed providerID gets a connection to the new
// bank.
func TestBeginAuthorizationRecreatesWhatWasDeleted(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil)
	conn, first := e.begin(testConn(), "")

	// The connection is deleted: a new one in the same company.
	if err := e.client.Revoke(ctx, conn, provider.Session{Refs: conn.Refs}); err != nil {
		t.Fatal(err)
	}
	second, err := e.client.BeginAuthorization(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	if second.Refs.CodatCompanyID != first.Refs.CodatCompanyID || second.Refs.CodatConnectionID == first.Refs.CodatConnectionID ||
		second.Refs.CodatConnectionID == "" {
		t.Fatalf("after deleting the connection: refs %+v (first %+v)", second.Refs, first.Refs)
	}
	conn.Refs = second.Refs

	// Another bank is asked for: a connection to it, in the same company.
	conn.ProviderID = "dmbk"
	third, err := e.client.BeginAuthorization(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	co, err := e.emu.Company(conn.Refs.CodatCompanyID)
	if err != nil {
		t.Fatal(err)
	}
	if third.Refs.CodatCompanyID != co.ID || len(co.Connections) != 2 || co.Connections[1].ID != third.Refs.CodatConnectionID ||
		co.Connections[1].PlatformKey != "dmbk" {
		t.Fatalf("after changing the bank: refs %+v, company %+v", third.Refs, co)
	}
	conn.Refs = third.Refs

	// The company is deleted: a new company.
	del := conn
	del.CodatDeleteCompany = true
	if err := e.client.Revoke(ctx, del, provider.Session{Refs: conn.Refs}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.emu.Company(conn.Refs.CodatCompanyID); !isNotFoundEmu(err) {
		t.Fatalf("company after Revoke with CodatDeleteCompany: %v", err)
	}
	fourth, err := e.client.BeginAuthorization(ctx, conn, "")
	if err != nil {
		t.Fatal(err)
	}
	if fourth.Refs.CodatCompanyID == conn.Refs.CodatCompanyID || fourth.Refs.CodatConnectionID == "" {
		t.Fatalf("after deleting the company: refs %+v", fourth.Refs)
	}
	if n := len(e.emu.Companies()); n != 1 {
		t.Fatalf("%d companies, want 1", n)
	}
}

// TestUserPicksTheBank: without providerID the user picks the bank in Codat
// Link; CompleteAuthorization finds the connection and returns its id.
func TestUserPicksTheBank(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil)
	conn := testConn()
	conn.ProviderID = ""
	auth, err := e.client.BeginAuthorization(ctx, conn, "st")
	if err != nil {
		t.Fatal(err)
	}
	if auth.Refs.CodatCompanyID == "" || auth.Refs.CodatConnectionID != "" {
		t.Fatalf("refs %+v: want a company and no connection yet", auth.Refs)
	}
	if !strings.Contains(auth.URL, "/link/company/"+auth.Refs.CodatCompanyID) {
		t.Fatalf("URL %s is not the company's Link URL", auth.URL)
	}
	conn.Refs = auth.Refs
	_, err = e.client.CompleteAuthorization(ctx, conn, provider.Callback{})
	if pe := mustProviderError(t, err, provider.ClassRetryLater, ""); !strings.Contains(pe.Description, "not chosen a bank") {
		t.Fatalf("description %q", pe.Description)
	}
	cons, err := e.client.Consent(ctx, conn, provider.Session{Refs: conn.Refs})
	if err != nil || cons.Status != "Pending" {
		t.Fatalf("Consent = %+v, %v; want Pending", cons, err)
	}

	// The user picks the mock bank on the company page, then authorises.
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(auth.URL)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no bank form: %s", page)
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = hc.PostForm(action.String(), url.Values{"platformKey": {"mock"}})
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	authorizeLink(t, resp.Request.URL.String(), "authorize")

	grant, err := e.client.CompleteAuthorization(ctx, conn, provider.Callback{})
	if err != nil {
		t.Fatalf("CompleteAuthorization: %v", err)
	}
	co, err := e.emu.Company(auth.Refs.CodatCompanyID)
	if err != nil || len(co.Connections) != 1 {
		t.Fatalf("company %+v, %v", co, err)
	}
	if grant.Refs.CodatCompanyID != co.ID || grant.Refs.CodatConnectionID != co.Connections[0].ID {
		t.Fatalf("grant refs %+v, want the chosen connection %s", grant.Refs, co.Connections[0].ID)
	}
	cons, err = e.client.Consent(ctx, conn, provider.Session{Refs: conn.Refs})
	if err != nil || cons.Status != "Active" || cons.ProviderID != "mock" {
		t.Fatalf("Consent = %+v, %v; want Active at mock", cons, err)
	}
}

func TestRevokeDeletesTheCompanyWhenConfigured(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, func(o *codat.Options) { o.DeleteCompany = true })
	conn := linkedConn(t, e)
	for i := range 2 {
		if err := e.client.Revoke(ctx, conn, provider.Session{Refs: conn.Refs}); err != nil {
			t.Fatalf("Revoke #%d: %v", i+1, err)
		}
	}
	if n := len(e.emu.Companies()); n != 0 {
		t.Fatalf("%d companies after Revoke with DeleteCompany", n)
	}
	// Nothing to revoke without refs.
	if err := e.client.Revoke(ctx, testConn(), provider.Session{}); err != nil {
		t.Fatalf("Revoke without refs: %v", err)
	}
}

func TestUnsupportedOperations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil)
	conn := linkedConn(t, e)
	sess := provider.Session{Refs: conn.Refs}
	_, err := e.client.Refresh(ctx, conn, "rt")
	mustProviderError(t, err, provider.ClassInvalidRequest, "")
	_, err = e.client.Extend(ctx, conn, sess)
	mustProviderError(t, err, provider.ClassInvalidRequest, "")
	for _, r := range []provider.Resource{provider.ResourceInfo, provider.ResourceCards, provider.ResourcePending,
		provider.ResourceStandingOrders, provider.ResourceDirectDebits, provider.ResourceIdentity} {
		_, err = e.client.Fetch(ctx, conn, sess, provider.Fetch{Resource: r})
		mustProviderError(t, err, provider.ClassInvalidRequest, "")
	}
	_, err = e.client.Fetch(ctx, testConn(), provider.Session{}, provider.Fetch{Resource: provider.ResourceAccounts})
	mustProviderError(t, err, provider.ClassInvalidRequest, "")
	_, err = e.client.Collect(ctx, conn, sess, provider.Task{ID: "00000000-0000-0000-0000-000000000000"},
		provider.Fetch{Resource: provider.ResourceAccounts})
	if pe := mustProviderError(t, err, provider.ClassInvalidRequest, ""); !strings.Contains(pe.Description, "unknown pull operation") {
		t.Fatalf("description %q", pe.Description)
	}
	if n := e.obs.Count("POST /companies/{companyId}/data/queue/banking-accounts"); n != 0 {
		t.Fatalf("%d pulls queued by rejected fetches", n)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []codat.Options{{BaseURL: "ftp://x"}, {BaseURL: "not a url"}, {PageSize: 6000}} {
		if _, err := codat.New(o); err == nil {
			t.Fatalf("New(%+v) accepted", o)
		}
	}
	if _, err := codat.New(codat.Options{}); err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
}
