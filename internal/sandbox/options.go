package sandbox

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
)

// RefreshMode selects what happens to a refresh token when it is used.
type RefreshMode string

const (
	// RefreshRotateInvalidate issues a new refresh token on every refresh and
	// invalidates the old one at once (a reused old token gets invalid_grant).
	RefreshRotateInvalidate RefreshMode = "rotate-invalidate"
	// RefreshRotateGrace issues a new refresh token and keeps the old one
	// usable for Options.RefreshGrace.
	RefreshRotateGrace RefreshMode = "rotate-with-grace"
	// RefreshKeep returns the same refresh token every time (what TrueLayer's
	// sandbox was observed doing).
	RefreshKeep RefreshMode = "keep"
)

// ParseRefreshMode parses a RefreshMode; "" means RefreshRotateInvalidate.
func ParseRefreshMode(s string) (RefreshMode, error) {
	switch m := RefreshMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return RefreshRotateInvalidate, nil
	case RefreshRotateInvalidate, RefreshRotateGrace, RefreshKeep:
		return m, nil
	}
	return "", fmt.Errorf("unknown refresh-token mode %q (want %s, %s or %s)", s, RefreshRotateInvalidate, RefreshRotateGrace, RefreshKeep)
}

// TokenAlgorithm is the JWS algorithm of issued access tokens.
type TokenAlgorithm string

const (
	// AlgRS256 signs with a 2048-bit RSA key, as TrueLayer does (default).
	AlgRS256 TokenAlgorithm = "RS256"
	// AlgES256 signs with a P-256 key. Not what TrueLayer does: a documented
	// deviation for scale tests, where RSA signing (about 1 ms per token)
	// would make the sandbox the bottleneck. The key is still published as
	// JWKS.
	AlgES256 TokenAlgorithm = "ES256"
)

// Client is a registered API client (what TrueLayer's Console holds).
type Client struct {
	ID     string
	Secret string
	// Name is the application's name, shown to the user on the consent screen
	// (the Console's application name); the client id means nothing to them.
	Name         string
	RedirectURIs []string
}

// unnamedApplication is what the consent screen says for a client without a Name.
const unnamedApplication = "An unnamed application"

// ParseClient parses "ID:SECRET:REDIRECT_URI[,REDIRECT_URI...]", splitting on
// the first two colons only, because redirect URIs contain colons.
func ParseClient(s string) (Client, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Client{}, fmt.Errorf("client %q: want ID:SECRET:REDIRECT_URI[,REDIRECT_URI...]", redactClientSpec(s))
	}
	c := Client{ID: parts[0], Secret: parts[1]}
	for _, u := range strings.Split(parts[2], ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme == "" || pu.Host == "" {
			return Client{}, fmt.Errorf("client %q: redirect URI %q is not an absolute URL", c.ID, u)
		}
		c.RedirectURIs = append(c.RedirectURIs, u)
	}
	if len(c.RedirectURIs) == 0 {
		return Client{}, fmt.Errorf("client %q: no redirect URI", c.ID)
	}
	return c, nil
}

// redactClientSpec keeps the client id of a client spec and hides the secret.
func redactClientSpec(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i] + ":***"
	}
	return s
}

