package sandbox

import (
	"net/http"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

const signupErrorBase = "https://docs.truelayer.com/docs/signup-errors#"

func signupTypeForStatus(status int) string {
	switch status {
	case 400:
		return "invalid-parameters"
	case 401:
		return "unauthorized"
	case 403:
		return "forbidden"
	case 404:
		return "not-found"
	case 422:
		return "user-data-not-found"
	case 504:
		return "provider-unavailable"
	}
	return "internal-server-error"
}

// writeSignupProblem writes a Signup+ error. The published document gives
// every Signup+ answer, errors included, as application/json (not
// application/problem+json as Data API v3 does), so the sandbox does too.
func writeSignupProblem(w http.ResponseWriter, r *http.Request, status int, slug, detail string) {
	writeProblem(w, r, problem{Type: signupErrorBase + slug, Title: http.StatusText(status), Status: status, Detail: detail}, "application/json")
}

// handleSignupAccounts serves GET /signup-plus/accounts?account_id=: the
// identity behind a connection's current account. With several current
// accounts and no account_id it answers multiple_accounts_linked.
func (s *Server) handleSignupAccounts(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r)
	var cl accessClaims
	if !ok || s.signer.verify(tok, &cl) != nil || s.clock.Now().Unix() >= cl.Expires {
		writeSignupProblem(w, r, http.StatusUnauthorized, "unauthorized", "The access token is missing, invalid or expired.")
		return
	}
	conn, found := s.connections.get(cl.CredentialsID)
	if !found {
		writeSignupProblem(w, r, http.StatusForbidden, "forbidden", "The access token does not belong to a connection.")
		return
	}
	ci := infoOf(r)
	ci.client, ci.connection = conn.clientID, conn.id
	now := s.clock.Now()
	conn.mu.Lock()
	status := conn.statusLocked(now)
	scopes := conn.scopes
	conn.mu.Unlock()
	if status != ConsentAuthorised {
		writeSignupProblem(w, r, http.StatusForbidden, "forbidden", "Consent expired or revoked.")
		return
	}
	if !contains(scopes, "signupplus") && !(contains(scopes, "info") && contains(scopes, "accounts")) {
		writeSignupProblem(w, r, http.StatusForbidden, "missing-claims", "The token lacks the signupplus scope.")
		return
	}
	if code := conn.user.errorCode; code != "" {
		e := ErrorCatalogue[code]
		writeSignupProblem(w, r, e.Status, signupTypeForStatus(e.Status), e.Description)
		return
	}
	ds := conn.data()
	var eligible []bankdata.Account
	for _, a := range ds.Accounts() {
		if a.Kind == bankdata.KindCurrent {
			eligible = append(eligible, a)
		}
	}
	if len(eligible) == 0 {
		writeSignupProblem(w, r, http.StatusUnprocessableEntity, "no-valid-accounts", "No valid accounts linked, could not process request.")
		return
	}
	var chosen *bankdata.Account
	if id := r.URL.Query().Get("account_id"); id != "" {
		for i := range eligible {
			if eligible[i].ID == id {
				chosen = &eligible[i]
			}
		}
		if chosen == nil {
			writeSignupProblem(w, r, http.StatusBadRequest, "invalid-parameters", "Unknown account_id.")
			return
		}
	} else if len(eligible) == 1 {
		chosen = &eligible[0]
	}
	if chosen == nil {
		links := map[string]string{}
		accounts := []map[string]string{}
		for _, a := range eligible {
			links[a.ID] = s.baseURL(r) + "/signup-plus/accounts?account_id=" + a.ID
			accounts = append(accounts, map[string]string{
				"account_id": a.ID, "currency": a.Currency, "account_type": "CURRENT", "display_name": a.DisplayName,
				"iban": a.IBAN, "swift_bic": a.SwiftBIC, "account_number": a.AccountNumber, "sort_code": sortCodeDashed(a.SortCode),
			})
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"result": "multiple_accounts_linked", "detail": "Multiple valid accounts linked, please resend the request specifying an account_id.",
			"links": links, "accounts": accounts,
		})
		return
	}
	id := ds.Identity()
	writeJSON(w, http.StatusOK, map[string]any{
		"title": id.Title, "first_name": id.FirstName, "last_name": id.LastName, "date_of_birth": id.DateOfBirth.Format("2006-01-02"),
		"address": map[string]string{
			"address_line1": id.Address.Line1, "address_line2": id.Address.Line2, "city": id.Address.City,
			"state": id.Address.State, "zip": id.Address.Postcode, "country_code": id.Address.Country,
		},
		"account_details": map[string]string{
			"account_number": chosen.AccountNumber, "sort_code": sortCodeDashed(chosen.SortCode), "iban": chosen.IBAN, "provider_id": conn.provider.ID,
		},
	})
}
