package truelayer

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
)

const endpointToken = "POST /connect/token"

// tokenResponse is TrueLayer's TokenExchangeResponse (providers-api.md §2.2).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// defaultTokenLifetime applies when a token response omits expires_in
// (TrueLayer: "Default is 1 hour").
const defaultTokenLifetime = time.Hour

func (t tokenResponse) tokens(now time.Time) provider.Tokens {
	life := time.Duration(t.ExpiresIn) * time.Second
	if t.ExpiresIn <= 0 {
		life = defaultTokenLifetime
	}
	typ := t.TokenType
	if typ == "" {
		typ = "Bearer"
	}
	return provider.Tokens{
		AccessToken:  t.AccessToken,
		RefreshToken: t.RefreshToken,
		TokenType:    typ,
		Scope:        t.Scope,
		ExpiresAt:    now.Add(life),
	}
}

// grant posts a token request (form-encoded, as TrueLayer's clients do).
func (c *Client) grant(ctx context.Context, conn provider.Connection, op string, kind opKind, form url.Values, secrets []string) (tokenResponse, error) {
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return tokenResponse{}, invalidRequest(op, err.Error())
	}
	if conn.Credentials.ClientID == "" || conn.Credentials.ClientSecret == "" {
		return tokenResponse{}, &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonInvalidClientCredentials,
			Op: op, Description: "client_id or client_secret is empty"}
	}
	form.Set("client_id", conn.Credentials.ClientID)
	form.Set("client_secret", conn.Credentials.ClientSecret)
	cl := call{op: op, kind: kind, req: formRequest(endpointToken, h.auth+"/connect/token", form),
		secrets: append(secrets, conn.Credentials.ClientSecret)}
	// Only a client_credentials grant may be repeated: the others consume a
	// single-use code or may rotate the refresh token.
	cl.req.Idempotent = kind == opClientToken
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return tokenResponse{}, err
	}
	var tr tokenResponse
	if err := decode(cl, resp, &tr); err != nil {
		return tokenResponse{}, err
	}
	if tr.AccessToken == "" {
		return tokenResponse{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status,
			Code: "malformed_response", Description: "the token response has no access_token"}
	}
	if tt := strings.ToLower(tr.TokenType); tt != "" && tt != "bearer" {
		return tokenResponse{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status,
			Code: "malformed_response", Description: "unexpected token_type " + tr.TokenType}
	}
	return tr, nil
}

// exchangeCode redeems an authorization code (grant authorization_code).
func (c *Client) exchangeCode(ctx context.Context, conn provider.Connection, code, verifier string) (provider.Tokens, error) {
	const op = "exchange code"
	if code == "" {
		return provider.Tokens{}, invalidRequest(op, "the callback carried no code")
	}
	if conn.RedirectURI == "" {
		return provider.Tokens{}, invalidRequest(op, "redirect URI is empty")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {conn.RedirectURI}}
	secrets := []string{code}
	if verifier != "" {
		form.Set("code_verifier", verifier)
		secrets = append(secrets, verifier)
	}
	tr, err := c.grant(ctx, conn, op, opCodeExchange, form, secrets)
	if err != nil {
		return provider.Tokens{}, err
	}
	t := tr.tokens(c.opts.HTTP.Now())
	if recurring(conn) && t.RefreshToken == "" {
		c.log.Info("TrueLayer issued no refresh token for a recurring connection (offline_access not granted)",
			"namespace", conn.Namespace, "name", conn.Name)
	}
	return t, nil
}

// refresh redeems a refresh token. When TrueLayer returns no new refresh
// token the old one stays valid (RFC 6749 §6) and is returned.
func (c *Client) refresh(ctx context.Context, conn provider.Connection, refreshToken string) (provider.Tokens, error) {
	const op = "refresh"
	if refreshToken == "" {
		return provider.Tokens{}, &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonReauthorizationRequired,
			Op: op, Description: "no refresh token (offline_access was not granted)"}
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	tr, err := c.grant(ctx, conn, op, opRefresh, form, []string{refreshToken})
	if err != nil {
		return provider.Tokens{}, err
	}
	t := tr.tokens(c.opts.HTTP.Now())
	if t.RefreshToken == "" {
		t.RefreshToken = refreshToken
	}
	return t, nil
}
