// Package httpx is the HTTP machinery the provider clients share: one reused
// http.Client with timeouts, a token bucket per provider host, bounded retries
// with full-jitter exponential backoff for requests that are safe to repeat,
// bounded response reads and an observer called after every request (for the
// request-duration metric).
package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DefaultMaxResponseBytes bounds how much of a response body is read.
const DefaultMaxResponseBytes = 10 << 20

// Options configure a Client. Zero values select the defaults.
type Options struct {
	// HTTPClient is used as is when set; by default a client with its own
	// transport that does not follow redirects (a provider answering a token
	// request with a redirect must not make us resend credentials elsewhere).
	HTTPClient *http.Client
	// Timeout bounds each attempt (connect, send, headers and body); default 30s.
	Timeout time.Duration
	// RateLimit bounds the requests per second to each host.
	RateLimit RateLimit
	// MaxRetries is the number of retries after the first attempt; 0 means 3,
	// a negative value disables retries.
	MaxRetries int
	// Backoff computes the delay between attempts.
	Backoff Backoff
	// Now is the clock of the rate limiter and of Retry-After dates; default time.Now.
	Now func() time.Time
	// Sleep waits between attempts and for the rate limiter; default a timer
	// that stops early when ctx ends. Tests inject one that does not sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxResponseBytes bounds the bytes read from a response body; default 10 MiB.
	MaxResponseBytes int64
	// Observer, when set, is called after every attempt with the request's
	// route pattern, the HTTP status (0 when no response arrived) and the
	// attempt's duration.
	Observer func(endpoint string, status int, d time.Duration)
}

// Client sends requests to provider APIs. It is safe for concurrent use.
type Client struct {
	hc         *http.Client
	timeout    time.Duration
	maxRetries int
	backoff    Backoff
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	maxBody    int64
	observer   func(string, int, time.Duration)
	limiter    *hostLimiter
}

// New returns a Client.
func New(o Options) *Client {
	c := &Client{
		hc:         o.HTTPClient,
		timeout:    o.Timeout,
		maxRetries: o.MaxRetries,
		backoff:    o.Backoff,
		now:        o.Now,
		sleep:      o.Sleep,
		maxBody:    o.MaxResponseBytes,
		observer:   o.Observer,
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = 3
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = SleepContext
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	c.limiter = newHostLimiter(o.RateLimit, c.now, c.sleep)
	return c
}

func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// SleepContext waits for d or until ctx ends.
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Request is one provider call.
type Request struct {
	Method string
	URL    string
	// Endpoint is the route pattern reported to the observer and used in
	// errors, e.g. "POST /connect/token"; never a URL with ids or tokens.
	Endpoint string
	Header   http.Header
	Body     []byte
	// Idempotent marks requests that may be repeated after they may have
	// reached the server (GET, DELETE, a client_credentials grant). Other
	// requests are retried only when the connection could not be made, so
	// nothing was sent: a refresh-token grant that reached the server may have
	// rotated the refresh token, and repeating it would burn the new one.
	Idempotent bool
}

// Response is a complete response (status, headers and the bounded body).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Attempts is how many attempts were made.
	Attempts int
}

// RetryAfter returns the response's Retry-After (seconds or HTTP date), 0 when absent.
func (r *Response) RetryAfter(now time.Time) time.Duration {
	return parseRetryAfter(r.Header.Get("Retry-After"), now)
}

// ErrBodyTooLarge is returned when a response body exceeds MaxResponseBytes.
var ErrBodyTooLarge = errors.New("response body too large")

// Error is a failure to obtain a complete response.
type Error struct {
	Endpoint string
	Attempts int
	// MayHaveReachedServer is false only when the connection could not be
	// established, so the request was certainly not sent.
	MayHaveReachedServer bool
	// Timeout reports an attempt that ran out of time.
	Timeout bool
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: no complete response after %d attempt(s): %v", e.Endpoint, e.Attempts, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Do sends req, retrying where that is safe. It returns a Response for every
// HTTP answer (whatever the status, after retries of 5xx answers to
// idempotent requests are exhausted) and an *Error when no complete answer
// arrived.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		// The message of a url.Error repeats the URL; it holds no secrets
		// (tokens travel in headers and bodies only).
		return nil, &Error{Endpoint: req.Endpoint, Err: fmt.Errorf("invalid URL: %w", err)}
	}
	for attempt := 0; ; attempt++ {
		if err := c.limiter.wait(ctx, u.Host); err != nil {
			return nil, &Error{Endpoint: req.Endpoint, Attempts: attempt, Err: err}
		}
		resp, err := c.once(ctx, req)
		var retry bool
		var delay time.Duration
		var failure *Error
		if err != nil {
			sent := !notSent(err)
			failure = &Error{Endpoint: req.Endpoint, Attempts: attempt + 1, MayHaveReachedServer: sent, Timeout: isTimeout(err), Err: err}
			retry = ctx.Err() == nil && !errors.Is(err, ErrBodyTooLarge) && (!sent || req.Idempotent)
		} else {
			resp.Attempts = attempt + 1
			retry = req.Idempotent && retryableStatus(resp.Status)
			if ra := resp.RetryAfter(c.now()); ra > 0 {
				if ra > c.backoffMax() {
					// The server asks for a longer pause than we wait in
					// process; the caller requeues with RetryAfter.
					retry = false
				}
				delay = ra
			}
		}
		if !retry || attempt >= c.maxRetries {
			if failure != nil {
				return nil, failure
			}
			return resp, nil
		}
		delay = max(delay, c.backoff.Delay(attempt))
		if err := c.sleep(ctx, delay); err != nil {
			if failure != nil {
				return nil, failure
			}
			return resp, nil
		}
	}
}

func (c *Client) backoffMax() time.Duration {
	if c.backoff.Max > 0 {
		return c.backoff.Max
	}
	return 5 * time.Second
}

// once makes one attempt.
func (c *Client) once(ctx context.Context, req Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	start := time.Now()
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		c.observe(req.Endpoint, 0, time.Since(start))
		return nil, err
	}
	defer func() { _ = hresp.Body.Close() }() // read-only body; a close error changes nothing
	data, err := io.ReadAll(io.LimitReader(hresp.Body, c.maxBody+1))
	c.observe(req.Endpoint, hresp.StatusCode, time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("reading response body (HTTP %d): %w", hresp.StatusCode, err)
	}
	if int64(len(data)) > c.maxBody {
		return nil, fmt.Errorf("HTTP %d: %w (more than %d bytes)", hresp.StatusCode, ErrBodyTooLarge, c.maxBody)
	}
	return &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: data}, nil
}

func (c *Client) observe(endpoint string, status int, d time.Duration) {
	if c.observer != nil {
		c.observer(endpoint, status, d)
	}
}

// retryableStatus: answers that say "try again" (not 501 Not Implemented,
// and not 429: throttling is surfaced to the caller, whose backoff is longer
// and whose failed calls would count against the bank's allowance).
func retryableStatus(s int) bool {
	switch s {
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// notSent reports errors raised before any byte of the request was written:
// the connection could not be established.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
