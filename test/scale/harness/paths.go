package harness

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// The harness does not import internal/manager or internal/testenv: the manager runs
// as a separate binary, and the harness must build even while the controllers package
// is being changed.

// Scheme has the built-in kinds and this project's API.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(bankingv1alpha1.AddToScheme(s))
	return s
}

// RepoRoot returns the repository root (the directory holding go.mod and PROJECT).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getting working directory: %w", err)
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "PROJECT")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no repository root (go.mod with PROJECT) above the working directory")
		}
		dir = parent
	}
}

// AssetsDir returns the directory with kube-apiserver and etcd ($KUBEBUILDER_ASSETS or
// bin/k8s); a missing binary is an error naming the command that builds it.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", "k8s")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if !fileExists(filepath.Join(dir, bin)) {
			return "", fmt.Errorf("envtest binary %s not found in %s: run `make envtest`", bin, dir)
		}
	}
	return dir, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
