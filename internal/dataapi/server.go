package dataapi

import (
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Store is what the API reads and erases with.
type Store interface {
	store.Reader
	DeleteUser(ctx context.Context, user store.UserKey) (store.Erased, error)
}

// Server is the data API, a manager Runnable served on every replica (reads are
// answered from the store and the cache, which every replica has).
type Server struct {
	Store Store
	// Connections reads BankConnections (the manager's cache).
	Connections client.Reader
	Guard       *Guard
	// Addr is where it listens, unless Listener is set (tests).
	Addr     string
	Listener net.Listener
	// CertDir holds CertName and KeyName, watched for renewals; empty means a
	// self-signed certificate made at start.
	CertDir, CertName, KeyName string
	Log                        logr.Logger
}

//go:embed openapi.json
var openAPIDocument []byte

// Handler routes the API's operations, each behind the guard, and the document.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes() {
		mux.Handle(rt.pattern(), s.guarded(rt))
	}
	mux.HandleFunc("GET "+OpenAPIPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDocument)
	})
	return mux
}

// guarded authenticates and authorizes before anything is read, so a refused
// caller's answer cannot depend on what exists.
func (s *Server) guarded(rt route) http.Handler {
	log := s.Log.WithValues("operation", rt.id)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ns, name := r.PathValue("namespace"), r.PathValue("name")
		d, err := s.Guard.check(ctx, r, rt.verb, ns, name)
		switch {
		case d == unauthenticated:
			log.V(1).Info("Request refused: not authenticated", "reason", fmt.Sprint(err))
			writeError(w, errUnauthorized)
			return
		case err != nil:
			log.Error(err, "Authorization could not be decided")
			writeError(w, err)
			return
		case d == forbidden:
			log.V(1).Info("Request refused: not authorized", "namespace", ns, "verb", rt.verb)
			writeError(w, errForbidden)
			return
		}
		var sc *scope
		if rt.prefix == connectionPrefix {
			sc, err = s.connectionScope(ctx, ns, name)
		} else {
			sc, err = s.userScope(ctx, ns, r.PathValue("userRef"))
		}
		var body any
		if err == nil {
			body, err = rt.serve(s, r, sc)
		}
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) {
				log.Error(err, "Request failed", "namespace", ns)
			}
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
}

// Start serves HTTPS until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	tlsConfig, watcher, err := s.tlsConfig()
	if err != nil {
		return err
	}
	if watcher != nil {
		go func() {
			if err := watcher.Start(ctx); err != nil {
				s.Log.Error(err, "Serving certificate watcher stopped")
			}
		}()
	}
	ln := s.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", s.Addr); err != nil {
			return fmt.Errorf("data API: listen on %s: %w", s.Addr, err)
		}
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	s.Log.Info("Data API listening", "address", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("data API: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("data API: shutdown: %w", err)
	}
	return nil
}

// NeedLeaderElection is false: every replica answers.
func (s *Server) NeedLeaderElection() bool { return false }

// tlsConfig serves the certificate of CertDir (reloaded when renewed) or a
// self-signed one. HTTP/2 is off, as on the metrics endpoint: JSON pages need
// HTTP/1.1 only, and it keeps the port out of the HTTP/2 stream-reset attacks.
func (s *Server) tlsConfig() (*tls.Config, *certwatcher.CertWatcher, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if s.CertDir == "" {
		certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("consent-operator-data-api", []net.IP{{127, 0, 0, 1}}, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("data API: self-signed certificate: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("data API: self-signed certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
		return cfg, nil, nil
	}
	w, err := certwatcher.New(filepath.Join(s.CertDir, s.CertName), filepath.Join(s.CertDir, s.KeyName))
	if err != nil {
		return nil, nil, fmt.Errorf("data API: serving certificate: %w", err)
	}
	cfg.GetCertificate = w.GetCertificate
	return cfg, w, nil
}