// Options configure a Server. The zero value of every field has a sensible default.
type Options struct {
	// Clients are the registered API clients.
	Clients []Client
	// Clock is the sandbox's time source; default clock.NewOffset() (wall
	// clock, shiftable through the admin API).
	Clock clock.Controllable
	// Seed and DatasetSize determine the mock bank's data (see bankdata).
	Seed        int64
	DatasetSize bankdata.Size
	// UserDatasetSizes sets the dataset size of particular mock users (e.g. one user
	// with two current accounts, for Signup+'s multiple_accounts_linked); the others
	// get DatasetSize.
	UserDatasetSizes map[string]bankdata.Size
	// DatasetAnchor anchors the generated history; default: the clock's time at New.
	DatasetAnchor time.Time
	// RefreshMode selects refresh-token rotation; default RefreshRotateInvalidate.
	RefreshMode RefreshMode
	// RefreshGrace is how long an old refresh token stays valid in
	// RefreshRotateGrace mode; default 60s.
	RefreshGrace time.Duration
	// ConsentDuration is the length of a consent; default 90 days.
	ConsentDuration time.Duration
	// AccessTokenTTL is the access tokens' lifetime; default 1h.
	AccessTokenTTL time.Duration
	// AuthCodeTTL is the authorization codes' lifetime; default 5 minutes.
	AuthCodeTTL time.Duration
	// TokenAlgorithm is the access tokens' signature algorithm; default AlgRS256.
	TokenAlgorithm TokenAlgorithm
	// InvalidateOldAccessTokens makes only the most recently issued access
	// token of a connection valid (TrueLayer support: "only the last
	// access_token is valid"); default false: every unexpired token works.
	InvalidateOldAccessTokens bool
	// UnattendedLimit is the number of unattended calls allowed per
	// connection, account and endpoint in 24 hours; default 4; negative
	// disables the limit.
	UnattendedLimit int
	// SCAWindow is how long after the user authenticated transactions older
	// than SCAHistory may be read; default 5 minutes.
	SCAWindow time.Duration
	// SCAHistory is the history depth readable outside the SCA window; default 90 days.
	SCAHistory time.Duration
	// MaxHistory is the oldest `from` accepted; older answers invalid_date_range. Default 60 months.
	MaxHistory time.Duration
	// OneTimeAccessWindow is how long after authorisation a Data API v3
	// connection with data_access_type one_time may read data; default 1h.
	OneTimeAccessWindow time.Duration
	// NewAccountIDsOnReconsent makes every re-consent (re-authorisation of an
	// existing connection) issue new ids for the same accounts and cards, as
	// TrueLayer may; the transactions, balances and numbers stay as they were.
	// Default false: ids survive re-consents. SetNewAccountIDsOnReconsent sets it
	// for one connection.
	NewAccountIDsOnReconsent bool
	// AsyncDelay delays async task completion and webhooks (wall clock); default 0.
	AsyncDelay time.Duration
	// V3WebhookURI receives Data API v3 webhooks (what is configured in Console); optional.
	V3WebhookURI string
	// Issuer is the "iss" of access tokens; default https://auth.truelayer-sandbox.com.
	Issuer string
	// PublicURL is the externally visible base URL used in links (results_uri,
	// user_input_link, hosted pages); default: derived from each request's Host.
	PublicURL string
	// Logger receives one line per request (never token values); default: discard.
	Logger *slog.Logger
	// Extra handlers mounted on the server (pattern -> handler), wrapped by
	// the same logging, fault-injection and call-counting middleware. See Mount.
	Extra map[string]http.Handler
}

func (o *Options) setDefaults() error {
	if o.Clock == nil {
		o.Clock = clock.NewOffset()
	}
	if o.DatasetSize == "" {
		o.DatasetSize = bankdata.SizeMedium
	}
	if _, err := bankdata.ParseSize(string(o.DatasetSize)); err != nil {
		return err
	}
	for user, size := range o.UserDatasetSizes {
		if _, err := bankdata.ParseSize(string(size)); err != nil {
			return fmt.Errorf("dataset size of %s: %w", user, err)
		}
	}
	if o.DatasetAnchor.IsZero() {
		o.DatasetAnchor = o.Clock.Now()
	}
	m, err := ParseRefreshMode(string(o.RefreshMode))
	if err != nil {
		return err
	}
	o.RefreshMode = m
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RefreshGrace, time.Minute)
	def(&o.ConsentDuration, 90*24*time.Hour)
	def(&o.AccessTokenTTL, time.Hour)
	def(&o.AuthCodeTTL, 5*time.Minute)
	def(&o.SCAWindow, 5*time.Minute)
	def(&o.SCAHistory, 90*24*time.Hour)
	def(&o.MaxHistory, 60*31*24*time.Hour)
	def(&o.OneTimeAccessWindow, time.Hour)
	switch o.TokenAlgorithm {
	case "":
		o.TokenAlgorithm = AlgRS256
	case AlgRS256, AlgES256:
	default:
		return fmt.Errorf("unknown token algorithm %q (want RS256 or ES256)", o.TokenAlgorithm)
	}
	if o.UnattendedLimit == 0 {
		o.UnattendedLimit = 4
	}
	if o.Issuer == "" {
		o.Issuer = "https://auth.truelayer-sandbox.com"
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	seen := map[string]bool{}
	for _, c := range o.Clients {
		if c.ID == "" || c.Secret == "" || len(c.RedirectURIs) == 0 {
			return fmt.Errorf("client %q: id, secret and at least one redirect URI are required", c.ID)
		}
		if seen[c.ID] {
			return fmt.Errorf("client %q registered twice", c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}
