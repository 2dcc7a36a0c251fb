package truelayer

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

// TrueLayer's hosts (providers-api.md §1).
const (
	SandboxAuthURL = "https://auth.truelayer-sandbox.com"
	SandboxAPIURL  = "https://api.truelayer-sandbox.com"
	LiveAuthURL    = "https://auth.truelayer.com"
	LiveAPIURL     = "https://api.truelayer.com"
)

// RateLimit bounds the requests per second to each provider host.
type RateLimit = httpx.RateLimit

// V3Flow selects how a Data API v3 journey is presented.
type V3Flow string

const (
	// V3HostedPage asks for TrueLayer's hosted page (hosted_page.type
	// authorization_flow); the user returns to Connection.RedirectURI.
	V3HostedPage V3Flow = "hosted_page"
	// V3AuthorizationFlow declares a UI that can redirect (root-level
	// authorization_flow) and sends the user to actions.next.uri.
	V3AuthorizationFlow V3Flow = "authorization_flow"
)

// Options configure a Client. Zero values select the defaults.
type Options struct {
	// AuthURL and APIURL override the auth server and API hosts (e.g. the
	// bank sandbox); empty selects TrueLayer's Sandbox or Live hosts by
	// Connection.Environment.
	AuthURL, APIURL string
	// HTTPClient is reused for every request; default one that does not
	// follow redirects.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt; default 30s.
	Timeout time.Duration
	// RateLimit bounds requests per second to each provider host; default 20/s, burst 40.
	RateLimit RateLimit
	// MaxRetries is the number of retries of a safe request; 0 means 3,
	// negative disables retries.
	MaxRetries int
	// RetryBaseDelay and RetryMaxDelay shape the full-jitter backoff between
	// retries; defaults 200ms and 5s.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// Rand is the jitter source, returning [0, 1); default math/rand/v2.
	Rand func() float64
	// Sleep waits between retries and for the rate limiter; default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock is the time source (token expiry, rate limiter); default time.Now.
	Clock func() time.Time
	// TokenCache holds the Data API v3 client-credentials tokens; default an
	// in-memory cache private to this Client.
	TokenCache ClientTokenCache
	// ClientTokenRenewBefore is how long before expiry a cached
	// client-credentials token is replaced; default 5 minutes.
	ClientTokenRenewBefore time.Duration
	// ResponseMode is "" (the callback receives a GET with a query string)
	// or "form_post" (the callback receives a form POST).
	ResponseMode string
	// V3Flow selects the v3 journey; default V3HostedPage.
	V3Flow V3Flow
	// MaxResponseBytes bounds response bodies; default 10 MiB.
	MaxResponseBytes int64
	// Observer, when set, is called after every HTTP request with the route
	// pattern (e.g. "POST /connect/token"), the status (0 when no response
	// arrived) and the duration.
	Observer func(endpoint string, status int, d time.Duration)
	// Logger receives debug lines; never token values.
	Logger logr.Logger
}

func (o *Options) validate() error {
	switch o.ResponseMode {
	case "", "form_post":
	default:
		return fmt.Errorf("truelayer: response mode %q: want \"\" or \"form_post\"", o.ResponseMode)
	}
	switch o.V3Flow {
	case "":
		o.V3Flow = V3HostedPage
	case V3HostedPage, V3AuthorizationFlow:
	default:
		return fmt.Errorf("truelayer: v3 flow %q: want %q or %q", o.V3Flow, V3HostedPage, V3AuthorizationFlow)
	}
	for _, u := range []*string{&o.AuthURL, &o.APIURL} {
		*u = strings.TrimRight(*u, "/")
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.TokenCache == nil {
		o.TokenCache = NewMemoryTokenCache()
	}
	if o.ClientTokenRenewBefore <= 0 {
		o.ClientTokenRenewBefore = 5 * time.Minute
	}
	return nil
}

// hosts are the base URLs for one connection.
type hosts struct{ auth, api string }

func (c *Client) hostsFor(env string) (hosts, error) {
	var h hosts
	switch env {
	case "", "Sandbox":
		h = hosts{SandboxAuthURL, SandboxAPIURL}
	case "Live":
		h = hosts{LiveAuthURL, LiveAPIURL}
	default:
		return hosts{}, fmt.Errorf("unknown environment %q (want Sandbox or Live)", env)
	}
	if c.opts.AuthURL != "" {
		h.auth = c.opts.AuthURL
	}
	if c.opts.APIURL != "" {
		h.api = c.opts.APIURL
	}
	return h, nil
}
