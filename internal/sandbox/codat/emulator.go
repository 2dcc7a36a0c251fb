// Package codat emulates the parts of Codat's Platform and Banking APIs that a
// banking client needs: API-key authentication, integrations (banking
// sources), companies, data connections with a link journey, pull operations
// (data/queue, dataStatus, data/history) and the banking accounts, account
// balances, transactions and transaction categories reads. The contract is
// Codat's published OpenAPI documents (../shared/codat-openapi/).
//
// Data comes from package bankdata, so the TrueLayer emulator and this one
// serve the same kind of bank. Time comes from a clock.Clock, so a test with a
// manual clock decides when a pull completes and when a consent expires.
package codat

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
)

// Options configure an Emulator. The zero value of every field but APIKeys has
// a usable default.
type Options struct {
	// APIKeys are the API keys accepted in "Authorization: Basic
	// base64(apiKey)". At least one is required.
	APIKeys []string
	// Clock is the emulator's time source; default the wall clock.
	Clock clock.Clock
	// Seed and DataSize select the bankdata dataset; each connection reads the
	// data of its own bankdata user (see ConnectionInfo.DataUser).
	Seed     int64
	DataSize bankdata.Size
	// DataAnchor is the bankdata anchor; default the clock's time at New,
	// truncated to the day. History reaches back from it.
	DataAnchor time.Time
	// HistoryMonths limits how far back a pull fetches transactions and
	// balances; 0 means the whole history the dataset has.
	HistoryMonths int
	// Logger receives one line per state change; default discards. API keys
	// are never logged.
	Logger *slog.Logger
	// PublicBaseURL is the scheme://host[:port] under which clients reach the
	// emulator, used for linkUrl, redirect and logoUrl. When empty it is
	// derived from each request's Host.
	PublicBaseURL string
	// RedirectURL is where the link journey sends the user when it ends, with
	// Codat's reserved parameters in braces ({companyId}, {connectionId},
	// {statusCode}, {errorMessage}, ...) and any custom parameter that was
	// added to the link URL's query. Default: the emulator's own completion page.
	RedirectURL string
	// PullDuration is how long a pull operation takes from queued to
	// Complete on the emulator's clock; default 2s. Zero-length pulls are not
	// possible; use a manual clock and advance it instead.
	PullDuration time.Duration
	// FetchOnFirstLink lists data types queued automatically when a
	// connection becomes Linked, like Codat's "fetch on first link" setting.
	// Default none: clients queue explicitly.
	FetchOnFirstLink []string
	// ConsentTTL is how long a link lasts before the connection turns
	// Deauthorized (the bank consent expiring); 0 means it never expires.
	ConsentTTL time.Duration
	// Sources are the banking sources offered; default DefaultSources().
	Sources []Source
	// DailyRequestQuota enables Codat's daily rate limit: at most
	// Base + PerLinkedCompany x (companies with a Linked connection) API
	// requests per UTC day, then 429 with Retry-After until midnight UTC.
	// Codat's published figures are 1000 and 1000. Zero Base disables it.
	DailyRequestQuota Quota
	// MaxCompanies, when positive, answers 402 to POST /companies once that
	// many companies exist, like Codat's Free plan limit (50).
	MaxCompanies int
}

// Quota is a daily request quota; see Options.DailyRequestQuota.
type Quota struct {
	Base             int
	PerLinkedCompany int
}

// defaultPullDuration keeps the interactive binary responsive while leaving
// tests with a manual clock something to advance through.
const defaultPullDuration = 2 * time.Second

// Emulator is an in-memory Codat. It is safe for concurrent use.
type Emulator struct {
	keys         map[string]struct{} // accepted base64(apiKey) values
	clock        clock.Clock
	log          *slog.Logger
	baseURLFixed string
	redirectTmpl string
	pullDuration time.Duration
	fetchOnLink  []string
	consentTTL   time.Duration
	sources      []Source
	quota        Quota
	maxCompanies int
	dataOpts     bankdata.Options
	historyMons  int

	mux        *http.ServeMux
	operations map[string]string // mux pattern -> operationId, read-only after New

	mu        sync.RWMutex
	companies map[string]*company
	order     []string // company ids in creation order
	limiter   requestCounter

	datasets  datasetCache
	snapshots snapshotCache
}

// New returns an Emulator configured by opts.
func New(opts Options) (*Emulator, error) {
	if len(opts.APIKeys) == 0 {
		return nil, fmt.Errorf("codat emulator: at least one API key is required")
	}
	e := &Emulator{
		keys:         make(map[string]struct{}, len(opts.APIKeys)),
		clock:        opts.Clock,
		log:          opts.Logger,
		baseURLFixed: strings.TrimRight(opts.PublicBaseURL, "/"),
		redirectTmpl: opts.RedirectURL,
		pullDuration: opts.PullDuration,
		fetchOnLink:  opts.FetchOnFirstLink,
		consentTTL:   opts.ConsentTTL,
		sources:      opts.Sources,
		quota:        opts.DailyRequestQuota,
		maxCompanies: opts.MaxCompanies,
		historyMons:  opts.HistoryMonths,
		companies:    map[string]*company{},
	}
	for _, k := range opts.APIKeys {
		if k == "" {
			return nil, fmt.Errorf("codat emulator: empty API key")
		}
		e.keys[encodeAPIKey(k)] = struct{}{}
	}
	if e.clock == nil {
		e.clock = clock.Real{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.pullDuration <= 0 {
		e.pullDuration = defaultPullDuration
	}
	if e.sources == nil {
		e.sources = DefaultSources()
	}
	for _, s := range e.sources {
		if !platformKeyPattern.MatchString(s.Key) {
			return nil, fmt.Errorf("codat emulator: source key %q is not 4 lowercase letters", s.Key)
		}
	}
	for _, dt := range e.fetchOnLink {
		if !isBankingDataType(dt) {
			return nil, fmt.Errorf("codat emulator: FetchOnFirstLink: %q is not a banking data type", dt)
		}
	}
	size, err := bankdata.ParseSize(string(opts.DataSize))
	if err != nil {
		return nil, fmt.Errorf("codat emulator: %w", err)
	}
	anchor := opts.DataAnchor
	if anchor.IsZero() {
		anchor = e.clock.Now().UTC().Truncate(24 * time.Hour)
	}
	e.dataOpts = bankdata.Options{Seed: opts.Seed, Size: size, Anchor: anchor}
	e.datasets = newBoundedCache[string, *bankdata.Dataset](datasetCacheSize)
	e.snapshots = newBoundedCache[snapshotKey, *snapshot](snapshotCacheSize)
	e.mux = e.routes()
	return e, nil
}

// Handler serves the Codat API paths (/integrations..., /companies...) and the
// link journey (/link/...).
func (e *Emulator) Handler() http.Handler { return e.mux }

// baseURL is the public base URL for links built while serving r.
func (e *Emulator) baseURL(r *http.Request) string {
	if e.baseURLFixed != "" || r == nil {
		return e.baseURLFixed
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func isBankingDataType(dt string) bool {
	for _, b := range bankingDataTypes {
		if b == dt {
			return true
		}
	}
	return false
}
