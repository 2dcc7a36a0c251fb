package codat

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

// DefaultBaseURL is Codat's API host (providers-api.md §7). Codat has one host
// for every environment: the API key decides which account is used.
const DefaultBaseURL = "https://api.codat.io"

// DefaultPageSize is the page size asked for when reading lists. Codat accepts
// up to 5000 but its paging schema reports at most 2000.
const DefaultPageSize = 1000

// RateLimit bounds the requests per second to the Codat host.
type RateLimit = httpx.RateLimit

// Options configure a Client. Zero values select the defaults.
type Options struct {
	// BaseURL is the Codat API host; default DefaultBaseURL (the bank sandbox
	// serves the same paths).
	BaseURL string
	// HTTPClient is reused for every request; default one that does not
	// follow redirects.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt; default 30s.
	Timeout time.Duration
	// RateLimit bounds requests per second to the host; default 20/s, burst 40.
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
	// Clock is the time source (FetchedAt, Retry-After dates, the rate
	// limiter); default time.Now.
	Clock func() time.Time
	// PageSize is the page size of list reads; default DefaultPageSize.
	PageSize int
	// MaxResponseBytes bounds response bodies; default 10 MiB.
	MaxResponseBytes int64
	// Observer, when set, is called after every HTTP request with the route
	// pattern (e.g. "GET /companies/{companyId}/dataStatus"), the status (0
	// when no response arrived) and the duration.
	Observer func(endpoint string, status int, d time.Duration)
	// Logger receives debug lines; never the API key.
	Logger logr.Logger
	// DeleteCompany makes Revoke delete the whole Codat company instead of
	// only its data connection, for every connection. A connection can ask
	// for it on its own with provider.Connection.CodatDeleteCompany.
	DeleteCompany bool
}

func (o *Options) validate() error {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("codat: base URL %q: want an absolute http(s) URL", o.BaseURL)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.PageSize > 5000 {
		return fmt.Errorf("codat: page size %d: Codat accepts at most 5000", o.PageSize)
	}
	return nil
}
