package truelayer

import (
	"context"
	"net/http"
	"slices"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

const endpointV3Create = "POST /v3/data-connections"

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

// v3Standing is where a data connection stands, as far as the documented API
// tells.
type v3Standing int

const (
	v3Authorised    v3Standing = iota // data calls are answered
	v3NotAuthorised                   // invalid_state: not yet, or no longer (the document does not say which)
	v3Forbidden                       // forbidden: the one-time window or a scope's access ended
)

// probeDataConnection is the one place that asks where a v3 data connection
// stands. The published Data API v3 document has no endpoint that reads a
// connection's status, consent expiry or revocation (nor one that deletes it):
// the connection_management webhooks say when it was authorised or failed, and
// otherwise only a data call tells. This makes the cheapest documented one, GET
// /v3/data-connections/{id}/user-info (or GET /v3/connected-accounts when the
// connection lacks the info scope): 200 means authorised; 400 invalid_state ("Status
// of the connection does not allow this action") means not authorised, before the
// user authorises as after the consent ended or was revoked; 403 forbidden means
// access ended (a one-time window, a scope); 404 means TrueLayer does not know the
// connection. Banks may count the probe as an unattended call, so callers keep it
// rare.
func (c *Client) probeDataConnection(ctx context.Context, conn provider.Connection, op string) (v3Standing, error) {
	if conn.Refs.DataConnectionID == "" {
		return 0, invalidRequest(op, "the connection has no data connection id")
	}
	f := provider.Fetch{Resource: provider.ResourceInfo}
	if !slices.Contains(conn.Scopes, "info") {
		f.Resource = provider.ResourceAccounts
	}
	_, err := c.fetchV3(ctx, conn, f)
	pe, ok := provider.AsError(err)
	switch {
	case err == nil:
		return v3Authorised, nil
	case ok && pe.Status == http.StatusBadRequest && pe.Code == "invalid_state":
		return v3NotAuthorised, nil
	case ok && pe.Status == http.StatusForbidden:
		return v3Forbidden, nil
	}
	if ok {
		pe.Op = op + ": " + pe.Op
	}
	return 0, err
}

// confirmDataConnection checks that the v3 connection was authorised.
func (c *Client) confirmDataConnection(ctx context.Context, conn provider.Connection) (provider.Grant, error) {
	const op = "confirm data connection"
	st, err := c.probeDataConnection(ctx, conn, op)
	switch {
	case err != nil:
		return provider.Grant{}, err
	case st == v3Authorised:
		return provider.Grant{Refs: conn.Refs}, nil
	case st == v3Forbidden:
		return provider.Grant{}, &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonAccessDenied, Op: op,
			Code: "forbidden", Description: "the data connection's access was refused"}
	}
	return provider.Grant{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "invalid_state",
		Description: "the data connection is not authorised yet"}
}

// dataConnectionConsent reports a v3 connection's consent as the probe finds it:
// Active, Pending (not authorised, which after Active means it ended: the caller
// knows which it was) or Expired (a one-time connection's window ended). The v3
// document gives no consent end, so ExpiresAt stays zero.
func (c *Client) dataConnectionConsent(ctx context.Context, conn provider.Connection) (provider.Consent, error) {
	st, err := c.probeDataConnection(ctx, conn, "consent")
	if err != nil {
		return provider.Consent{}, err
	}
	switch st {
	case v3Authorised:
		return provider.Consent{Status: "Active"}, nil
	case v3Forbidden:
		return provider.Consent{Status: "Expired"}, nil
	}
	return provider.Consent{Status: "Pending"}, nil
}

// forgetDataConnection is Revoke for v3: the published v3 document has no
// endpoint that deletes or revokes a data connection, so nothing is sent; the
// connection stays at TrueLayer until its consent ends or the user revokes it at
// the bank, and the operator forgets its id.
func (c *Client) forgetDataConnection(conn provider.Connection) error {
	if conn.Refs.DataConnectionID != "" {
		c.log.Info("Data API v3 has no revocation endpoint; the data connection is left to expire", "namespace", conn.Namespace, "name", conn.Name)
	}
	return nil
}
