package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/consent-operator/consent-operator/internal/repo"
	"github.com/consent-operator/consent-operator/internal/scheme"
)

// ControlPlane is a kube-apiserver and etcd with the project's CRDs installed.
type ControlPlane struct {
	// Config is an admin config without client-side rate limits: the harness must
	// not be the bottleneck it measures.
	Config *rest.Config
	Client client.Client
	// Kubeconfig is a file the manager process reads (KUBECONFIG).
	Kubeconfig string
	// AuditLog is the apiserver's audit log of writes (see Audit).
	AuditLog string
	env      *envtest.Environment
}

// StartControlPlane starts the control plane. Its certificates live in dir (not a
// temporary directory envtest removes on stop), so RestartAPIServer keeps the serving
// certificate, the port and the client CA, and existing kubeconfigs keep working.
func StartControlPlane(dir string) (*ControlPlane, error) {
	env, err := repo.Envtest()
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(dir, "apiserver")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating apiserver directory: %w", err)
	}
	env.ControlPlaneStopTimeout = apiServerStopTimeout
	// kube-apiserver's graceful termination waits for open watches (the manager's)
	// for longer than a test wants; after apiServerStopTimeout it gets SIGKILL.
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: certDir, StopTimeout: apiServerStopTimeout}
	auditLog, err := enableAudit(env.ControlPlane.APIServer, dir)
	if err != nil {
		return nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting control plane: %w", err)
	}
	cp := &ControlPlane{env: env, AuditLog: auditLog}
	stop := func(err error) (*ControlPlane, error) { _ = env.Stop(); return nil, err }
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, -1
	cp.Config = cfg
	if cp.Client, err = client.New(cfg, client.Options{Scheme: scheme.New()}); err != nil {
		return stop(fmt.Errorf("creating client: %w", err))
	}
	user, err := env.AddUser(envtest.User{Name: "harness-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return stop(fmt.Errorf("creating admin user: %w", err))
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return stop(fmt.Errorf("rendering kubeconfig: %w", err))
	}
	cp.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(cp.Kubeconfig, kc, 0o600); err != nil {
		return stop(fmt.Errorf("writing kubeconfig: %w", err))
	}
	return cp, nil
}

// apiServerStopTimeout bounds kube-apiserver's graceful termination.
const apiServerStopTimeout = 5 * time.Second

// StopAPIServer stops kube-apiserver (SIGTERM, SIGKILL after apiServerStopTimeout),
// leaving etcd running.
func (cp *ControlPlane) StopAPIServer() error {
	if err := cp.env.ControlPlane.APIServer.Stop(); err != nil && !strings.Contains(err.Error(), "timeout waiting for process") {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	return nil
}

// StartAPIServer starts kube-apiserver again on the same port with the same
// certificates and waits until it is healthy.
func (cp *ControlPlane) StartAPIServer() error {
	if err := cp.env.ControlPlane.APIServer.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	return nil
}

// Stop stops kube-apiserver and etcd.
func (cp *ControlPlane) Stop() error {
	if err := cp.env.Stop(); err != nil {
		return fmt.Errorf("stopping control plane: %w", err)
	}
	return nil
}
