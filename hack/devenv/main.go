// Command devenv is `make dev`: a local control plane (etcd and kube-apiserver built
// from Go modules), the CRDs, the bank sandbox and the manager running in-process, and
// the samples applied. It prints the kubeconfig path and the commands to try.
//
// SIGINT, SIGTERM and SIGHUP (Ctrl-C, kill, a closed terminal) stop everything it
// started, the manager first and the control plane last, and it exits 0. etcd and
// kube-apiserver run in process groups of their own (envtest's choice), so a signal to
// the terminal's group does not reach them: devenv must stop them, or they outlive it.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/repo"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/codat"
	"github.com/consent-operator/consent-operator/internal/scheme"
	"github.com/consent-operator/consent-operator/internal/store/open"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// keepStoreEnv keeps the SQLite store of earlier runs, like --keep-store.
const keepStoreEnv = "CONSENT_OPERATOR_DEV_KEEP_STORE"

func main() {
	// Registered before anything starts, and kept until the end: a signal at any
	// moment, also a second one during shutdown, lets run stop what it started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "devenv:", err)
		os.Exit(1)
	}
}

// run starts everything and blocks until ctx ends (a signal: a clean stop, nil) or the
// manager fails. Whatever started is stopped, in reverse order, before it returns.
func run(ctx context.Context, args []string) (err error) {
	opts := manager.DefaultOptions()
	// Loopback only, for curl without a token; --metrics-secure turns authentication on.
	opts.MetricsAddr, opts.MetricsSecure = "127.0.0.1:8080", false
	opts.ProbeAddr = "127.0.0.1:8081"
	opts.DataAPIAddr = "127.0.0.1:8444"
	opts.GatewayPublicURL = "http://127.0.0.1:8082"
	opts.OperatorNamespace = "default"
	gwOpts := manager.DefaultGatewayOptions()
	gwOpts.Addr, gwOpts.PublicURL = "127.0.0.1:8082", opts.GatewayPublicURL
	gwOpts.MetricsSecure = false
	gwOpts.OperatorNamespace = opts.OperatorNamespace
	opts.DataDir = "" // under --dir unless --data-dir is given
	fs := flag.NewFlagSet("devenv", flag.ContinueOnError)
	opts.BindFlags(fs)
	fs.StringVar(&gwOpts.Addr, "gateway-bind-address", gwOpts.Addr, "Address the gateway listens on.")
	fs.StringVar(&gwOpts.MetricsAddr, "gateway-metrics-bind-address", "127.0.0.1:8083", "Address of the gateway's metrics (plain HTTP, loopback); \"0\" disables them.")
	fs.StringVar(&gwOpts.ProbeAddr, "gateway-health-probe-bind-address", "127.0.0.1:8084", "Address of the gateway's /healthz and /readyz; \"0\" disables them.")
	dir := fs.String("dir", "", "Directory of the kubeconfig and the SQLite store (default: bin/dev in the repository).")
	keepDefault, _ := strconv.ParseBool(os.Getenv(keepStoreEnv))
	keepStore := fs.Bool("keep-store", keepDefault, "Keep the SQLite store of earlier runs instead of starting with an empty one (also $"+keepStoreEnv+"=true).")
	noSamples := fs.Bool("no-samples", false, "Do not apply config/samples.")
	sandboxAddr := fs.String("sandbox-addr", "127.0.0.1:8480", "Address of the bank sandbox.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(false)))

	root, err := repo.Root()
	if err != nil {
		return err
	}
	env, err := repo.Envtest()
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join(root, "bin", "dev")
	}
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(*dir, "data")
	}
	storeNote, err := prepareStore(opts, *keepStore)
	if err != nil {
		return err
	}

	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		if err == nil {
			step("everything is stopped")
		}
	}()
	// A signal while something starts is acted on once it has started.
	interrupted := func() bool {
		if ctx.Err() != nil {
			step("interrupted")
			return true
		}
		return false
	}

	step("starting etcd and kube-apiserver")
	// Stop also reaps a control plane that failed half-way through Start.
	stops = append(stops, func() {
		step("stopping kube-apiserver and etcd")
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "devenv: stopping the control plane:", err)
		}
	})
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	if interrupted() {
		return nil
	}
	step("CRDs installed")
	kubeconfig, err := writeKubeconfig(env, *dir)
	if err != nil {
		return err
	}
	stops = append(stops, func() { _ = os.Remove(kubeconfig) }) // it names a stopped apiserver

	step("starting the bank sandbox on http://" + *sandboxAddr)
	sandboxURL, stopSandbox, err := startSandbox(*sandboxAddr, opts.GatewayPublicURL+"/callback")
	if err != nil {
		return err
	}
	stops = append(stops, stopSandbox)
	opts.TrueLayerAuthURL, opts.TrueLayerAPIURL, opts.CodatURL = sandboxURL, sandboxURL, sandboxURL
	// The sandbox signs webhooks with a key it publishes itself.
	gwOpts.TrueLayerWebhookJWKSSandbox = sandboxURL + sandbox.WebhookJWKSPath

	step(storeNote)
	step("starting the manager")
	mgrCtx, stopMgr := context.WithCancel(ctx)
	mgr, err := manager.New(mgrCtx, cfg, opts)
	if err != nil {
		stopMgr()
		return err
	}
	var mgrErr error
	mgrStopped := make(chan struct{})
	go func() {
		mgrErr = mgr.Start(mgrCtx)
		close(mgrStopped)
		stopMgr() // ends the waits below when the manager fails on its own
	}()
	stops = append(stops, func() {
		step("stopping the manager")
		stopMgr()
		<-mgrStopped
	})

	// managerFailed turns an error of a wait the manager's end cut short into the
	// manager's own error.
	managerFailed := func(err error) error {
		select {
		case <-mgrStopped:
			return fmt.Errorf("the manager stopped: %w", mgrErr)
		default:
			return err
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return fmt.Errorf("creating client: %w", err)
	}
	// The gateway runs as in a cluster: its own manager, under its own ServiceAccount
	// with the shipped RBAC (no Secret rights beyond its key).
	step("starting the gateway on " + gwOpts.PublicURL + " (ServiceAccount " + testenv.GatewayServiceAccount + ")")
	gwCfg, err := testenv.GatewayConfig(mgrCtx, cfg, c, opts.OperatorNamespace)
	if err != nil {
		return managerFailed(err)
	}
	gw, err := manager.NewGateway(mgrCtx, gwCfg, gwOpts)
	if err != nil {
		return managerFailed(err)
	}
	gwStopped := make(chan struct{})
	var gwErr error
	go func() {
		gwErr = gw.Start(mgrCtx)
		close(gwStopped)
		stopMgr() // the gateway failing stops everything
	}()
	stops = append(stops, func() {
		step("stopping the gateway")
		stopMgr()
		<-gwStopped
	})

	connect := ""
	if !*noSamples {
		n, err := applyDir(mgrCtx, c, filepath.Join(root, "config", "samples"), "default")
		if interrupted() {
			return nil
		}
		if err != nil {
			return managerFailed(err)
		}
		step(fmt.Sprintf("applied %d sample objects to namespace default", n))
		connect, err = waitForConnectURL(mgrCtx, mgr.GetClient(), "default", "alice-monzo")
		if interrupted() {
			return nil
		}
		if err != nil {
			return managerFailed(err)
		}
	}
	printGuide(connect, kubeconfig, filepath.Join(env.BinaryAssetsDirectory, "kubectl"), opts.SQLitePath(), *sandboxAddr)

	select {
	case <-ctx.Done():
		step("shutting down")
		return nil
	case <-mgrStopped:
		if mgrErr != nil {
			return fmt.Errorf("the manager stopped: %w", mgrErr)
		}
		return errors.New("the manager stopped")
	case <-gwStopped:
		if gwErr != nil {
			return fmt.Errorf("the gateway stopped: %w", gwErr)
		}
		return errors.New("the gateway stopped")
	}
}

