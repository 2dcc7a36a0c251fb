package truelayer

import (
	"context"
	"net/http"
	"net/url"

	"github.com/consent-operator/consent-operator/internal/provider"
)

const endpointReauth = "POST /v1/reauthuri"

// reauthRequest is TrueLayer's ReauthUriRequest (auth server document).
type reauthRequest struct {
	ResponseType        string `json:"response_type"`
	RefreshToken        string `json:"refresh_token"`
	RedirectURI         string `json:"redirect_uri"`
	State               string `json:"state,omitempty"`
	CodeChallenge       string `json:"code_challenge,omitempty"`
	CodeChallengeMethod string `json:"code_challenge_method,omitempty"`
	ResponseMode        string `json:"response_mode,omitempty"`
}

// authURIResponse is TrueLayer's AuthUriResponse.
type authURIResponse struct {
	Result  string `json:"result"`
	Success bool   `json:"success"`
}

// Reauthorize asks TrueLayer for a re-authentication link (POST /v1/reauthuri): a
// shorter journey for a user who already connected, straight to the same bank. The
// state is fixed here and kept by TrueLayer, so it is one the caller sealed for one
// browser; the PKCE challenge is conn's. Only Data API v1 has it.
func (c *Client) Reauthorize(ctx context.Context, conn provider.Connection, s provider.Session, state string) (provider.Authorization, error) {
	const op = "reauthenticate"
	if conn.DataAPI != "" && conn.DataAPI != DataAPIV1 {
		return provider.Authorization{}, invalidRequest(op, "re-authentication is a Data API v1 journey")
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return provider.Authorization{}, invalidRequest(op, err.Error())
	}
	if s.Tokens == nil || s.Tokens.RefreshToken == "" {
		return provider.Authorization{}, invalidRequest(op, "no refresh token in the session")
	}
	if conn.RedirectURI == "" {
		return provider.Authorization{}, invalidRequest(op, "redirect URI is empty")
	}
	body := reauthRequest{ResponseType: "code", RefreshToken: s.Tokens.RefreshToken, RedirectURI: conn.RedirectURI,
		State: state, ResponseMode: c.opts.ResponseMode}
	if conn.CodeChallenge != "" {
		body.CodeChallenge, body.CodeChallengeMethod = conn.CodeChallenge, "S256"
	}
	req, err := jsonRequest(http.MethodPost, endpointReauth, h.auth+"/v1/reauthuri", nil, body)
	if err != nil {
		return provider.Authorization{}, invalidRequest(op, err.Error())
	}
	// Not repeated: each request opens a session at TrueLayer.
	cl := call{op: op, kind: opExtend, req: req, secrets: []string{s.Tokens.RefreshToken, state}}
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return provider.Authorization{}, err
	}
	var ar authURIResponse
	if err := decode(cl, resp, &ar); err != nil {
		return provider.Authorization{}, err
	}
	if u, err := url.Parse(ar.Result); err != nil || !ar.Success || !u.IsAbs() {
		return provider.Authorization{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status,
			Code: "malformed_response", Description: "the re-authentication answer has no usable link"}
	}
	return provider.Authorization{URL: ar.Result, Refs: conn.Refs}, nil
}
