package codat

import (
	"fmt"
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

// Options configure a Client. Zero values select the defaults.
type Options struct {
	// BaseURL is the Codat API host; default DefaultBaseURL (the bank sandbox
	// serves the same paths).
	BaseURL string
	// HTTP configures the requests to Codat: client, timeout, rate limit,
	// retries, body bound and observer. Its Now is the Client's time source
	// too (FetchedAt); default time.Now.
	HTTP httpx.Options
	// PageSize is the page size of list reads; default DefaultPageSize.
	PageSize int
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
	if o.HTTP.Now == nil {
		o.HTTP.Now = time.Now
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.PageSize > 5000 {
		return fmt.Errorf("codat: page size %d: Codat accepts at most 5000", o.PageSize)
	}
	return nil
}
