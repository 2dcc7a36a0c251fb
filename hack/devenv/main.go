// Command devenv is `make dev`: a local control plane (etcd and kube-apiserver built
// from Go modules), the CRDs, the manager running in-process and the samples applied.
// It prints the kubeconfig path and the commands to try, and on Ctrl-C stops everything
// it started.
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
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/codat"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devenv:", err)
		os.Exit(1)
	}
}

func run() error {
	opts := manager.DefaultOptions()
	opts.MetricsAddr = "127.0.0.1:8080"
	opts.ProbeAddr = "127.0.0.1:8081"
	opts.GatewayAddr = "127.0.0.1:8082"
	opts.GatewayPublicURL = "http://127.0.0.1:8082"
	opts.OperatorNamespace = "default"
	opts.BindFlags(flag.CommandLine)
	opts.DataDir = "" // set below, under bin/dev, unless --data-dir is given
	noSamples := flag.Bool("no-samples", false, "Do not apply config/samples.")
	sandboxAddr := flag.String("sandbox-addr", "127.0.0.1:8480", "Address of the bank sandbox.")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseDevMode(false)))

	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	assets, err := testenv.AssetsDir()
	if err != nil {
		return err
	}

	step("starting etcd and kube-apiserver")
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting control plane: %w", err)
	}
	defer func() {
		step("stopping the control plane")
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "devenv: stopping control plane:", err)
		}
	}()
	step("CRDs installed")

	kubeconfig, err := writeKubeconfig(env, filepath.Join(root, "bin", "dev"))
	if err != nil {
		return err
	}
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(root, "bin", "dev", "data")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	step("starting the bank sandbox on http://" + *sandboxAddr)
	sandboxURL, stopSandbox, err := startSandbox(*sandboxAddr, opts.GatewayPublicURL+"/callback")
	if err != nil {
		return err
	}
	defer stopSandbox()
	opts.TrueLayerAuthURL, opts.TrueLayerAPIURL, opts.CodatURL = sandboxURL, sandboxURL, sandboxURL
	// The sandbox signs webhooks with a key it publishes itself.
	opts.TrueLayerWebhookJWKSSandbox = sandboxURL + sandbox.WebhookJWKSPath

	step("starting the manager (gateway on " + opts.GatewayPublicURL + ")")
	mgr, err := manager.New(ctx, cfg, opts)
	if err != nil {
		return err
	}
	mgrDone := make(chan error, 1)
	go func() { mgrDone <- mgr.Start(ctx) }()

	if !*noSamples {
		c, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
		if err != nil {
			return fmt.Errorf("creating client: %w", err)
		}
		n, err := applyDir(ctx, c, filepath.Join(root, "config", "samples"), "default")
		if err != nil {
			return err
		}
		step(fmt.Sprintf("applied %d sample objects to namespace default", n))
	}

	kubectl := filepath.Join(assets, "kubectl")
	connect := ""
	if !*noSamples {
		if connect, err = waitForConnectURL(ctx, mgr.GetClient(), "default", "alice-monzo"); err != nil {
			return err
		}
	}
	fmt.Printf(`
consent-operator is running on a local control plane, with the bank sandbox.

  1. Open the connect link in a browser and consent at the mock bank (user john, password doe):
       %s
  2. In another terminal:
       export KUBECONFIG=%s
       %s get bc,sj
       %s wait --for=condition=Ready bc/alice-monzo --timeout=5m
       %s get secret alice-monzo-token -o jsonpath='{.data.access_token}' | base64 -d
  3. Once Ready, the backfill SyncJob runs and stores the data in %s:
       %s get sj alice-monzo-backfill -o jsonpath='{.status.recentRuns[0].counts}'

Sandbox admin API: http://%s/sandbox-admin/  (clock, faults, call counts)
Press Ctrl-C to stop everything.
`, connect, kubeconfig, kubectl, kubectl, kubectl, filepath.Join(opts.DataDir, "consent-operator.db"), kubectl, *sandboxAddr)

	select {
	case <-ctx.Done():
		step("shutting down")
		<-mgrDone
	case err := <-mgrDone:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("manager stopped: %w", err)
		}
	}
	return nil
}

func step(msg string) { fmt.Fprintln(os.Stderr, ">>", msg) }

// startSandbox serves the bank sandbox (TrueLayer and Codat) with the client of
// config/samples registered for the gateway's callback.
func startSandbox(addr, callback string) (string, func(), error) {
	sb, err := sandbox.New(sandbox.Options{
		Clients: []sandbox.Client{{ID: "sandbox-demo", Secret: "sandbox-demo-secret", RedirectURIs: []string{callback}}},
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
