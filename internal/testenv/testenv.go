// Package testenv starts a real kube-apiserver and etcd (envtest) with the project's
// CRDs installed, for tests of controllers, validation and the chart.
//
// The binaries are built from Go modules by hack/envtest-binaries.sh into bin/k8s
// (prebuilt ones cannot be downloaded here). KUBEBUILDER_ASSETS overrides the location.
// A missing binary fails the test with the command to run: tests of controllers are
// never silently skipped.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/consent-operator/consent-operator/internal/repo"
	"github.com/consent-operator/consent-operator/internal/scheme"
)

// Env is a running control plane with the CRDs installed.
type Env struct {
	Config *rest.Config
	Client client.Client
	env    *envtest.Environment
}

// Start starts a control plane with the CRDs of config/crd/bases installed.
func Start() (*Env, error) {
	env, err := repo.Envtest()
	if err != nil {
		return nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest control plane: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("creating client: %w", err)
	}
	return &Env{Config: cfg, Client: c, env: env}, nil
}

// Kubeconfig writes a kubeconfig for an admin user of the control plane into dir and
// returns its path, for tests that run kubectl.
func (e *Env) Kubeconfig(dir string) (string, error) {
	user, err := e.env.AddUser(envtest.User{Name: "test-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("creating admin user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("rendering kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("writing kubeconfig: %w", err)
	}
	return path, nil
}

// Stop stops the control plane.
func (e *Env) Stop() error {
	if err := e.env.Stop(); err != nil {
		return fmt.Errorf("stopping envtest control plane: %w", err)
	}
	return nil
}

// Main runs a package's tests against one shared control plane and exits. Use it from
// TestMain: `func TestMain(m *testing.M) { testenv.Main(m, &env) }`. Each optional
// start function runs after the control plane is up (for example to start the manager);
// the stop functions they return run, in reverse order, before it goes down.
func Main(m *testing.M, out **Env, starts ...func(*Env) (stop func(), err error)) {
	env, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*out = env
	var stops []func()
	code := 0
	for _, start := range starts {
		stop, err := start(env)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
			break
		}
		stops = append(stops, stop)
	}
	if code == 0 {
		code = m.Run()
	}
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
