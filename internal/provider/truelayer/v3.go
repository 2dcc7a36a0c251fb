package truelayer

import (
	"context"
	"net/http"
	"net/url"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

const (
	endpointV3Create = "POST /v3/data-connections"
	endpointV3Get    = "GET /v3/data-connections/{connection_id}"
	endpointV3Delete = "DELETE /v3/data-connections/{connection_id}"
)

// v3Do sends a Data API v3 request with the client's token. When the API
// answers 401 (the token was revoked or the cache held a stale one) it
// fetches a new token and sends the request once more: a 401 means the
// request was refused before it had any effect.
func (c *Client) v3Do(ctx context.Context, conn provider.Connection, op string, kind opKind, build func(tok string) (httpx.Request, error)) (*httpx.Response, error) {
	tok, err := c.clientToken(ctx, conn, "")
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		req, err := build(tok)
		if err != nil {
			return nil, invalidRequest(op, err.Error())
		}
		resp, err := c.send(ctx, conn, call{op: op, kind: kind, req: req, secrets: []string{tok, conn.Credentials.ClientSecret}})
		if pe, ok := provider.AsError(err); ok && attempt == 0 && pe.Status == http.StatusUnauthorized {
			if tok, err = c.clientToken(ctx, conn, tok); err != nil {
				return nil, err
			}
			continue
		}
		return resp, err
	}
}

// V3Headers returns the headers of a Data API v3 call on behalf of conn's
// data connection: the client's bearer token and Connection-Id (required by
// the connected-accounts and transactions endpoints).
func (c *Client) V3Headers(ctx context.Context, conn provider.Connection) (http.Header, error) {
	if conn.Refs.DataConnectionID == "" {
		return nil, invalidRequest("v3 headers", "the connection has no data connection id")
	}
	tok, err := c.clientToken(ctx, conn, "")
	if err != nil {
		return nil, err
	}
	h := bearerHeader(tok)
	h.Set("Connection-Id", conn.Refs.DataConnectionID)
	return h, nil
}

type v3Provider struct {
	Type       string            `json:"type"`
	ProviderID string            `json:"provider_id,omitempty"`
	Filter     *v3ProviderFilter `json:"filter,omitempty"`
}

type v3ProviderFilter struct {
	Countries []string `json:"countries,omitempty"`
}

type v3User struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

type v3Redirect struct {
	ReturnURI string `json:"return_uri"`
}

type v3HostedPage struct {
	Type      string `json:"type"`
	ReturnURI string `json:"return_uri"`
}

type v3AuthorizationFlow struct {
	Redirect v3Redirect `json:"redirect"`
}

// v3CreateRequest is CreateConnection (providers-api.md §4.2).
type v3CreateRequest struct {
	Scopes            []string             `json:"scopes"`
	ProviderSelection v3Provider           `json:"provider_selection"`
	User              v3User               `json:"user"`
	UserConsent       map[string]string    `json:"user_consent"`
	Metadata          map[string]string    `json:"metadata,omitempty"`
	HostedPage        *v3HostedPage        `json:"hosted_page,omitempty"`
	AuthorizationFlow *v3AuthorizationFlow `json:"authorization_flow,omitempty"`
	DataAccessType    string               `json:"data_access_type"`
}

type v3CreateResponse struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	HostedPage *struct {
		URI string `json:"uri"`
	} `json:"hosted_page"`
	AuthorizationFlow *struct {
		Actions struct {
			Next struct {
				Type string `json:"type"`
				URI  string `json:"uri"`
			} `json:"next"`
		} `json:"actions"`
	} `json:"authorization_flow"`
}

// v3Scopes are the scopes a data connection accepts.
var v3Scopes = map[string]bool{"info": true, "accounts": true, "balance": true, "transactions": true}

// createDataConnection starts a v3 journey: POST /v3/data-connections.
func (c *Client) createDataConnection(ctx context.Context, conn provider.Connection) (provider.Authorization, error) {
	const op = "create data connection"
	if conn.RedirectURI == "" {
		return provider.Authorization{}, invalidRequest(op, "redirect URI is empty")
	}
	var scopes []string
	for _, s := range conn.Scopes {
		if v3Scopes[s] {
			scopes = append(scopes, s)
		} else if s != "offline_access" {
			return provider.Authorization{}, invalidRequest(op, "scope "+s+" is not available in Data API v3")
		}
	}
	if len(scopes) == 0 {
		return provider.Authorization{}, invalidRequest(op, "no scopes")
	}
	body := v3CreateRequest{
		Scopes:      scopes,
		User:        v3User{ID: conn.UserRef, Name: conn.User.Name, Email: conn.User.Email, Phone: conn.User.Phone},
		UserConsent: map[string]string{"type": "authorization_flow_captured"},
		// Lets webhook receivers find the BankConnection (at most 10 pairs).
		Metadata:       map[string]string{"namespace": conn.Namespace, "name": conn.Name},
		DataAccessType: "recurring",
	}
	if conn.DataAccess == "OneTime" {
		body.DataAccessType = "one_time"
	}
	if conn.ProviderID != "" {
		body.ProviderSelection = v3Provider{Type: "preselected", ProviderID: conn.ProviderID}
	} else {
		body.ProviderSelection = v3Provider{Type: "user_selected"}
	}
	if c.opts.V3Flow == V3AuthorizationFlow {
		body.AuthorizationFlow = &v3AuthorizationFlow{Redirect: v3Redirect{ReturnURI: conn.RedirectURI}}
	} else {
		body.HostedPage = &v3HostedPage{Type: "authorization_flow", ReturnURI: conn.RedirectURI}
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return provider.Authorization{}, invalidRequest(op, err.Error())
	}
	var cl call
	resp, err := c.v3Do(ctx, conn, op, opV3, func(tok string) (httpx.Request, error) {
		// Not idempotent: each POST creates a connection.
		req, err := jsonRequest(http.MethodPost, endpointV3Create, h.api+"/v3/data-connections", bearerHeader(tok), body)
		cl = call{op: op, req: req, secrets: []string{tok}}
		return req, err
	})
	if err != nil {
		return provider.Authorization{}, err
	}
	var cr v3CreateResponse
	if err := decode(cl, resp, &cr); err != nil {
		return provider.Authorization{}, err
	}
	link := ""
	switch {
	case cr.HostedPage != nil:
		link = cr.HostedPage.URI
	case cr.AuthorizationFlow != nil && cr.AuthorizationFlow.Actions.Next.Type == "redirect":
		link = cr.AuthorizationFlow.Actions.Next.URI
	}
	if cr.ID == "" || link == "" {
		return provider.Authorization{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status,
			Code: "malformed_response", Description: "the created connection has no id or no link for the user (status " + truncate(cr.Status) + ")"}
	}
	refs := conn.Refs
	refs.DataConnectionID = cr.ID
	return provider.Authorization{URL: link, Refs: refs}, nil
}

