// Command bank-sandbox runs the bank sandbox: an emulator of TrueLayer's auth
// server, Data API v1/v3 and Signup+ on one address, with an admin API under
// /sandbox-admin/. See internal/sandbox/README.md.
//
//	bank-sandbox --addr 127.0.0.1:8480 --client sandbox-demo:secret:http://localhost/cb
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/sandbox/codat"
)

type clientFlags []string

func (c *clientFlags) String() string     { return fmt.Sprintf("%d clients", len(*c)) }
func (c *clientFlags) Set(v string) error { *c = append(*c, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bank-sandbox:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("bank-sandbox", flag.ContinueOnError)
	var clients, codatKeys clientFlags
	addr := fs.String("addr", "127.0.0.1:8480", "listen address (loopback)")
	fs.Var(&clients, "client", "registered client ID:SECRET:REDIRECT_URI[,REDIRECT_URI...] (repeatable)")
	configPath := fs.String("config", "", "configuration file (JSON or YAML)")
	seed := fs.Int64("seed", 1, "seed of the generated bank data")
	size := fs.String("dataset-size", "medium", "dataset size: small, medium or large")
	refreshMode := fs.String("refresh-token-mode", "rotate-invalidate", "refresh tokens: rotate-invalidate, rotate-with-grace or keep")
	refreshGrace := fs.Duration("refresh-grace", time.Minute, "grace period of a rotated refresh token (rotate-with-grace)")
	consent := fs.Duration("consent-duration", 90*24*time.Hour, "consent length")
	alg := fs.String("token-alg", "RS256", "access token algorithm: RS256 (as TrueLayer) or ES256 (faster, for scale tests)")
	publicURL := fs.String("public-url", "", "externally visible base URL (default: from the request's Host)")
	v3Webhook := fs.String("v3-webhook-uri", "", "URI receiving Data API v3 webhooks")
	fs.Var(&codatKeys, "codat-api-key", "API key accepted by the Codat emulator (repeatable; none: Codat disabled)")
	unattended := fs.Int("unattended-limit", 4, "unattended calls per account and endpoint per 24h (0 or negative: unlimited)")
	newIDs := fs.Bool("new-account-ids-on-reconsent", false, "a re-consent issues new ids for the same accounts and cards")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	opts := sandbox.Options{Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil))}
	if *configPath != "" {
		cfg, err := loadConfig(*configPath)
		if err != nil {
			return err
		}
		if cfg.Addr != "" && !set["addr"] {
			*addr = cfg.Addr
		}
		if cfg.Seed != nil && !set["seed"] {
			*seed = *cfg.Seed
		}
		overrideString(set, "dataset-size", size, cfg.DatasetSize)
		overrideString(set, "refresh-token-mode", refreshMode, cfg.RefreshMode)
		overrideString(set, "token-alg", alg, cfg.TokenAlgorithm)
		overrideString(set, "public-url", publicURL, cfg.PublicURL)
		overrideString(set, "v3-webhook-uri", v3Webhook, cfg.V3WebhookURI)
		if err := overrideDuration(set, "refresh-grace", refreshGrace, cfg.RefreshGrace); err != nil {
			return err
		}
		if err := overrideDuration(set, "consent-duration", consent, cfg.ConsentDuration); err != nil {
			return err
		}
		if cfg.UnattendedLimit != nil && !set["unattended-limit"] {
			*unattended = *cfg.UnattendedLimit
		}
		if cfg.NewAccountIDsOnReconsent != nil && !set["new-account-ids-on-reconsent"] {
			*newIDs = *cfg.NewAccountIDsOnReconsent
		}
		for _, c := range cfg.Clients {
			opts.Clients = append(opts.Clients, sandbox.Client{ID: c.ID, Secret: c.Secret, Name: c.Name, RedirectURIs: c.RedirectURIs})
		}
	}
	for _, spec := range clients {
		c, err := sandbox.ParseClient(spec)
		if err != nil {
			return err
		}
		opts.Clients = append(opts.Clients, c)
	}
	if len(opts.Clients) == 0 {
		return errors.New("at least one --client ID:SECRET:REDIRECT_URI (or a config file with clients) is required")
	}
	ds, err := bankdata.ParseSize(*size)
	if err != nil {
		return err
	}
	mode, err := sandbox.ParseRefreshMode(*refreshMode)
	if err != nil {
		return err
	}
	if *unattended == 0 {
		*unattended = -1 // 0 on the command line means "no limit"
	}
	opts.Seed, opts.DatasetSize, opts.RefreshMode, opts.RefreshGrace = *seed, ds, mode, *refreshGrace
	opts.ConsentDuration, opts.TokenAlgorithm, opts.PublicURL = *consent, sandbox.TokenAlgorithm(*alg), *publicURL
	opts.V3WebhookURI, opts.UnattendedLimit, opts.NewAccountIDsOnReconsent = *v3Webhook, *unattended, *newIDs

	srv, err := sandbox.New(opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	if len(codatKeys) > 0 {
		if _, err := srv.MountCodat(codat.Options{APIKeys: codatKeys}); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown) // best effort on exit
	}()
	ids := make([]string, len(opts.Clients))
	for i, c := range opts.Clients {
		ids[i] = c.ID
	}
	opts.Logger.Info("bank sandbox listening", "addr", ln.Addr().String(), "clients", ids, "codat", len(codatKeys) > 0, "seed", *seed,
		"dataset_size", string(ds), "refresh_token_mode", string(mode), "consent_duration", consent.String())
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func overrideString(set map[string]bool, name string, dst *string, v string) {
	if v != "" && !set[name] {
		*dst = v
	}
}

func overrideDuration(set map[string]bool, name string, dst *time.Duration, v string) error {
	if v == "" || set[name] {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("config %s: %w", name, err)
	}
	*dst = d
	return nil
}
