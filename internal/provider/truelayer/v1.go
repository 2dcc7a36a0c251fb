package truelayer

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

const (
	endpointMe     = "GET /data/v1/me"
	endpointExtend = "POST /connections/extend"
	endpointDelete = "DELETE /api/delete"
)

// meResponse is the Data API v1 envelope around the Me schema.
type meResponse struct {
	Results []struct {
		ConsentStatus    string `json:"consent_status"`
		ConsentCreatedAt string `json:"consent_created_at"`
		ConsentExpiresAt string `json:"consent_expires_at"`
		Provider         struct {
			DisplayName string `json:"display_name"`
			ProviderID  string `json:"provider_id"`
		} `json:"provider"`
	} `json:"results"`
}

func sessionToken(op string, s provider.Session) (string, error) {
	if s.Tokens == nil || s.Tokens.AccessToken == "" {
		return "", invalidRequest(op, "no access token in the session")
	}
	return s.Tokens.AccessToken, nil
}

// me reads the consent from GET /data/v1/me.
func (c *Client) me(ctx context.Context, conn provider.Connection, s provider.Session) (provider.Consent, error) {
	const op = "consent"
	tok, err := sessionToken(op, s)
	if err != nil {
		return provider.Consent{}, err
	}
	return c.meWithToken(ctx, conn, op, tok)
}

func (c *Client) meWithToken(ctx context.Context, conn provider.Connection, op, tok string) (provider.Consent, error) {
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return provider.Consent{}, invalidRequest(op, err.Error())
	}
	cl := call{op: op, kind: opData, secrets: []string{tok}, req: httpx.Request{
		Method: http.MethodGet, URL: h.api + "/data/v1/me", Endpoint: endpointMe, Header: bearerHeader(tok), Idempotent: true,
	}}
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return provider.Consent{}, err
	}
	var me meResponse
	if err := decode(cl, resp, &me); err != nil {
		return provider.Consent{}, err
	}
	if len(me.Results) == 0 {
		return provider.Consent{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status,
			Code: "malformed_response", Description: "/me returned no result"}
	}
	m := me.Results[0]
	created, err1 := parseTimestamp(m.ConsentCreatedAt)
	expires, err2 := parseTimestamp(m.ConsentExpiresAt)
	for _, e := range []error{err1, err2} {
		if e != nil {
			return provider.Consent{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status,
				Code: "malformed_response", Description: e.Error()}
		}
	}
	out := provider.Consent{
		CreatedAt: created, ExpiresAt: expires,
		ProviderID: m.Provider.ProviderID, ProviderName: m.Provider.DisplayName,
	}
	out.Status = consentStatus(m.ConsentStatus, out, c.opts.HTTP.Now)
	return out, nil
}

// consentStatus maps /me's consent_status ("Authorised" is the documented
// value; the others are what the consent lifecycle names) to the API's
// Pending/Active/Expired/Revoked. An unrecognised value on a /me that
// answered is Active unless the consent end has passed.
func consentStatus(s string, cons provider.Consent, now func() time.Time) string {
	switch strings.ToLower(s) {
	case "revoked", "rejected":
		return "Revoked"
	case "expired", "inactive":
		return "Expired"
	case "awaitingauthorisation", "awaitingauthorization", "authorization_required", "pending":
		return "Pending"
	}
	if !cons.ExpiresAt.IsZero() && !now().Before(cons.ExpiresAt) {
		return "Expired"
	}
	return "Active"
}

// extendRequest is ExtendConnectionRequest (providers-api.md §3.11).
type extendRequest struct {
	UserHasReconfirmedConsent bool       `json:"user_has_reconfirmed_consent"`
	ClientID                  string     `json:"client_id"`
	ClientSecret              string     `json:"client_secret"`
	User                      extendUser `json:"user"`
	RefreshToken              string     `json:"refresh_token"`
	RedirectURI               string     `json:"redirect_uri"`
	ResponseMode              string     `json:"response_mode,omitempty"`
}

type extendUser struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

type extendResponse struct {
	ActionNeeded  string `json:"action_needed"`
	UserInputLink string `json:"user_input_link"`
	tokenResponse
	// ConsentExpiresAt is not in the published schema; a community test saw it.
	ConsentExpiresAt string `json:"consent_expires_at"`
}

