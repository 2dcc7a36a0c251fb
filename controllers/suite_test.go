package controllers_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
	sandboxcodat "github.com/consent-operator/consent-operator/internal/sandbox/codat"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// The suite runs the whole manager in-process against a real kube-apiserver, and the
// bank sandbox over real HTTP. Operator and sandbox share one controllable clock, so
// tests live through days of token refreshes and a 90-day consent without sleeping.
var (
	env        *testenv.Env
	sb         *sandbox.Server
	sbURL      string
	gatewayURL string
	clk        *clock.Manual
	codatEmu   *sandboxcodat.Emulator
	// managerCache is the manager's cache (TestManagerHoldsTokenSecretsAsMetadataOnly).
	managerCache cache.Cache
)

// t0 is the simulated time the suite starts at.
var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

const (
	testClientID     = "operator-test"
	testClientSecret = "operator-test-secret"
	testCodatAPIKey  = "operator-test-codat-key"
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
	testenv.Main(m, &env, startSandbox, startManager, startGateway)
}

func startSandbox(*testenv.Env) (func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gatewayListener = ln
	gatewayURL = "http://" + ln.Addr().String()
	clk = clock.NewManual(t0)
	sb, err = sandbox.New(sandbox.Options{
		Clients: []sandbox.Client{{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{gatewayURL + "/callback"}}},
		Clock:   clk,
		Seed:    42,
		// Async results complete after the run has recorded its tasks, as with a
		// real provider, so the webhook finds them.
		AsyncDelay: 300 * time.Millisecond,
		// Data API v3 webhooks go to the URI registered in TrueLayer's Console.
		V3WebhookURI: gatewayURL + gateway.V3WebhookPath,
		// One user with two current accounts (Signup+'s multiple_accounts_linked).
		UserDatasetSizes: map[string]bankdata.Size{signupMultiUser: bankdata.SizeLarge},
	})
	if err != nil {
		return nil, fmt.Errorf("starting sandbox: %w", err)
	}
	// Codat's emulator shares the sandbox's address, clock and mock bank.
	if codatEmu, err = sb.MountCodat(sandboxcodat.Options{APIKeys: []string{testCodatAPIKey}}); err != nil {
		return nil, fmt.Errorf("mounting Codat: %w", err)
	}
	hs := httptest.NewServer(sb.Handler())
	// The bank is reached as localhost and the gateway as 127.0.0.1: two sites, as a
	// provider and an operator are, so the browser's SameSite rules apply in full.
	sbURL = strings.Replace(hs.URL, "127.0.0.1", "localhost", 1)
	return func() { hs.Close(); sb.Close() }, nil
}

var gatewayListener net.Listener

func startManager(e *testenv.Env) (func(), error) {
	opts := manager.DefaultOptions()
	opts.MetricsAddr, opts.ProbeAddr = "0", "0"
	opts.TrueLayerAuthURL, opts.TrueLayerAPIURL = sbURL, sbURL
	opts.CodatURL = sbURL
	opts.GatewayPublicURL = gatewayURL
	opts.OperatorNamespace = "default"
	opts.Clock = clk
	opts.PollInterval = 5 * time.Second // well after the sandbox's webhooks (300 ms, retried after 1 s)
	// Notification receivers are test servers on loopback over plain HTTP. The
	// timeout is long, so a delivery stuck behind a hanging destination would show.
	opts.Notifications.AllowHTTP, opts.Notifications.AllowCIDRs = true, "127.0.0.0/8"
	opts.Notifications.Timeout = notificationTimeout
	dir, err := os.MkdirTemp("", "controllers-store-")
	if err != nil {
		return nil, err
	}
	if testStoreDSN, testStore, err = openTestStore(dir); err != nil {
		return nil, err
	}
	opts.Store = testStoreDSN
	if err := serveDataAPI(&opts, dir); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := manager.New(ctx, e.Config, opts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	managerCache = mgr.GetCache()
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() { cancel(); <-done; testStore.Close(); os.RemoveAll(dir) }, nil
}

// startGateway runs the gateway as production does: its own process's manager, under
// its own ServiceAccount with the shipped RBAC (config/rbac/gateway), so every story
// proves the gateway needs no right beyond those.
func startGateway(e *testenv.Env) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg, err := testenv.GatewayConfig(ctx, e.Config, e.Client, "default")
	if err != nil {
		cancel()
		return nil, err
	}
	opts := manager.DefaultGatewayOptions()
	opts.MetricsAddr, opts.ProbeAddr = "0", "0"
	opts.Listener, opts.PublicURL = gatewayListener, gatewayURL
	opts.OperatorNamespace = "default"
	// Every test browser comes from 127.0.0.1: only the per-connection bucket applies
	// here (the per-address one is unit-tested in internal/gateway).
	opts.Limits.PerClient = -1
	// The sandbox signs its webhooks with a key it publishes itself.
	opts.TrueLayerWebhookJWKSSandbox = sbURL + sandbox.WebhookJWKSPath
	opts.Clock = clk
	gw, err := manager.NewGateway(ctx, cfg, opts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("creating the gateway: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- gw.Start(ctx) }()
	return func() { cancel(); <-done }, nil
}
