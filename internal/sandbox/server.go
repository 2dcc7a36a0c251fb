package sandbox

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
	"github.com/consent-operator/consent-operator/internal/webhooksig"
)

// Server is the bank sandbox: TrueLayer's auth server, Data API v1 and v3 and
// Signup+ on one address, plus the admin API under /sandbox-admin/ and any
// handlers mounted with Mount. It is safe for concurrent use.
type Server struct {
	opts   Options
	clock  clock.Controllable
	log    *slog.Logger
	signer *signer
	// webhookSigner signs webhooks (Tl-Signature, ES512), a key apart from the
	// access tokens' as at TrueLayer.
	webhookSigner *webhooksig.Signer
	clients       map[string]Client
	mux           *http.ServeMux
	handler       http.Handler

	calls   *counters
	faults  faultSet
	txCache txCache

	connections *shardedMap[*connection]
	refresh     *shardedMap[*refreshEntry]

	mu       sync.Mutex // guards the maps below
	codes    map[string]*authCode
	sessions map[string]*authSession
	tasks    map[string]*asyncTask
	v3conns  map[string]*v3Connection
	v3reqs   map[string]*v3Request
	datasets map[string]*bankdata.Dataset
	debugIDs map[string]string // debug id -> credentials id

	closing   chan struct{}
	closeOnce sync.Once
	// webhooksOff suppresses async webhook delivery (SetWebhookDelivery).
	webhooksOff atomic.Bool
	bg          sync.WaitGroup
	webhooks    *http.Client
}

// New creates a sandbox.
func New(opts Options) (*Server, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, fmt.Errorf("sandbox options: %w", err)
	}
	sg, err := newSigner(opts.TokenAlgorithm)
	if err != nil {
		return nil, fmt.Errorf("sandbox signing key: %w", err)
	}
	wsg, err := webhooksig.NewSigner("")
	if err != nil {
		return nil, fmt.Errorf("sandbox webhook signing key: %w", err)
	}
	s := &Server{
		opts:          opts,
		clock:         opts.Clock,
		log:           opts.Logger,
		signer:        sg,
		webhookSigner: wsg,
		clients:       map[string]Client{},
		mux:           http.NewServeMux(),
		calls:         newCounters(),
		connections:   newShardedMap[*connection](),
		refresh:       newShardedMap[*refreshEntry](),
		codes:         map[string]*authCode{},
		sessions:      map[string]*authSession{},
		tasks:         map[string]*asyncTask{},
		v3conns:       map[string]*v3Connection{},
		v3reqs:        map[string]*v3Request{},
		datasets:      map[string]*bankdata.Dataset{},
		debugIDs:      map[string]string{},
		closing:       make(chan struct{}),
		webhooks:      &http.Client{Timeout: 10 * time.Second},
	}
	for _, c := range opts.Clients {
		s.clients[c.ID] = c
	}
	s.routes()
	for pattern, h := range opts.Extra {
		if err := s.Mount(pattern, h); err != nil {
			return nil, err
		}
	}
	s.handler = s.mux
	return s, nil
}

// Handler returns the sandbox's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Mount serves h for pattern (a net/http ServeMux pattern, e.g.
// "/companies/" or "GET /integrations") on the sandbox's address, wrapped by
// the same request logging, fault injection and call counting as the
// TrueLayer routes. The call counts use the most specific route pattern the
// request matched (an inner ServeMux's pattern when h is one). Handlers can
// attribute calls with Annotate. Mount must be called before serving.
func (s *Server) Mount(pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("mount %q: %v", pattern, p)
		}
	}()
	s.mux.Handle(pattern, s.wrap(famExtra, h))
	return nil
}

// Close stops background work (async tasks, webhook deliveries).
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.bg.Wait()
}

// Clock returns the sandbox's clock.
func (s *Server) Clock() clock.Controllable { return s.clock }

// Now is the sandbox's current time.
func (s *Server) Now() time.Time { return s.clock.Now() }

