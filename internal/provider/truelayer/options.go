package truelayer

import (
	"fmt"
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
	// HTTP configures the requests to TrueLayer: client, timeout, rate limit
	// (per host), retries, body bound and observer. Its Now is the Client's
	// time source too (token expiry); its Sleep paces v3 polling. Default
	// clock time.Now.
	HTTP httpx.Options
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
	if o.HTTP.Now == nil {
		o.HTTP.Now = time.Now
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
