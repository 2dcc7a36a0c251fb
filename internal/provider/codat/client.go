package codat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-logr/logr"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

// Client is Codat's provider.Client and provider.DataClient. It is safe for
// concurrent use; one Client serves every BankConnection (the API key travels
// with each call).
type Client struct {
	opts Options
	http *httpx.Client
	log  logr.Logger
}

var (
	_ provider.Client     = (*Client)(nil)
	_ provider.DataClient = (*Client)(nil)
)

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

// call is one request to Codat.
type call struct {
	// op names the operation in errors, e.g. "consent".
	op string
	// kind decides what a 404 means (see classify).
	kind opKind
	// method and endpoint: endpoint is the route pattern reported to the
	// observer, e.g. "GET /companies/{companyId}"; never a URL with ids.
	method, endpoint string
	// path is the request path with ids filled in and escaped.
	path  string
	query url.Values
	// body is marshalled as JSON when not nil.
	body any
	// idempotent marks requests that may be repeated after they may have
	// reached Codat.
	idempotent bool
}

// authHeader is Codat's API-key authentication: "Basic " + base64(apiKey),
// the key itself encoded rather than a user:password pair.
func authHeader(apiKey string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(apiKey))
}

// secretsOf are the values that must never appear in an error or a log.
func secretsOf(conn provider.Connection) []string {
	k := conn.Credentials.APIKey
	if k == "" {
		return nil
	}
	return []string{k, base64.StdEncoding.EncodeToString([]byte(k))}
}

// send performs cl with conn's API key and returns the response when its
// status is 2xx, a classified *provider.Error otherwise.
func (c *Client) send(ctx context.Context, conn provider.Connection, cl call) (*httpx.Response, error) {
	if conn.Credentials.APIKey == "" {
		return nil, &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonInvalidClientCredentials,
			Op: cl.op, Description: "the client credentials have no Codat api_key"}
	}
	u := c.opts.BaseURL + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	h := http.Header{}
	h.Set("Authorization", authHeader(conn.Credentials.APIKey))
	h.Set("Accept", "application/json")
	req := httpx.Request{Method: cl.method, URL: u, Endpoint: cl.method + " " + cl.endpoint, Header: h, Idempotent: cl.idempotent}
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, invalidRequest(cl.op, fmt.Sprintf("encoding the %s body: %v", req.Endpoint, err))
		}
		h.Set("Content-Type", "application/json")
		req.Body = b
	}
	secrets := secretsOf(conn)
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return nil, transportError(cl, req, err, secrets)
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return resp, nil
	}
	pe := classify(cl.kind, parseErrorBody(resp))
	pe.Op = cl.op + ": " + req.Endpoint
	pe.Description = httpx.Redact(pe.Description, secrets)
	pe.TraceID = httpx.Redact(pe.TraceID, secrets)
	if ra := resp.RetryAfter(c.opts.HTTP.Now()); ra > 0 {
		pe.RetryAfter = ra
	}
	c.log.V(1).Info("Codat error", "op", cl.op, "endpoint", req.Endpoint, "status", pe.Status,
		"class", pe.Class, "reason", pe.Reason, "traceID", pe.TraceID)
	return nil, pe
}

// sendJSON performs cl and decodes the 2xx JSON answer into v.
func (c *Client) sendJSON(ctx context.Context, conn provider.Connection, cl call, v any) error {
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return &provider.Error{Class: provider.ClassRetryLater, Op: cl.op + ": " + cl.method + " " + cl.endpoint,
			Status: resp.Status, Code: "malformed_response",
			Description: "the response is not the expected JSON: " + httpx.JSONErrorSummary(err)}
	}
	return nil
}

func transportError(cl call, req httpx.Request, err error, secrets []string) *provider.Error {
	return &provider.Error{Class: provider.ClassRetryLater, Op: cl.op + ": " + req.Endpoint, Err: httpx.RedactErr(err, secrets),
		Description: httpx.FailureDescription(err, req.Idempotent, "Codat")}
}

func invalidRequest(op, desc string) *provider.Error {
	return &provider.Error{Class: provider.ClassInvalidRequest, Op: op, Description: desc}
}

// companyPath is /companies/{companyId} with the id escaped.
func companyPath(companyID string) string {
	return "/companies/" + url.PathEscape(companyID)
}

// connectionPath is /companies/{companyId}/connections/{connectionId}.
func connectionPath(companyID, connectionID string) string {
	return companyPath(companyID) + "/connections/" + url.PathEscape(connectionID)
}