// v3Connection is the data connection resource. The published v3 document
// has no read endpoint; the bank sandbox serves GET
// /v3/data-connections/{id} with these fields.
type v3Connection struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	DataAccessType   string `json:"data_access_type"`
	ConsentExpiresAt string `json:"consent_expires_at"`
}

func (c *Client) getDataConnection(ctx context.Context, conn provider.Connection, op string) (v3Connection, error) {
	id := conn.Refs.DataConnectionID
	if id == "" {
		return v3Connection{}, invalidRequest(op, "the connection has no data connection id")
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return v3Connection{}, invalidRequest(op, err.Error())
	}
	var cl call
	resp, err := c.v3Do(ctx, conn, op, opV3Connection, func(tok string) (httpx.Request, error) {
		req := httpx.Request{Method: http.MethodGet, URL: h.api + "/v3/data-connections/" + url.PathEscape(id),
			Endpoint: endpointV3Get, Header: bearerHeader(tok), Idempotent: true}
		cl = call{op: op, req: req, secrets: []string{tok}}
		return req, nil
	})
	if err != nil {
		return v3Connection{}, err
	}
	var vc v3Connection
	if err := decode(cl, resp, &vc); err != nil {
		return v3Connection{}, err
	}
	return vc, nil
}

// confirmDataConnection checks that the v3 connection was authorised.
func (c *Client) confirmDataConnection(ctx context.Context, conn provider.Connection) (provider.Grant, error) {
	const op = "confirm data connection"
	vc, err := c.getDataConnection(ctx, conn, op)
	if err != nil {
		return provider.Grant{}, err
	}
	switch vc.Status {
	case "authorized":
		return provider.Grant{Refs: conn.Refs}, nil
	case "authorization_required", "authorizing":
		return provider.Grant{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: vc.Status,
			Description: "the data connection is not authorised yet"}
	case "failed":
		return provider.Grant{}, &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonAccessDenied, Op: op,
			Code: vc.Status, Description: "the data connection's authorisation failed or was cancelled"}
	case "expired":
		return provider.Grant{}, &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonConsentExpired, Op: op, Code: vc.Status}
	case "revoked":
		return provider.Grant{}, &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonConsentRevoked, Op: op, Code: vc.Status}
	}
	return provider.Grant{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "malformed_response",
		Description: "unknown data connection status " + truncate(vc.Status)}
}

// dataConnectionConsent reads the consent of a v3 connection.
func (c *Client) dataConnectionConsent(ctx context.Context, conn provider.Connection) (provider.Consent, error) {
	const op = "consent"
	vc, err := c.getDataConnection(ctx, conn, op)
	if err != nil {
		return provider.Consent{}, err
	}
	exp, err := parseTimestamp(vc.ConsentExpiresAt)
	if err != nil {
		return provider.Consent{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "malformed_response", Description: err.Error()}
	}
	out := provider.Consent{ExpiresAt: exp}
	switch vc.Status {
	case "authorized":
		out.Status = "Active"
		if !exp.IsZero() && !c.opts.Clock().Before(exp) {
			out.Status = "Expired"
		}
	case "authorization_required", "authorizing":
		out.Status = "Pending"
	case "expired":
		out.Status = "Expired"
	case "revoked":
		out.Status = "Revoked"
	case "failed":
		return provider.Consent{}, &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonReauthorizationRequired,
			Op: op, Code: vc.Status, Description: "the data connection's authorisation failed"}
	default:
		return provider.Consent{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "malformed_response",
			Description: "unknown data connection status " + truncate(vc.Status)}
	}
	return out, nil
}

// deleteDataConnection revokes a v3 connection. The published v3 document
// has no delete endpoint; the bank sandbox serves DELETE
// /v3/data-connections/{id}. A connection that no longer exists counts as
// deleted.
func (c *Client) deleteDataConnection(ctx context.Context, conn provider.Connection) error {
	const op = "revoke"
	id := conn.Refs.DataConnectionID
	if id == "" {
		return nil // no journey was ever started: nothing to revoke
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return invalidRequest(op, err.Error())
	}
	_, err = c.v3Do(ctx, conn, op, opV3, func(tok string) (httpx.Request, error) {
		return httpx.Request{Method: http.MethodDelete, URL: h.api + "/v3/data-connections/" + url.PathEscape(id),
			Endpoint: endpointV3Delete, Header: bearerHeader(tok), Idempotent: true}, nil
	})
	if pe, ok := provider.AsError(err); ok && pe.Status == http.StatusNotFound {
		return nil
	}
	return err
}
