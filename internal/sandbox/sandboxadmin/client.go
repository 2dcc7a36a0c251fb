// Package sandboxadmin is a client of the bank sandbox's admin API
// (/sandbox-admin/), for tests that run the sandbox in another process.
// Tests running it in-process can call the same operations on
// *sandbox.Server directly.
package sandboxadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// Client talks to one sandbox.
type Client struct {
	base string
	http *http.Client
}

// New returns a client for the sandbox at baseURL (e.g. "http://127.0.0.1:8480").
// httpClient may be nil.
func New(baseURL string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), http: httpClient}
}

// Error is a non-2xx answer of the admin API.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("sandbox admin: HTTP %d: %s", e.Status, e.Message) }

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(data, &e) // the raw body is the fallback message
		if e.Error == "" {
			e.Error = string(data)
		}
		return &Error{Status: resp.StatusCode, Message: e.Error}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Now returns the sandbox clock's time.
func (c *Client) Now(ctx context.Context) (time.Time, error) {
	var st sandbox.ClockState
	err := c.do(ctx, http.MethodGet, "/sandbox-admin/clock", nil, &st)
	return st.Now, err
}

// SetTime sets the sandbox clock.
func (c *Client) SetTime(ctx context.Context, t time.Time) (time.Time, error) {
	var st sandbox.ClockState
	err := c.do(ctx, http.MethodPost, "/sandbox-admin/clock", sandbox.ClockChange{Set: &t}, &st)
	return st.Now, err
}

// Advance moves the sandbox clock by d.
func (c *Client) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	var st sandbox.ClockState
	err := c.do(ctx, http.MethodPost, "/sandbox-admin/clock", sandbox.ClockChange{Advance: d.String()}, &st)
	return st.Now, err
}

// Connections lists the connections.
func (c *Client) Connections(ctx context.Context) ([]sandbox.ConnectionInfo, error) {
	var out []sandbox.ConnectionInfo
	err := c.do(ctx, http.MethodGet, "/sandbox-admin/connections", nil, &out)
	return out, err
}

// Connection describes one connection.
func (c *Client) Connection(ctx context.Context, id string) (sandbox.ConnectionInfo, error) {
	var out sandbox.ConnectionInfo
	err := c.do(ctx, http.MethodGet, "/sandbox-admin/connections/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Revoke revokes a connection.
func (c *Client) Revoke(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/sandbox-admin/connections/"+url.PathEscape(id)+"/revoke", nil, nil)
}

// Expire ends a connection's consent now.
func (c *Client) Expire(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/sandbox-admin/connections/"+url.PathEscape(id)+"/expire", nil, nil)
}

// SetExtendOutcome chooses the answer of /connections/extend for a connection.
func (c *Client) SetExtendOutcome(ctx context.Context, id, outcome string) error {
	return c.do(ctx, http.MethodPost, "/sandbox-admin/connections/"+url.PathEscape(id)+"/extend-outcome", map[string]string{"outcome": outcome}, nil)
}

// SetNewAccountIDsOnReconsent chooses whether a connection's re-consents issue
// new account ids.
func (c *Client) SetNewAccountIDsOnReconsent(ctx context.Context, id string, enabled bool) error {
	return c.do(ctx, http.MethodPost, "/sandbox-admin/connections/"+url.PathEscape(id)+"/new-account-ids-on-reconsent", map[string]bool{"enabled": enabled}, nil)
}

// Authorize completes the auth dialog programmatically and returns the code.
func (c *Client) Authorize(ctx context.Context, req sandbox.AuthorizeRequest) (string, error) {
	var out sandbox.AuthorizeResponse
	err := c.do(ctx, http.MethodPost, "/sandbox-admin/authorize", req, &out)
	return out.Code, err
}

// AuthorizeV3 completes a v3 connection's authorisation.
func (c *Client) AuthorizeV3(ctx context.Context, connectionID, username, password string) error {
	return c.do(ctx, http.MethodPost, "/sandbox-admin/v3/connections/"+url.PathEscape(connectionID)+"/authorize",
		map[string]string{"username": username, "password": password}, nil)
}

// InjectFault adds a fault and returns its id.
func (c *Client) InjectFault(ctx context.Context, f sandbox.FaultSpec) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, http.MethodPost, "/sandbox-admin/faults", f, &out)
	return out.ID, err
}

// Faults lists the active faults.
func (c *Client) Faults(ctx context.Context) ([]sandbox.FaultSpec, error) {
	var out []sandbox.FaultSpec
	err := c.do(ctx, http.MethodGet, "/sandbox-admin/faults", nil, &out)
	return out, err
}

// RemoveFault removes one fault.
func (c *Client) RemoveFault(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/sandbox-admin/faults/"+url.PathEscape(id), nil, nil)
}

// ClearFaults removes all faults.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/sandbox-admin/faults", nil, nil)
}

func filterQuery(f sandbox.CallFilter) string {
	q := url.Values{}
	for k, v := range map[string]string{"client": f.Client, "connection": f.Connection, "endpoint": f.Endpoint, "error": f.Error} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Attended != nil {
		q.Set("attended", strconv.FormatBool(*f.Attended))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Calls returns the call counts matching f.
func (c *Client) Calls(ctx context.Context, f sandbox.CallFilter) (sandbox.CallsReport, error) {
	var out sandbox.CallsReport
	err := c.do(ctx, http.MethodGet, "/sandbox-admin/calls"+filterQuery(f), nil, &out)
	return out, err
}

// Errors returns the error-response counts matching f.
func (c *Client) Errors(ctx context.Context, f sandbox.CallFilter) (sandbox.ErrorsReport, error) {
	var out sandbox.ErrorsReport
	err := c.do(ctx, http.MethodGet, "/sandbox-admin/errors"+filterQuery(f), nil, &out)
	return out, err
}

// ResetCalls zeroes the call and error counts.
func (c *Client) ResetCalls(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/sandbox-admin/calls", nil, nil)
}

// Dataset describes a mock bank user's data.
func (c *Client) Dataset(ctx context.Context, user string) (sandbox.DatasetSummary, error) {
	var out sandbox.DatasetSummary
	err := c.do(ctx, http.MethodGet, "/sandbox-admin/dataset?user="+url.QueryEscape(user), nil, &out)
	return out, err
}

// Transactions returns the booked transactions of a user's account in
// [from, to] (capped at the sandbox's now), as the Data API serves them.
func (c *Client) Transactions(ctx context.Context, user, accountID string, from, to time.Time) ([]bankdata.Transaction, error) {
	q := url.Values{"user": {user}, "account_id": {accountID}, "from": {from.UTC().Format(time.RFC3339Nano)}, "to": {to.UTC().Format(time.RFC3339Nano)}}
	var out []bankdata.Transaction
	err := c.do(ctx, http.MethodGet, "/sandbox-admin/dataset/transactions?"+q.Encode(), nil, &out)
	return out, err
}
