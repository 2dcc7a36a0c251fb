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
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/consent-operator/consent-operator/internal/manager"
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
	opts.BindFlags(flag.CommandLine)
	noSamples := flag.Bool("no-samples", false, "Do not apply config/samples.")
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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	step("starting the manager")
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
	fmt.Printf(`
consent-operator is running on a local control plane.

  export KUBECONFIG=%s
  %s get bc,sj
  %s wait --for=condition=Ready bc/alice-monzo --timeout=5m

Press Ctrl-C to stop everything.
`, kubeconfig, kubectl, kubectl)

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
