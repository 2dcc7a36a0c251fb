package truelayer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/store"
)

const endpointSignup = "GET /signup-plus/accounts"

// wantSignupIdentity checks an identity against the dataset's holder and
// the account it was read for.
func wantSignupIdentity(t *testing.T, got store.Identity, who bankdata.Identity, accountID string) {
	t.Helper()
	if got.FirstName != who.FirstName || got.LastName != who.LastName || got.Title != who.Title ||
		got.FullName != who.FirstName+" "+who.LastName || got.DateOfBirth != who.DateOfBirth.Format("2006-01-02") ||
		len(got.Addresses) != 1 || got.Addresses[0].Zip != who.Address.Postcode || got.Addresses[0].Country != who.Address.Country ||
		len(got.Addresses[0].Lines) == 0 || got.Addresses[0].Lines[0] != who.Address.Line1 {
		t.Fatalf("identity %+v, dataset %+v", got, who)
	}
	var meta struct {
		AccountID      string            `json:"account_id"`
		AccountDetails map[string]string `json:"account_details"`
	}
	if err := json.Unmarshal(got.Meta, &meta); err != nil {
		t.Fatalf("meta %s: %v", got.Meta, err)
	}
	if meta.AccountID != accountID || meta.AccountDetails["provider_id"] != "mock" {
		t.Fatalf("meta %s, want account %q", got.Meta, accountID)
	}
}

// TestDataSignupSingleAccount: one current account answers the user at once.
func TestDataSignupSingleAccount(t *testing.T) {
	e := newEnv(t, nil, nil)
	conn := dataConn(e, truelayer.DataAPISignupPlus)
	s, id := e.connectAs(conn, "john", "doe")
	ds := e.dataset(id)

	d := e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceIdentity})
	if len(d.Identities) != 1 || len(d.AccountIdentities) != 0 {
		t.Fatalf("data %+v", d)
	}
	wantSignupIdentity(t, d.Identities[0], ds.Identity(), "")
	if n := e.calls(id, endpointSignup); n != 1 {
		t.Fatalf("%d Signup+ calls", n)
	}
	// Signup+ connections read the v1 data with the same token.
	d = e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceAccounts})
	if len(d.Accounts) != len(accountsOf(ds, false)) {
		t.Fatalf("accounts %+v", d.Accounts)
	}
}

// TestDataSignupMultipleAccounts: multiple_accounts_linked answers the
// accounts to ask about, without asking (each request would be one more
// unattended call, which the caller must count); asking for each account
// answers its identity with one call.
func TestDataSignupMultipleAccounts(t *testing.T) {
	e := newEnv(t, func(o *sandbox.Options) { o.DatasetSize = bankdata.SizeLarge }, nil)
	conn := dataConn(e, truelayer.DataAPISignupPlus)
	s, id := e.connectAs(conn, "john", "doe")
	ds := e.dataset(id)
	var current []string
	for _, a := range ds.Accounts() {
		if a.Kind == bankdata.KindCurrent {
			current = append(current, a.ID)
		}
	}
	if len(current) < 2 {
		t.Fatalf("the large dataset has %d current accounts", len(current))
	}

	d := e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceIdentity})
	if len(d.Identities) != 0 || len(d.AccountIdentities) != 0 || fmt.Sprint(d.IdentityAccounts) != fmt.Sprint(current) {
		t.Fatalf("data %+v, want IdentityAccounts %v", d, current)
	}
	if n := e.calls(id, endpointSignup); n != 1 {
		t.Fatalf("%d Signup+ calls, want 1: the client followed multiple_accounts_linked itself", n)
	}
	for i, acct := range d.IdentityAccounts {
		ad := e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceIdentity, AccountID: acct})
		ids := ad.AccountIdentities[acct]
		if len(ids) != 1 {
			t.Fatalf("account %s: %+v", acct, ids)
		}
		wantSignupIdentity(t, ids[0], ds.Identity(), acct)
		if n := e.calls(id, endpointSignup); n != int64(2+i) {
			t.Fatalf("%d Signup+ calls after %d accounts", n, i+1)
		}
	}

	// Asking for one account asks once.
	e.srv.ResetCalls()
	d = e.fetchData(conn, s, provider.Fetch{Resource: provider.ResourceIdentity, AccountID: current[1]})
	if len(d.AccountIdentities) != 1 || len(d.AccountIdentities[current[1]]) != 1 || e.calls(id, endpointSignup) != 1 {
		t.Fatalf("data %+v", d)
	}
	wantSignupIdentity(t, d.AccountIdentities[current[1]][0], ds.Identity(), current[1])

	// An account Signup+ does not know is a bad request, not a consent problem.
	_, err := e.client.Fetch(context.Background(), conn, s, provider.Fetch{Resource: provider.ResourceIdentity, AccountID: "no-such-account"})
	wantErr(t, err, provider.ClassInvalidRequest, "")
}

func TestDataSignupErrors(t *testing.T) {
	for _, tc := range []struct {
		code   string
		class  provider.Class
		reason string
	}{
		{"provider_timeout", provider.ClassRetryLater, ""},
		{"internal_server_error", provider.ClassRetryLater, ""},
		{"access_denied", provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired},
		{"validation_error", provider.ClassInvalidRequest, ""},
	} {
		t.Run(tc.code, func(t *testing.T) {
			e := newEnv(t, nil, func(o *truelayer.Options) { o.HTTP.MaxRetries = -1 })
			conn := dataConn(e, truelayer.DataAPISignupPlus)
			s, _ := e.connectAs(conn, "error."+tc.code, "error")
			_, err := e.client.Fetch(context.Background(), conn, s, provider.Fetch{Resource: provider.ResourceIdentity})
			pe := wantErr(t, err, tc.class, tc.reason)
			// The sandbox answers application/json, as the document gives:
			// the body is still read as a Signup+ problem, with its trace_id.
			if pe.Code == "" || pe.Code == tc.code {
				t.Fatalf("code %q is not a Signup+ problem type: %v", pe.Code, pe)
			}
			hasTraceID(t, pe)
			noSecrets(t, err, s.Tokens.AccessToken)
		})
	}
	t.Run("revoked", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		conn := dataConn(e, truelayer.DataAPISignupPlus)
		s, id := e.connectAs(conn, "john", "doe")
		if err := e.srv.RevokeConnection(id); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.Fetch(context.Background(), conn, s, provider.Fetch{Resource: provider.ResourceIdentity})
		wantErr(t, err, provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired)
	})
}
