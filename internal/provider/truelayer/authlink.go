package truelayer

import (
	"net/url"
	"slices"
	"strings"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// sandboxProviders is the bank selection offered in the Sandbox environment
// when the connection names none: TrueLayer's sandbox offers its "Mock" bank
// (uk-cs-mock) besides the Open Banking and OAuth groups.
const sandboxProviders = "uk-cs-mock uk-ob-all uk-oauth-all"

// authLink builds the auth-dialog link of a V1 or SignupPlus journey
// (providers-api.md §2.1). It makes no request.
func (c *Client) authLink(conn provider.Connection, state string) (provider.Authorization, error) {
	const op = "auth link"
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return provider.Authorization{}, invalidRequest(op, err.Error())
	}
	if conn.Credentials.ClientID == "" {
		return provider.Authorization{}, invalidRequest(op, "client_id is empty")
	}
	if conn.RedirectURI == "" {
		return provider.Authorization{}, invalidRequest(op, "redirect URI is empty")
	}
	scopes := linkScopes(conn)
	if len(scopes) == 0 {
		return provider.Authorization{}, invalidRequest(op, "no scopes")
	}
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", conn.Credentials.ClientID)
	q.Set("redirect_uri", conn.RedirectURI)
	q.Set("scope", strings.Join(scopes, " "))
	if p := linkProviders(conn); p != "" {
		q.Set("providers", p)
	}
	if conn.ProviderID != "" {
		q.Set("provider_id", conn.ProviderID)
	}
	if state != "" {
		q.Set("state", state)
	}
	if conn.CodeChallenge != "" {
		q.Set("code_challenge", conn.CodeChallenge)
		q.Set("code_challenge_method", "S256")
	}
	if c.opts.ResponseMode != "" {
		q.Set("response_mode", c.opts.ResponseMode)
	}
	// Spaces as %20, not '+': TrueLayer's dialog is known to mishandle '+'.
	link := h.auth + "/?" + plusAsSpace(q.Encode())
	return provider.Authorization{URL: link, Refs: conn.Refs}, nil
}

// linkScopes returns the requested scopes plus offline_access for recurring
// access (it is what yields a refresh token) and signupplus for SignupPlus.
func linkScopes(conn provider.Connection) []string {
	var out []string
	for _, s := range conn.Scopes {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if conn.DataAPI == DataAPISignupPlus && !slices.Contains(out, "signupplus") {
		out = append(out, "signupplus")
	}
	if recurring(conn) && !slices.Contains(out, "offline_access") {
		out = append(out, "offline_access")
	}
	return out
}

// recurring: unset DataAccess means Recurring (the API's default).
func recurring(conn provider.Connection) bool {
	return conn.DataAccess == "" || conn.DataAccess == "Recurring"
}

// linkProviders returns the providers parameter: the connection's filter,
// extended with provider_id (TrueLayer requires the preselected bank to be
// covered by providers), or the Sandbox default.
func linkProviders(conn provider.Connection) string {
	ps := slices.Clone(conn.Providers)
	if len(ps) == 0 && conn.ProviderID == "" {
		if conn.Environment == "" || conn.Environment == "Sandbox" {
			return sandboxProviders
		}
		return "" // TrueLayer's default selection
	}
	if conn.ProviderID != "" && !slices.Contains(ps, conn.ProviderID) {
		ps = append(ps, conn.ProviderID)
	}
	return strings.Join(ps, " ")
}