// prepareStore empties the embedded store unless asked to keep it, and says which it
// is. Each run has a new, empty control plane; a store kept from an earlier run would
// hold rows of BankConnections this cluster never had.
func prepareStore(opts manager.Options, keep bool) (string, error) {
	if opts.Store != "" {
		return "store: " + open.Redact(opts.Store) + " (given with --store, used as it is)", nil
	}
	path := opts.SQLitePath()
	if keep {
		return "store: SQLite at " + path + ", kept from earlier runs (--keep-store)", nil
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("emptying the store: %w", err)
		}
	}
	return "store: a new, empty SQLite database at " + path + " (--keep-store or " + keepStoreEnv + "=true keeps the previous run's)", nil
}

func printGuide(connect, kubeconfig, kubectl, db, sandboxAddr string) {
	fmt.Printf(`
consent-operator is running on a local control plane, with the bank sandbox.
`)
	if connect != "" {
		fmt.Printf(`
  1. Open the connect link in a browser and consent at the mock bank (user john, password doe):
       %s
  2. In another terminal:
       export KUBECONFIG=%s
       %s get bc,sj
       %s wait --for=condition=Ready bc/alice-monzo --timeout=5m
       %s get secret alice-monzo-token -o jsonpath='{.data.access_token}' | base64 -d
  3. Once Ready, the backfill SyncJob runs and stores the data in %s:
       %s get sj alice-monzo-backfill -o jsonpath='{.status.recentRuns[0].counts}'
`, connect, kubeconfig, kubectl, kubectl, kubectl, db, kubectl)
	} else {
		fmt.Printf("\n  export KUBECONFIG=%s\n  %s get bc,sj\n", kubeconfig, kubectl)
	}
	fmt.Printf(`
Sandbox admin API: http://%s/sandbox-admin/  (clock, faults, call counts)
Press Ctrl-C to stop everything.
`, sandboxAddr)
}

