package truelayer

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/store"
)

// Signup+ by connected account (providers-api.md §4.4, signup.json): GET
// /signup-plus/accounts with the user's access token answers the account
// holder's identity, or multiple_accounts_linked with the accounts to ask
// about one by one.

const endpointSignupAccounts = "GET /signup-plus/accounts"

// maxSignupAccounts bounds the per-account requests after
// multiple_accounts_linked.
const maxSignupAccounts = 50

// signupAnswerJSON is both branches of the 200 answer (User and
// MultipleAccountsLinked).
type signupAnswerJSON struct {
	Result   string `json:"result"`
	Accounts []struct {
		AccountID string `json:"account_id"`
	} `json:"accounts"`
	Links map[string]string `json:"links"`

	Title       string `json:"title"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	DateOfBirth string `json:"date_of_birth"`
	Address     *struct {
		AddressLine1 string `json:"address_line1"`
		AddressLine2 string `json:"address_line2"`
		City         string `json:"city"`
		State        string `json:"state"`
		Zip          string `json:"zip"`
		// CountryCode is the schema's name; the published example says country.
		CountryCode string `json:"country_code"`
		Country     string `json:"country"`
	} `json:"address"`
	AccountDetails json.RawMessage `json:"account_details"`
}

const multipleAccountsLinked = "multiple_accounts_linked"

// signupIdentity reads the Signup+ identity. With Fetch.AccountID it asks
// for that account and answers it in AccountIdentities. Without, a single
// linked account gives the connection's identity (Identities); several
// (multiple_accounts_linked) give the accounts to ask about in
// IdentityAccounts, without asking: each of those N requests reaches the
// bank and counts against the unattended-call limit, so the caller
// reserves and sends them.
func (c *Client) signupIdentity(ctx context.Context, conn provider.Connection, s provider.Session, f provider.Fetch) (*provider.Data, error) {
	op := "fetch identity"
	if f.AccountID != "" {
		id, err := c.signupAccount(ctx, conn, s, f, f.AccountID)
		if err != nil {
			return nil, err
		}
		return &provider.Data{AccountIdentities: map[string][]store.Identity{f.AccountID: {id}}}, nil
	}
	ans, err := c.signupGet(ctx, conn, s, f, "")
	if err != nil {
		return nil, err
	}
	if ans.Result != multipleAccountsLinked {
		return &provider.Data{Identities: []store.Identity{mapSignupUser(ans, "")}}, nil
	}
	ids := signupAccountIDs(ans)
	if len(ids) == 0 {
		return nil, malformed(op, http.StatusOK, "multiple_accounts_linked without accounts")
	}
	if len(ids) > maxSignupAccounts {
		return nil, malformed(op, http.StatusOK, "multiple_accounts_linked with too many accounts")
	}
	return &provider.Data{IdentityAccounts: ids}, nil
}

// signupAccountIDs lists the accounts of a multiple_accounts_linked answer
// in its order, then any only named in links.
func signupAccountIDs(ans signupAnswerJSON) []string {
	var ids []string
	seen := map[string]bool{}
	for _, a := range ans.Accounts {
		if a.AccountID != "" && !seen[a.AccountID] {
			seen[a.AccountID] = true
			ids = append(ids, a.AccountID)
		}
	}
	var extra []string
	for id := range ans.Links {
		if id != "" && !seen[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	return append(ids, extra...)
}

func (c *Client) signupAccount(ctx context.Context, conn provider.Connection, s provider.Session, f provider.Fetch, accountID string) (store.Identity, error) {
	ans, err := c.signupGet(ctx, conn, s, f, accountID)
	if err != nil {
		return store.Identity{}, err
	}
	if ans.Result == multipleAccountsLinked {
		return store.Identity{}, malformed("fetch identity", http.StatusOK, "multiple_accounts_linked although an account_id was given")
	}
	return mapSignupUser(ans, accountID), nil
}

func (c *Client) signupGet(ctx context.Context, conn provider.Connection, s provider.Session, f provider.Fetch, accountID string) (signupAnswerJSON, error) {
	op := "fetch identity"
	tok, err := sessionToken(op, s)
	if err != nil {
		return signupAnswerJSON{}, err
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return signupAnswerJSON{}, invalidRequest(op, err.Error())
	}
	u := h.api + "/signup-plus/accounts"
	if accountID != "" {
		u += "?" + url.Values{"account_id": {accountID}}.Encode()
	}
	hdr := bearerHeader(tok)
	psuHeader(hdr, "X-PSU-IP", f.PSUIP)
	cl := call{op: op, kind: opV3, secrets: []string{tok}, req: httpx.Request{
		Method: http.MethodGet, URL: u, Endpoint: endpointSignupAccounts, Header: hdr, Idempotent: f.PSUIP != "",
	}}
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return signupAnswerJSON{}, err
	}
	var ans signupAnswerJSON
	if err := decode(cl, resp, &ans); err != nil {
		return signupAnswerJSON{}, err
	}
	return ans, nil
}

// mapSignupUser maps a User answer. Signup+ sends the name in parts only;
// FullName joins first and last name. Meta keeps the account the identity
// was read for and its account_details.
func mapSignupUser(ans signupAnswerJSON, accountID string) store.Identity {
	id := store.Identity{
		FullName:    joinName(ans.FirstName, ans.LastName),
		Title:       ans.Title,
		FirstName:   ans.FirstName,
		LastName:    ans.LastName,
		DateOfBirth: dateOnly(ans.DateOfBirth),
	}
	if a := ans.Address; a != nil {
		addr := store.Address{City: a.City, State: a.State, Zip: a.Zip, Country: a.CountryCode}
		if addr.Country == "" {
			addr.Country = a.Country
		}
		for _, l := range []string{a.AddressLine1, a.AddressLine2} {
			if l != "" {
				addr.Lines = append(addr.Lines, l)
			}
		}
		id.Addresses = []store.Address{addr}
	}
	meta := map[string]json.RawMessage{}
	if accountID != "" {
		meta["account_id"], _ = json.Marshal(accountID) // a string: cannot fail
	}
	if details := jsonObject(ans.AccountDetails); details != nil {
		meta["account_details"] = details
	}
	if len(meta) > 0 {
		id.Meta, _ = json.Marshal(meta) // valid JSON values: cannot fail
	}
	return id
}
