// Package truelayer implements provider.Client for TrueLayer's Data API v1,
// Data API v3 and Signup+ (the v1 journey with the signupplus scope), over the
// auth server and API hosts described in providers-api.md §1–§4.
//
// One Client serves every BankConnection: the connection's credentials and
// environment travel with each call, HTTP connections are pooled, and the
// rate limiter and the v3 client-credentials tokens are shared.
package truelayer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-logr/logr"
	"golang.org/x/sync/singleflight"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

// Data APIs (provider.Connection.DataAPI).
const (
	DataAPIV1         = "V1"
	DataAPIV3         = "V3"
	DataAPISignupPlus = "SignupPlus"
)

// Client is TrueLayer's provider.Client. It is safe for concurrent use.
type Client struct {
	opts   Options
	http   *httpx.Client
	log    logr.Logger
	tokens singleflight.Group
}

var _ provider.Client = (*Client)(nil)

// New returns a Client.
func New(o Options) (*Client, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	return &Client{
		opts: o,
		log:  o.Logger,
		http: httpx.New(o.HTTP),
	}, nil
}

// BeginAuthorization starts a consent journey: an auth-dialog link for V1 and
// SignupPlus, a new data connection for V3.
func (c *Client) BeginAuthorization(ctx context.Context, conn provider.Connection, state string) (provider.Authorization, error) {
	switch conn.DataAPI {
	case "", DataAPIV1, DataAPISignupPlus:
		return c.authLink(conn, state)
	case DataAPIV3:
		return c.createDataConnection(ctx, conn)
	}
	return provider.Authorization{}, unknownDataAPI("begin authorization", conn)
}

// CompleteAuthorization exchanges the callback's code (V1, SignupPlus) or
// confirms that the v3 data connection is authorised.
func (c *Client) CompleteAuthorization(ctx context.Context, conn provider.Connection, cb provider.Callback) (provider.Grant, error) {
	switch conn.DataAPI {
	case "", DataAPIV1, DataAPISignupPlus:
		t, err := c.exchangeCode(ctx, conn, cb.Code, cb.CodeVerifier)
		if err != nil {
			return provider.Grant{}, err
		}
		return provider.Grant{Tokens: &t, Refs: conn.Refs}, nil
	case DataAPIV3:
		return c.confirmDataConnection(ctx, conn)
	}
	return provider.Grant{}, unknownDataAPI("complete authorization", conn)
}

// Refresh exchanges a refresh token for a new token set (V1, SignupPlus). The
// request is never repeated once it may have reached TrueLayer.
func (c *Client) Refresh(ctx context.Context, conn provider.Connection, refreshToken string) (provider.Tokens, error) {
	switch conn.DataAPI {
	case "", DataAPIV1, DataAPISignupPlus:
		return c.refresh(ctx, conn, refreshToken)
	case DataAPIV3:
		return provider.Tokens{}, invalidRequest("refresh", "Data API v3 connections have no user tokens to refresh")
	}
	return provider.Tokens{}, unknownDataAPI("refresh", conn)
}

// Consent reads the consent from /data/v1/me (V1, SignupPlus) or probes the
// data connection (V3, probeDataConnection).
func (c *Client) Consent(ctx context.Context, conn provider.Connection, s provider.Session) (provider.Consent, error) {
	switch conn.DataAPI {
	case "", DataAPIV1, DataAPISignupPlus:
		return c.me(ctx, conn, s)
	case DataAPIV3:
		return c.dataConnectionConsent(ctx, conn)
	}
	return provider.Consent{}, unknownDataAPI("consent", conn)
}

// Extend asks TrueLayer to extend the consent (POST /connections/extend, UK
// providers). Data API v3 has no extension endpoint.
func (c *Client) Extend(ctx context.Context, conn provider.Connection, s provider.Session) (provider.Extension, error) {
	switch conn.DataAPI {
	case "", DataAPIV1, DataAPISignupPlus:
		return c.extend(ctx, conn, s)
	case DataAPIV3:
		return provider.Extension{}, invalidRequest("extend", "Data API v3 has no consent extension endpoint")
	}
	return provider.Extension{}, unknownDataAPI("extend", conn)
}