// JWKS returns the JSON Web Key Set with the access-token signing key.
func (s *Server) JWKS() []byte { return append([]byte(nil), s.signer.jwks...) }

func (s *Server) handle(fam family, pattern string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.wrap(fam, h))
}

func (s *Server) routes() {
	// Auth server (auth.truelayer.com).
	s.handle(famAuthUI, "GET /{$}", s.handleAuthDialog)
	s.handle(famAuthUI, "POST /auth/select", s.handleAuthSelect)
	s.handle(famAuthUI, "POST /auth/consent", s.handleAuthConsent)
	s.handle(famAuthUI, "POST /auth/login", s.handleAuthLogin)
	s.handle(famAuthUI, "GET /hosted/data/{connection_id}", s.handleV3HostedPage)
	s.handle(famV1, "POST /connect/token", s.handleToken)
	s.handle(famV1, "GET /.well-known/jwks.json", s.handleJWKS)
	s.handle(famV1, "GET "+WebhookJWKSPath, s.handleWebhookJWKS)
	s.handle(famV1, "GET /api/providers", s.handleProviders)
	s.handle(famV1, "DELETE /api/delete", s.handleDelete)
	s.handle(famV1, "POST /api/debug", s.handleDebugID)
	s.handle(famV1, "POST /v1/reauthuri", s.handleReauthURI)

	// Data API v1 (api.truelayer.com/data/v1).
	s.handle(famV1, "GET /data/v1/me", s.dataV1(epMe))
	s.handle(famV1, "GET /data/v1/info", s.dataV1(epInfo))
	s.handle(famV1, "GET /data/v1/accounts", s.dataV1(epAccounts))
	s.handle(famV1, "GET /data/v1/accounts/{account_id}", s.dataV1(epAccount))
	s.handle(famV1, "GET /data/v1/accounts/{account_id}/balance", s.dataV1(epAccountBalance))
	s.handle(famV1, "GET /data/v1/accounts/{account_id}/transactions", s.dataV1(epAccountTransactions))
	s.handle(famV1, "GET /data/v1/accounts/{account_id}/transactions/pending", s.dataV1(epAccountPending))
	s.handle(famV1, "GET /data/v1/accounts/{account_id}/standing_orders", s.dataV1(epStandingOrders))
	s.handle(famV1, "GET /data/v1/accounts/{account_id}/direct_debits", s.dataV1(epDirectDebits))
	s.handle(famV1, "GET /data/v1/cards", s.dataV1(epCards))
	s.handle(famV1, "GET /data/v1/cards/{account_id}", s.dataV1(epCard))
	s.handle(famV1, "GET /data/v1/cards/{account_id}/balance", s.dataV1(epCardBalance))
	s.handle(famV1, "GET /data/v1/cards/{account_id}/transactions", s.dataV1(epCardTransactions))
	s.handle(famV1, "GET /data/v1/cards/{account_id}/transactions/pending", s.dataV1(epCardPending))
	s.handle(famV1, "GET /data/v1/results/{task_id}", s.handleResults)
	s.handle(famExtend, "POST /connections/extend", s.handleExtend)
	s.handle(famExtend, "POST /data/v1/connections/extend", s.handleExtend)

	// Data API v3.
	s.handle(famV3, "POST /v3/data-connections", s.handleV3Create)
	s.handle(famV3, "GET /v3/data-connections/{connection_id}/user-info", s.handleV3UserInfo)
	s.handle(famV3, "GET /v3/connected-accounts", s.handleV3Accounts)
	s.handle(famV3, "POST /v3/connected-accounts/{account_id}/transactions/requests", s.handleV3CreateTxRequest)
	s.handle(famV3, "GET /v3/connected-accounts/{account_id}/transactions/requests/{request_id}", s.handleV3GetTxRequest)

	// Signup+.
	s.handle(famSignup, "GET /signup-plus/accounts", s.handleSignupAccounts)

	s.adminRoutes()
}
