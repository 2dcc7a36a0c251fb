package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/consent-operator/consent-operator/internal/clock"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// Server is the gateway. It runs as a manager Runnable on every replica: callbacks
// may reach any of them, and its one write is optimistic-locked.
type Server struct {
	// Client reads through the manager's cache and patches status.handoff.
	Client client.Client
	// Reader reads the apiserver directly, only after the cache has accepted a
	// callback and the handoff write lost an optimistic lock.
	Reader client.Reader
	// Journeys opens states and tickets and seals codes for the reconciler.
	Journeys *journey.Keys
	// PublicURL is how users and providers reach the gateway, e.g. https://banking.example.com.
	PublicURL string
	// Addr is the listen address, e.g. ":8082".
	Addr string
	// Listener, when set, is served instead of listening on Addr.
	Listener net.Listener
	Clock    Clock
	Recorder events.EventRecorder
	Log      logr.Logger
	// Limits bound requests per client address and per connection.
	Limits Limits
	// OutcomeWait bounds how long the outcome page waits for the reconciler before it
	// says the connection is being finished (and refreshes itself).
	OutcomeWait time.Duration
	// CodeLifetime is how long a provider's authorization code can be redeemed.
	CodeLifetime time.Duration
	// LinkGrace is how long /connect waits for its cache to show an unknown link.
	LinkGrace time.Duration

	limiter *limiter
	// extra handlers mounted by other features (SyncJob webhooks).
	extra map[string]http.Handler
}

// Defaults for the zero values of Server's tunables.
const (
	DefaultOutcomeWait  = 10 * time.Second
	DefaultCodeLifetime = 5 * time.Minute
	// journeyCookieTTL bounds the browser cookie: longer than any journey at a bank.
	journeyCookieTTL = time.Hour
	// stateTTL bounds a state: the user's time at the provider.
	stateTTL = time.Hour
)

// Handle mounts an additional handler on the gateway (before Start).
func (s *Server) Handle(pattern string, h http.Handler) {
	if s.extra == nil {
		s.extra = map[string]http.Handler{}
	}
	s.extra[pattern] = h
}

// Links are the gateway's public URLs.
func (s *Server) Links() Links { return Links{PublicURL: s.PublicURL, Keys: s.Journeys} }

func (s *Server) base() string { return s.Links().base() }

// secure is true when users reach the gateway over https: the cookie is then Secure
// and carries the __Host- prefix.
func (s *Server) secure() bool { return strings.HasPrefix(s.PublicURL, "https://") }

// Handler returns the gateway's routes, every response with the security headers.
func (s *Server) Handler() http.Handler {
	if s.limiter == nil {
		s.limiter = newLimiter(s.Limits)
	}
	mux := http.NewServeMux()
	// Every page a browser opens is under the per-client rate limit (limited).
	mux.HandleFunc("GET /connect/{secret}", s.limited(s.connect))
	mux.HandleFunc("GET /connect/{secret}/banks", s.limited(s.banks))
	// Any other shape of connect link (the old /connect/{namespace}/{name} included)
	// gets the same neutral page as an unknown secret.
	mux.HandleFunc("GET /connect/", func(w http.ResponseWriter, r *http.Request) { s.refuse(w, r, "malformed link", pageInvalidLink) })
	mux.HandleFunc("GET /callback", s.limited(s.callback))
	mux.HandleFunc("POST /callback", s.limited(s.callback))
	mux.HandleFunc("GET /outcome/{ticket}", s.limited(s.outcome))
	mux.HandleFunc("GET /reauth/{ticket}", s.limited(s.reauth))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	for p, h := range s.extra {
		mux.Handle(p, h)
	}
	return withSecurityHeaders(mux)
}

// Start serves until ctx is cancelled (manager.Runnable).
func (s *Server) Start(ctx context.Context) error {
	ln := s.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.Addr); err != nil {
			return fmt.Errorf("gateway listening on %s: %w", s.Addr, err)
		}
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.Log.Info("Gateway serving", "addr", ln.Addr().String(), "publicURL", s.PublicURL)
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("gateway: %w", err)
	}
}

// NeedLeaderElection is false: every replica serves callbacks and webhooks.
func (s *Server) NeedLeaderElection() bool { return false }

// Clock tells the time; tests pass a controllable one shared with the bank sandbox.
type Clock = clock.Clock

func (s *Server) outcomeWait() time.Duration {
	if s.OutcomeWait > 0 {
		return s.OutcomeWait
	}
	return DefaultOutcomeWait
}

func (s *Server) codeLifetime() time.Duration {
	if s.CodeLifetime > 0 {
		return s.CodeLifetime
	}
	return DefaultCodeLifetime
}
