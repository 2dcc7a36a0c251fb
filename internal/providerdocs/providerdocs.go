// Package providerdocs locates the providers' published OpenAPI documents: the contract
// the bank sandbox's tests validate its answers against. They are not in the repository
// (they are the providers' work, updated on their schedule); hack/provider-docs.txt pins
// each one by path, source URL and sha256.
//
// The documents are read from $CONSENT_OPERATOR_PROVIDER_DOCS, by default ../shared. A
// relative value is read from the repository root, so that every test package, whatever
// its depth, finds the same directory.
package providerdocs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consent-operator/consent-operator/internal/repo"
)

// EnvVar names the directory holding the documents.
const EnvVar = "CONSENT_OPERATOR_PROVIDER_DOCS"

// DefaultDir is used when EnvVar is unset; relative to the repository root.
const DefaultDir = "../shared"

// manifestPath is the pin list, relative to the repository root.
const manifestPath = "hack/provider-docs.txt"

// The document sets, as path prefixes in the manifest.
const (
	TrueLayer = "truelayer-openapi/"
	Codat     = "codat-openapi/"
)

// Doc is one pinned document.
type Doc struct {
	// Path is relative to Dir, for example "truelayer-openapi/data-api-v1.json".
	Path   string
	SHA256 string
	URL    string
}

// Dir returns the absolute directory of the documents.
func Dir() (string, error) {
	dir := os.Getenv(EnvVar)
	if dir == "" {
		dir = DefaultDir
	}
	if filepath.IsAbs(dir) {
		return filepath.Clean(dir), nil
	}
	return repo.Path(dir)
}

// Manifest returns the pinned documents whose path starts with prefix ("" for all).
func Manifest(prefix string) ([]Doc, error) {
	p, err := repo.Path(manifestPath)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading the pin list: %w", err)
	}
	var docs []Doc
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || len(f[0]) != sha256.Size*2 {
			return nil, fmt.Errorf("%s:%d: want \"sha256 path url\"", manifestPath, n)
		}
		if strings.HasPrefix(f[1], prefix) {
			docs = append(docs, Doc{SHA256: f[0], Path: f[1], URL: f[2]})
		}
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s pins no document under %q", manifestPath, prefix)
	}
	return docs, nil
}

// Check verifies that every pinned document under prefix is in Dir with its pinned
// checksum. The error is one message saying what is wrong and both ways to fix it.
func Check(prefix string) (string, error) {
	docs, err := Manifest(prefix)
	if err != nil {
		return "", err
	}
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	var problems []string
	for _, d := range docs {
		sum, err := fileSHA256(filepath.Join(dir, d.Path))
		switch {
		case errors.Is(err, os.ErrNotExist):
			problems = append(problems, d.Path+" is missing")
		case err != nil:
			problems = append(problems, err.Error())
		case sum != d.SHA256:
			problems = append(problems, fmt.Sprintf("%s is not the pinned version (sha256 %s, pinned %s)", d.Path, sum, d.SHA256))
		}
	}
	if len(problems) == 0 {
		return dir, nil
	}
	return "", fmt.Errorf(`the providers' OpenAPI documents the sandbox's contract tests validate against are not in %s:
  %s
Either set %s to a directory holding them (a relative path is read from the repository root),
or run `+"`make provider-docs`"+` to download the pinned versions listed in %s into it`,
		dir, strings.Join(problems, "\n  "), EnvVar, manifestPath)
}

// Main is a TestMain for packages whose tests need the documents under prefix: without
// them no test runs, and the package fails at once with Check's message instead of
// failing test by test.
func Main(m *testing.M, prefix string) {
	if _, err := Check(prefix); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// File returns the absolute path of the document at path (relative to Dir). Use it in
// packages whose TestMain is Main, which has checked the documents.
func File(t testing.TB, path string) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, path)
}

// Download fetches every pinned document into Dir, verifying its checksum before it
// replaces anything, and reports each file on log.
func Download(ctx context.Context, hc *http.Client, log io.Writer) error {
	docs, err := Manifest("")
	if err != nil {
		return err
	}
	dir, err := Dir()
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := download(ctx, hc, d, filepath.Join(dir, d.Path)); err != nil {
			return err
		}
		fmt.Fprintf(log, "%s  %s (from %s)\n", d.SHA256, filepath.Join(dir, d.Path), d.URL)
	}
	return nil
}

func download(ctx context.Context, hc *http.Client, d Doc, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", d.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("downloading %s from %s: %s", d.Path, d.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("downloading %s: %w", d.Path, err)
	}
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != d.SHA256 {
		return fmt.Errorf("%s from %s has sha256 %x, pinned %s: not replacing anything", d.Path, d.URL, sum, d.SHA256)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	// Written beside the target and renamed, so an interrupted download leaves no
	// half-written document that looks present.
	tmp := dst + ".download"
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
