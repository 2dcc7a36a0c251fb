package repo

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// EnvtestAssets returns the directory holding kube-apiserver, etcd and kubectl:
// $KUBEBUILDER_ASSETS, or bin/k8s of the repository. A missing binary is an error
// naming the command that builds it.
func EnvtestAssets() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		root, err := Root()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", "k8s")
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if !isFile(filepath.Join(dir, bin)) {
			return "", fmt.Errorf("envtest binary %s not found in %s: run `make envtest` (builds kube-apiserver and etcd from Go modules)", bin, dir)
		}
	}
	return dir, nil
}

// Envtest returns a control plane, not yet started, of the repository's binaries with
// the CRDs of config/crd/bases installed: the one the tests, the scale harness and the
// development environment all run.
func Envtest() (*envtest.Environment, error) {
	assets, err := EnvtestAssets()
	if err != nil {
		return nil, err
	}
	crds, err := Path("config", "crd", "bases")
	if err != nil {
		return nil, err
	}
	return &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{crds},
		ErrorIfCRDPathMissing: true,
	}, nil
}
