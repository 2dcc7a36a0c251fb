package providerdocs_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consent-operator/consent-operator/internal/providerdocs"
	"github.com/consent-operator/consent-operator/internal/repo"
)

func TestDirIsReadFromTheRepositoryRoot(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ env, want string }{
		{"", filepath.Join(filepath.Dir(root), "shared")},
		{"docs-here", filepath.Join(root, "docs-here")},
		{"/abs/docs/", "/abs/docs"},
	} {
		t.Setenv(providerdocs.EnvVar, tc.env)
		got, err := providerdocs.Dir()
		if err != nil || got != tc.want {
			t.Errorf("%s=%q: Dir() = %q, %v; want %q", providerdocs.EnvVar, tc.env, got, err, tc.want)
		}
	}
}

func TestCheckNamesWhatIsWrongAndBothWaysOut(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(providerdocs.EnvVar, dir)
	docs, err := providerdocs.Manifest(providerdocs.Codat)
	if err != nil {
		t.Fatal(err)
	}
	// One document present but not the pinned version, the other missing.
	if err := os.MkdirAll(filepath.Join(dir, "codat-openapi"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, docs[0].Path), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = providerdocs.Check(providerdocs.Codat)
	if err == nil {
		t.Fatal("Check accepted a missing and a wrong document")
	}
	for _, want := range []string{docs[0].Path + " is not the pinned version", docs[1].Path + " is missing", providerdocs.EnvVar, "make provider-docs"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message does not say %q:\n%v", want, err)
		}
	}
}

// TestDownload runs the download against the pinned URLs, answered from the documents
// this machine has (there is no internet here): every file lands in Dir and passes
// Check, and a body with another checksum is refused without replacing the file.
func TestDownload(t *testing.T) {
	src, err := providerdocs.Check("")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := providerdocs.Manifest("")
	if err != nil {
		t.Fatal(err)
	}
	byURL := map[string]string{}
	for _, d := range docs {
		byURL[d.URL] = filepath.Join(src, d.Path)
	}
	tamper := ""
	hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		body, err := os.ReadFile(byURL[r.URL.String()])
		if err != nil {
			return &http.Response{StatusCode: http.StatusNotFound, Status: "404 Not Found", Body: http.NoBody}, nil
		}
		if r.URL.String() == tamper {
			body = append(body, ' ')
		}
		return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Body: io.NopCloser(bytes.NewReader(body))}, nil
	})}

	dst := t.TempDir()
	t.Setenv(providerdocs.EnvVar, dst)
	var log bytes.Buffer
	if err := providerdocs.Download(context.Background(), hc, &log); err != nil {
		t.Fatal(err)
	}
	if _, err := providerdocs.Check(""); err != nil {
		t.Fatalf("after the download: %v", err)
	}
	if n := strings.Count(log.String(), "\n"); n != len(docs) {
		t.Errorf("download reported %d files, want %d:\n%s", n, len(docs), log.String())
	}

	tamper = docs[0].URL
	if err := providerdocs.Download(context.Background(), hc, io.Discard); err == nil || !strings.Contains(err.Error(), "not replacing") {
		t.Fatalf("a body with another checksum: err = %v", err)
	}
	if _, err := providerdocs.Check(""); err != nil {
		t.Fatalf("a refused download changed the documents: %v", err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
