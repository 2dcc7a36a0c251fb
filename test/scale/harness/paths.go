package harness

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/repo"
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

// AssetsDir returns the directory with kube-apiserver and etcd ($KUBEBUILDER_ASSETS or
// bin/k8s); a missing binary is an error naming the command that builds it.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		root, err := repo.Root()
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