func step(msg string) { fmt.Fprintln(os.Stderr, ">>", msg) }

// startSandbox serves the bank sandbox (TrueLayer and Codat) with the client of
// config/samples registered for the gateway's callback.
func startSandbox(addr, callback string) (string, func(), error) {
	sb, err := sandbox.New(sandbox.Options{
		Clients: []sandbox.Client{{ID: "sandbox-demo", Secret: "sandbox-demo-secret", Name: "consent-operator demo", RedirectURIs: []string{callback}}},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return "", nil, fmt.Errorf("creating sandbox: %w", err)
	}
	if _, err := sb.MountCodat(codat.Options{APIKeys: []string{"sandbox-demo-codat-key"}}); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("sandbox listening on %s: %w", addr, err)
	}
	hs := &http.Server{Handler: sb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		step("stopping the bank sandbox")
		_ = hs.Close()
		sb.Close()
	}, nil
}

// waitForConnectURL waits until the operator published the connection's connect link.
func waitForConnectURL(ctx context.Context, c client.Client, namespace, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		bc := &bankingv1alpha1.BankConnection{}
		if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, bc); err == nil && bc.Status.ConnectURL != "" {
			return bc.Status.ConnectURL, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %s/%s's connect link: %w", namespace, name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// writeKubeconfig creates an admin user on the control plane and writes its kubeconfig.
func writeKubeconfig(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "dev-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("creating admin user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("rendering kubeconfig: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("writing kubeconfig: %w", err)
	}
	return path, nil
}

// applyDir creates every object of the YAML files listed in dir's kustomization.yaml.
func applyDir(ctx context.Context, c client.Client, dir, namespace string) (int, error) {
	var k struct {
		Resources []string `json:"resources"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return 0, fmt.Errorf("reading samples: %w", err)
	}
	if err := utilyaml.Unmarshal(raw, &k); err != nil {
		return 0, fmt.Errorf("parsing samples kustomization: %w", err)
	}
	n := 0
	for _, name := range k.Resources {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return n, fmt.Errorf("reading sample %s: %w", name, err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return n, fmt.Errorf("decoding sample %s: %w", name, err)
			}
			if len(obj.Object) == 0 {
				continue
			}
			obj.SetNamespace(namespace)
			if err := c.Create(ctx, obj); client.IgnoreAlreadyExists(err) != nil {
				return n, fmt.Errorf("applying sample %s %s: %w", obj.GetKind(), obj.GetName(), err)
			}
			n++
		}
	}
	return n, nil
}