// Revoke ends the consent at TrueLayer: DELETE /api/delete with the user's
// access token (V1, SignupPlus). Data API v3 has no revocation endpoint
// (forgetDataConnection). A consent that is already revoked or expired counts
// as revoked.
func (c *Client) Revoke(ctx context.Context, conn provider.Connection, s provider.Session) error {
	switch conn.DataAPI {
	case "", DataAPIV1, DataAPISignupPlus:
		return c.revokeV1(ctx, conn, s)
	case DataAPIV3:
		return c.forgetDataConnection(conn)
	}
	return unknownDataAPI("revoke", conn)
}

func unknownDataAPI(op string, conn provider.Connection) error {
	return invalidRequest(op, fmt.Sprintf("unknown TrueLayer data API %q (want V1, V3 or SignupPlus)", conn.DataAPI))
}

func invalidRequest(op, desc string) *provider.Error {
	return &provider.Error{Class: provider.ClassInvalidRequest, Op: op, Description: desc}
}

// call is one request with what is needed to report its failure.
type call struct {
	op   string
	kind opKind
	req  httpx.Request
	// secrets are values (client secret, tokens, code) that must not appear
	// in an error even if the provider echoes them.
	secrets []string
}

// send performs cl and returns the response when its status is 2xx, a
// classified *provider.Error otherwise.
func (c *Client) send(ctx context.Context, conn provider.Connection, cl call) (*httpx.Response, error) {
	resp, err := c.http.Do(ctx, cl.req)
	if err != nil {
		return nil, transportError(cl, err)
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return resp, nil
	}
	pe := classify(cl.kind, parseErrorBody(resp), conn, c.opts.HTTP.Now())
	pe.Op = cl.op
	// The code is the provider's text too: a provider (or an attacker in between)
	// echoing a secret there must not carry it into errors, status or logs.
	pe.Code = httpx.Redact(pe.Code, cl.secrets)
	pe.Description = httpx.Redact(pe.Description, cl.secrets)
	pe.TraceID = httpx.Redact(pe.TraceID, cl.secrets)
	if ra := resp.RetryAfter(c.opts.HTTP.Now()); ra > 0 {
		pe.RetryAfter = ra
	}
	c.log.V(1).Info("TrueLayer error", "op", cl.op, "status", pe.Status, "code", pe.Code, "class", pe.Class, "reason", pe.Reason,
		"traceID", pe.TraceID)
	return nil, pe
}

func transportError(cl call, err error) *provider.Error {
	return &provider.Error{Class: provider.ClassRetryLater, Op: cl.op, Err: httpx.RedactErr(err, cl.secrets),
		Description: httpx.FailureDescription(err, cl.req.Idempotent, "TrueLayer")}
}

// decode parses a 2xx JSON body into v; a body that is not the expected JSON
// is a RetryLater error (a proxy's page or a truncated answer), never a panic.
func decode(cl call, resp *httpx.Response, v any) error {
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return &provider.Error{
			Class: provider.ClassRetryLater, Op: cl.op, Status: resp.Status, Code: "malformed_response",
			Description: "the response is not the expected JSON: " + httpx.Redact(httpx.JSONErrorSummary(err), cl.secrets),
		}
	}
	return nil
}

func bearerHeader(token string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	h.Set("Accept", "application/json")
	return h
}

func formRequest(endpoint, u string, form url.Values) httpx.Request {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("Accept", "application/json")
	return httpx.Request{Method: http.MethodPost, URL: u, Endpoint: endpoint, Header: h, Body: []byte(form.Encode())}
}

func jsonRequest(method, endpoint, u string, h http.Header, body any) (httpx.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return httpx.Request{}, fmt.Errorf("encoding %s body: %w", endpoint, err)
	}
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	return httpx.Request{Method: method, URL: u, Endpoint: endpoint, Header: h, Body: b}, nil
}