// extend posts /connections/extend. It is never repeated once it may have
// reached TrueLayer: an extension with no_action_needed rotates the tokens.
func (c *Client) extend(ctx context.Context, conn provider.Connection, s provider.Session) (provider.Extension, error) {
	const op = "extend"
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return provider.Extension{}, invalidRequest(op, err.Error())
	}
	if s.Tokens == nil || s.Tokens.RefreshToken == "" {
		return provider.Extension{}, invalidRequest(op, "no refresh token in the session")
	}
	if conn.RedirectURI == "" {
		return provider.Extension{}, invalidRequest(op, "redirect URI is empty")
	}
	body := extendRequest{
		// The operator only extends where the user reconfirmed in the
		// application (false is "currently not supported" by TrueLayer).
		UserHasReconfirmedConsent: true,
		ClientID:                  conn.Credentials.ClientID,
		ClientSecret:              conn.Credentials.ClientSecret,
		User:                      extendUser{ID: conn.UserRef, Name: conn.User.Name, Email: conn.User.Email, Phone: conn.User.Phone},
		RefreshToken:              s.Tokens.RefreshToken,
		RedirectURI:               conn.RedirectURI,
		ResponseMode:              c.opts.ResponseMode,
	}
	var hdr http.Header
	secrets := []string{conn.Credentials.ClientSecret, s.Tokens.RefreshToken}
	if s.Tokens.AccessToken != "" {
		// The spec lists oauth2 security; a stale token is fine (§3.11).
		hdr = bearerHeader(s.Tokens.AccessToken)
		secrets = append(secrets, s.Tokens.AccessToken)
	}
	req, err := jsonRequest(http.MethodPost, endpointExtend, h.api+"/connections/extend", hdr, body)
	if err != nil {
		return provider.Extension{}, invalidRequest(op, err.Error())
	}
	cl := call{op: op, kind: opExtend, req: req, secrets: secrets}
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return provider.Extension{}, err
	}
	var er extendResponse
	if err := decode(cl, resp, &er); err != nil {
		return provider.Extension{}, err
	}
	switch provider.ExtendOutcome(er.ActionNeeded) {
	case provider.ExtendNoActionNeeded:
		if er.AccessToken == "" || er.RefreshToken == "" {
			return provider.Extension{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status,
				Code: "malformed_response", Description: "no_action_needed without access_token and refresh_token"}
		}
		t := er.tokens(c.opts.HTTP.Now())
		ext := provider.Extension{Outcome: provider.ExtendNoActionNeeded, Tokens: &t}
		if ts, err := parseTimestamp(er.ConsentExpiresAt); err == nil && !ts.IsZero() {
			ext.ExpiresAt = ts
			return ext, nil
		}
		// The new consent end is not in the response: read it from /me with
		// the new access token. A failure must not lose the rotated tokens,
		// so it leaves ExpiresAt zero for the caller to read later.
		if cons, err := c.meWithToken(ctx, conn, "consent after extend", t.AccessToken); err == nil {
			ext.ExpiresAt = cons.ExpiresAt
		} else {
			c.log.Info("reading the consent after an extension failed; the new consent end is unknown",
				"namespace", conn.Namespace, "name", conn.Name, "error", err.Error())
		}
		return ext, nil
	case provider.ExtendReconfirmationNeeded, provider.ExtendAuthenticationNeeded:
		if er.UserInputLink == "" {
			return provider.Extension{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status,
				Code: "malformed_response", Description: er.ActionNeeded + " without user_input_link"}
		}
		return provider.Extension{Outcome: provider.ExtendOutcome(er.ActionNeeded), UserInputLink: er.UserInputLink}, nil
	}
	return provider.Extension{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status,
		Code: "malformed_response", Description: "unknown action_needed " + truncate(er.ActionNeeded)}
}

// revokeV1 deletes the credentials (DELETE /api/delete with the user's token).
func (c *Client) revokeV1(ctx context.Context, conn provider.Connection, s provider.Session) error {
	const op = "revoke"
	tok, err := sessionToken(op, s)
	if err != nil {
		return err
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return invalidRequest(op, err.Error())
	}
	cl := call{op: op, kind: opData, secrets: []string{tok}, req: httpx.Request{
		Method: http.MethodDelete, URL: h.auth + "/api/delete", Endpoint: endpointDelete, Header: bearerHeader(tok),
		// Deleting twice leaves the same state; a retry after a lost answer
		// meets access_denied, which counts as done below.
		Idempotent: true,
	}}
	_, err = c.send(ctx, conn, cl)
	if pe, ok := provider.AsError(err); ok && pe.Code == "access_denied" {
		// The consent is already revoked or expired: nothing is left to delete.
		c.log.V(1).Info("revoke: the consent was already revoked or expired", "namespace", conn.Namespace, "name", conn.Name)
		return nil
	}
	return err
}
