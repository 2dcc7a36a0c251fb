package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// Server is the gateway. It implements the reconciler's Links and runs as a manager
// Runnable on every replica (callbacks may reach any of them; its writes use
// optimistic locks).
type Server struct {
	// Client writes and reads through the manager's cache.
	Client client.Client
	// Reader reads the apiserver directly (a callback must see the latest nonce).
	Reader    client.Reader
	Providers provider.Registry
	Tokens    *tokensecret.Store
	Key       StateKey
	// PublicURL is how users and providers reach the gateway, e.g. https://banking.example.com.
	PublicURL string
	// Addr is the listen address, e.g. ":8082".
	Addr string
	// Listener, when set, is served instead of listening on Addr.
	Listener net.Listener
	Clock    Clock
	Recorder events.EventRecorder
	Log      logr.Logger

	// extra handlers mounted by other features (SyncJob webhooks).
	extra map[string]http.Handler
}

// Handle mounts an additional handler on the gateway (before Start).
func (s *Server) Handle(pattern string, h http.Handler) {
	if s.extra == nil {
		s.extra = map[string]http.Handler{}
	}
	s.extra[pattern] = h
}

// SignState signs an OAuth state.
func (s *Server) SignState(st State) (string, error) { return s.Key.Sign(st) }

// ConnectURL is the stable link handed to users for a connection.
func (s *Server) ConnectURL(namespace, name string) string {
	return strings.TrimRight(s.PublicURL, "/") + "/connect/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

// CallbackURL is the OAuth redirect URI registered with the providers.
func (s *Server) CallbackURL() string { return strings.TrimRight(s.PublicURL, "/") + "/callback" }

// Handler returns the gateway's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /connect/{namespace}/{name}", s.connect)
	mux.HandleFunc("GET /callback", s.callback)
	mux.HandleFunc("POST /callback", s.callback)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	for p, h := range s.extra {
		mux.Handle(p, h)
	}
	return mux
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
type Clock interface{ Now() time.Time }
