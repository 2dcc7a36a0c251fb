package truelayer

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

const endpointProviders = "GET /api/providers"

// providerJSON is TrueLayer's GetProvidersResponse item.
type providerJSON struct {
	ProviderID  string `json:"provider_id"`
	DisplayName string `json:"display_name"`
	LogoURL     string `json:"logo_url"`
	Country     string `json:"country"`
}

// bankListScopes are the scopes GET /api/providers filters on (its enum).
var bankListScopes = map[string]bool{"info": true, "accounts": true, "balance": true, "transactions": true,
	"standing_orders": true, "direct_debits": true, "offline_access": true, "cards": true}

// Banks lists the banks enabled for the connection's client that support its scopes
// (GET /api/providers: public, no credentials), for an application's own bank
// selection screen. Data API v3 chooses the bank in its hosted page: InvalidRequest.
func (c *Client) Banks(ctx context.Context, conn provider.Connection) ([]provider.Bank, error) {
	const op = "list banks"
	if conn.DataAPI == DataAPIV3 {
		return nil, invalidRequest(op, "Data API v3 chooses the bank in TrueLayer's hosted page")
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return nil, invalidRequest(op, err.Error())
	}
	var scopes []string
	for _, s := range conn.Scopes {
		if bankListScopes[s] {
			scopes = append(scopes, s)
		}
	}
	q := url.Values{"clientId": {conn.Credentials.ClientID}}
	if len(scopes) > 0 {
		q.Set("scopes", strings.Join(scopes, " "))
	}
	cl := call{op: op, kind: opData, req: httpx.Request{Method: http.MethodGet, URL: h.auth + "/api/providers?" + plusAsSpace(q.Encode()),
		Endpoint: endpointProviders, Idempotent: true}}
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return nil, err
	}
	var list []providerJSON
	if err := decode(cl, resp, &list); err != nil {
		return nil, err
	}
	out := make([]provider.Bank, 0, len(list))
	for _, p := range list {
		if p.ProviderID == "" || p.DisplayName == "" {
			continue
		}
		out = append(out, provider.Bank{ID: p.ProviderID, Name: p.DisplayName, LogoURL: p.LogoURL, Country: p.Country})
	}
	return out, nil
}

func plusAsSpace(q string) string { return strings.ReplaceAll(q, "+", "%20") }
