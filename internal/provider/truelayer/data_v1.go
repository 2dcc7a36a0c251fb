package truelayer

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

const endpointV1Results = "GET /data/v1/results/{task_id}"

// v1Route is where a resource lives in Data API v1.
type v1Route struct {
	endpoint string // route pattern, for the observer and errors
	path     string
	window   bool // takes from/to
}

func v1RouteFor(f provider.Fetch) (v1Route, error) {
	op := "fetch " + string(f.Resource)
	base, pattern := "/data/v1/accounts/", "/data/v1/accounts/{account_id}"
	if f.Card {
		base, pattern = "/data/v1/cards/", "/data/v1/cards/{account_id}"
	}
	acct := base + url.PathEscape(f.AccountID)
	switch f.Resource {
	case provider.ResourceInfo:
		return v1Route{endpoint: "GET /data/v1/info", path: "/data/v1/info"}, nil
	case provider.ResourceAccounts:
		return v1Route{endpoint: "GET /data/v1/accounts", path: "/data/v1/accounts"}, nil
	case provider.ResourceCards:
		return v1Route{endpoint: "GET /data/v1/cards", path: "/data/v1/cards"}, nil
	case provider.ResourceBalance:
		return v1Route{endpoint: "GET " + pattern + "/balance", path: acct + "/balance"}, nil
	case provider.ResourceTransactions:
		return v1Route{endpoint: "GET " + pattern + "/transactions", path: acct + "/transactions", window: true}, nil
	case provider.ResourcePending:
		return v1Route{endpoint: "GET " + pattern + "/transactions/pending", path: acct + "/transactions/pending", window: true}, nil
	case provider.ResourceStandingOrders, provider.ResourceDirectDebits:
		if f.Card {
			return v1Route{}, invalidRequest(op, "cards have no "+string(f.Resource))
		}
		return v1Route{endpoint: "GET " + pattern + "/" + string(f.Resource), path: acct + "/" + string(f.Resource)}, nil
	}
	return v1Route{}, invalidRequest(op, "Data API v1 does not serve "+string(f.Resource))
}

// v1Envelope is the Data API v1 answer, synchronous or the results of an
// async task (which adds the error fields when it failed).
type v1Envelope struct {
	Results          json.RawMessage `json:"results"`
	Status           string          `json:"status"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// v1Accepted is the 202 answer of an async call (AsyncResponse).
type v1Accepted struct {
	ResultsURI string `json:"results_uri"`
	Status     string `json:"status"`
	TaskID     string `json:"task_id"`
}

// fetchV1 reads one resource from Data API v1 with the user's token.
func (c *Client) fetchV1(ctx context.Context, conn provider.Connection, s provider.Session, f provider.Fetch) (provider.FetchResult, error) {
	op := "fetch " + string(f.Resource)
	tok, err := sessionToken(op, s)
	if err != nil {
		return provider.FetchResult{}, err
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return provider.FetchResult{}, invalidRequest(op, err.Error())
	}
	rt, err := v1RouteFor(f)
	if err != nil {
		return provider.FetchResult{}, err
	}
	q := url.Values{}
	if rt.window {
		w := toDateWindow(f, c.opts.HTTP.Now())
		if w.future {
			return provider.FetchResult{Data: &provider.Data{}}, nil
		}
		if w.from != "" {
			q.Set("from", w.from)
		}
		if w.to != "" {
			q.Set("to", w.to)
		}
	}
	if asyncRequested(f) {
		q.Set("async", "true")
		if f.WebhookURI != "" {
			q.Set("webhook_uri", f.WebhookURI)
		}
	}
	u := h.api + rt.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	hdr := bearerHeader(tok)
	psuHeader(hdr, "X-PSU-IP", f.PSUIP)
	cl := call{op: op, kind: opData, secrets: []string{tok}, req: httpx.Request{
		Method: http.MethodGet, URL: u, Endpoint: rt.endpoint, Header: hdr,
		// An unattended call counts against the bank's allowance even when
		// it fails: it is sent once, and the caller decides about another.
		Idempotent: f.PSUIP != "",
	}}
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return provider.FetchResult{}, err
	}
	if resp.Status == http.StatusAccepted {
		var acc v1Accepted
		if err := decode(cl, resp, &acc); err != nil {
			return provider.FetchResult{}, err
		}
		if acc.TaskID == "" {
			return provider.FetchResult{}, malformed(op, resp.Status, "async answer without task_id")
		}
		return provider.FetchResult{Task: &provider.Task{ID: acc.TaskID, ResultsURI: acc.ResultsURI}}, nil
	}
	var env v1Envelope
	if err := decode(cl, resp, &env); err != nil {
		return provider.FetchResult{}, err
	}
	d, err := mapV1(op, f, env.Results, c.opts.HTTP.Now())
	if err != nil {
		return provider.FetchResult{}, err
	}
	return provider.FetchResult{Data: d}, nil
}

// collectV1 reads an async task's results: the results_uri TrueLayer gave
// when it is on the API host, /data/v1/results/{task_id} otherwise.
func (c *Client) collectV1(ctx context.Context, conn provider.Connection, s provider.Session, t provider.Task, f provider.Fetch) (*provider.Data, error) {
	op := "collect " + string(f.Resource)
	tok, err := sessionToken(op, s)
	if err != nil {
		return nil, err
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return nil, invalidRequest(op, err.Error())
	}
	u := t.ResultsURI
	if u == "" || !sameOrigin(u, h.api) {
		u = h.api + "/data/v1/results/" + url.PathEscape(t.ID)
	}
	hdr := bearerHeader(tok)
	psuHeader(hdr, "X-PSU-IP", f.PSUIP)
	cl := call{op: op, kind: opData, secrets: []string{tok}, req: httpx.Request{
		// Reading results is not a call to the bank: safe to repeat.
		Method: http.MethodGet, URL: u, Endpoint: endpointV1Results, Header: hdr, Idempotent: true,
	}}
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return nil, err
	}
	var env v1Envelope
	if err := decode(cl, resp, &env); err != nil {
		return nil, err
	}
	switch env.Status {
	case "Queued", "Running":
		return nil, nil
	case "Failed":
		if env.Error == "" {
			return nil, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status, Code: "task_failed",
				Description: "the async task failed without an error code"}
		}
		pe := classify(opData, apiError{status: resp.Status, code: env.Error, description: truncate(env.ErrorDescription)}, conn, c.opts.HTTP.Now())
		pe.Op = op
		pe.Description = httpx.Redact(pe.Description, cl.secrets)
		return nil, pe
	case "", "Succeeded":
		if resp.Status == http.StatusAccepted && len(env.Results) == 0 {
			return nil, nil // accepted, nothing yet
		}
		return mapV1(op, f, env.Results, c.opts.HTTP.Now())
	}
	return nil, malformed(op, resp.Status, "unknown task status "+truncate(env.Status))
}
