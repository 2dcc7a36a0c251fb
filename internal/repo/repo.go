// Package repo finds the repository checkout on disk, for tests and development tools
// that read files of the repository (CRDs, samples, the chart) wherever they run from.
package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Root returns the repository root: the nearest directory above the working directory
// holding both go.mod and PROJECT (go.mod alone would also match hack/envtest-tools).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getting working directory: %w", err)
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) && isFile(filepath.Join(dir, "PROJECT")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no repository root (go.mod with PROJECT) above the working directory")
		}
		dir = parent
	}
}

// Path returns the absolute path of elem inside the repository.
func Path(elem ...string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{root}, elem...)...), nil
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
