package sandbox_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/consent-operator/consent-operator/internal/sandbox"
)

// reconsent re-authorises the connection of tk (POST /v1/reauthuri, the user logs
// in again) and returns the new tokens.
func reconsent(t *testing.T, e *env, tk tokens) tokens {
	t.Helper()
	r := e.postJSON("/v1/reauthuri", "", map[string]string{"response_type": "code", "refresh_token": tk.Refresh, "redirect_uri": testRedirect})
	m := r.json(t)
	mustf(t, r.status == 200 && m["success"] == true, "reauthuri: %d %s", r.status, r.body)
	b := newBrowser(t)
	p := b.submit(b.open(m["result"].(string)), url.Values{"action": {"allow"}})
	p = b.submit(p, url.Values{"action": {"login"}, "username": {"john"}, "password": {"doe"}})
	code, _ := codeFrom(t, p)
	return e.exchange(code).tokens(t)
}

// accountView is what identifies the served accounts apart from their ids, and
// the transactions of the first one.
type accountView struct {
	numbers      []string // sort code and number of each account, in order
	cardNumbers  []string
	transactions []string // normalised_provider_transaction_id and transaction_id
}

func (e *env) view(tk tokens, accounts, cards []string) accountView {
	e.t.Helper()
	var v accountView
	for _, x := range e.get("/data/v1/accounts", tk.Access, "X-PSU-IP", "10.0.0.1").json(e.t)["results"].([]any) {
		n := x.(map[string]any)["account_number"].(map[string]any)
		v.numbers = append(v.numbers, n["sort_code"].(string)+" "+n["number"].(string)+" "+n["iban"].(string))
	}
	for _, x := range e.get("/data/v1/cards", tk.Access, "X-PSU-IP", "10.0.0.1").json(e.t)["results"].([]any) {
		v.cardNumbers = append(v.cardNumbers, x.(map[string]any)["partial_card_number"].(string))
	}
	from, to := e.clock.Now().AddDate(0, 0, -20).Format("2006-01-02"), e.clock.Now().Format("2006-01-02")
	for _, id := range append(slices.Clone(accounts), cards...) {
		r := e.get("/data/v1/accounts/"+id+"/transactions?from="+from+"&to="+to, tk.Access, "X-PSU-IP", "10.0.0.1")
		if slices.Contains(cards, id) {
			r = e.get("/data/v1/cards/"+id+"/transactions?from="+from+"&to="+to, tk.Access, "X-PSU-IP", "10.0.0.1")
		}
		mustf(e.t, r.status == 200, "transactions of %s: %d %s", id, r.status, r.body)
		for _, x := range r.json(e.t)["results"].([]any) {
			tx := x.(map[string]any)
			v.transactions = append(v.transactions, tx["normalised_provider_transaction_id"].(string)+" "+tx["transaction_id"].(string))
		}
	}
	return v
}

// TestNewAccountIDsOnReconsent: with the option (for every connection, or for one
// through the control and admin APIs) a re-consent serves the same accounts, card
// and transactions under new account ids, and the old ids are unknown; without it
// the ids survive the re-consent.
func TestNewAccountIDsOnReconsent(t *testing.T) {
	cases := []struct {
		name   string
		global bool
		enable func(e *env, connID string)
		newIDs bool
	}{
		{name: "off by default", newIDs: false},
		{name: "Options.NewAccountIDsOnReconsent", global: true, newIDs: true},
		{name: "one connection through the control API", newIDs: true, enable: func(e *env, id string) {
			mustf(e.t, e.srv.SetNewAccountIDsOnReconsent(id, true) == nil, "SetNewAccountIDsOnReconsent")
		}},
		{name: "one connection through the admin API", newIDs: true, enable: func(e *env, id string) {
			r := e.postJSON("/sandbox-admin/connections/"+id+"/new-account-ids-on-reconsent", "", map[string]bool{"enabled": true})
			mustf(e.t, r.status == 204 || r.status == 200, "admin: %d %s", r.status, r.body)
		}},
		{name: "switched off again for one connection", global: true, newIDs: false, enable: func(e *env, id string) {
			mustf(e.t, e.srv.SetNewAccountIDsOnReconsent(id, false) == nil, "SetNewAccountIDsOnReconsent")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *sandbox.Options) { o.NewAccountIDsOnReconsent = tc.global })
			tk := e.consent("john", "doe")
			if tc.enable != nil {
				tc.enable(e, e.connID(tk))
			}
			accounts, cards := e.accountIDs(tk)
			before := e.view(tk, accounts, cards)
			mustf(t, len(accounts) > 0 && len(cards) > 0 && len(before.transactions) > 0, "no data to compare: %+v", before)

			tk2 := reconsent(t, e, tk)
			accounts2, cards2 := e.accountIDs(tk2)
			after := e.view(tk2, accounts2, cards2)
			mustf(t, slices.Equal(before.numbers, after.numbers) && slices.Equal(before.cardNumbers, after.cardNumbers),
				"other accounts after the re-consent: %+v, want %+v", after, before)
			mustf(t, slices.Equal(before.transactions, after.transactions), "other transactions after the re-consent")
			for i := range accounts {
				mustf(t, (accounts[i] != accounts2[i]) == tc.newIDs, "account %d: id %s then %s, new ids %v", i, accounts[i], accounts2[i], tc.newIDs)
			}
			for i := range cards {
				mustf(t, (cards[i] != cards2[i]) == tc.newIDs, "card %d: id %s then %s, new ids %v", i, cards[i], cards2[i], tc.newIDs)
			}
			old := e.get("/data/v1/accounts/"+accounts[0], tk2.Access, "X-PSU-IP", "10.0.0.1").status
			mustf(t, (old == 404) == tc.newIDs, "the first consent's account id answers %d (new ids %v)", old, tc.newIDs)
		})
	}
}
