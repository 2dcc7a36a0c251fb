// Package nodecheck runs TrueLayer's own signing library (the npm package
// truelayer-signing, pinned by node/package-lock.json) against Tl-Signatures made or
// checked by this project, so sandbox and operator are held to TrueLayer's scheme and
// not only to each other. Tests only; they skip when node or npm is absent.
package nodecheck

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

//go:embed node/package.json node/package-lock.json node/check.js
var files embed.FS

// Request is a request as the library sees it.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Verify runs truelayer-signing's verify over req with jwks and returns the jku the
// library extracts, or the library's error.
func Verify(t testing.TB, jwks []byte, req Request) (jku string, err error) {
	t.Helper()
	var out struct {
		OK    bool   `json:"ok"`
		JKU   string `json:"jku"`
		Error string `json:"error"`
	}
	run(t, map[string]any{"op": "verify", "jwks": string(jwks), "signature": req.Header.Get("Tl-Signature"),
		"method": req.Method, "path": req.Path, "headers": flatten(req.Header), "body": string(req.Body)}, &out)
	if !out.OK {
		return "", fmt.Errorf("truelayer-signing: %s", out.Error)
	}
	return out.JKU, nil
}

// Sign runs truelayer-signing's sign with a PEM private key; headers keep their order.
func Sign(t testing.TB, kid string, privateKeyPEM []byte, method, path string, headers [][2]string, body []byte) string {
	t.Helper()
	// JSON objects keep insertion order in JavaScript: build the object by hand.
	var h bytes.Buffer
	h.WriteByte('{')
	for i, kv := range headers {
		if i > 0 {
			h.WriteByte(',')
		}
		k, _ := json.Marshal(kv[0])
		v, _ := json.Marshal(kv[1])
		h.Write(k)
		h.WriteByte(':')
		h.Write(v)
	}
	h.WriteByte('}')
	var out struct{ Signature string }
	run(t, map[string]any{"op": "sign", "kid": kid, "privateKeyPem": string(privateKeyPEM), "method": method, "path": path,
		"headers": json.RawMessage(h.Bytes()), "body": string(body)}, &out)
	if out.Signature == "" {
		t.Fatal("truelayer-signing produced no signature")
	}
	return out.Signature
}

func flatten(h http.Header) map[string]string {
	m := map[string]string{}
	for k, v := range h {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

func run(t testing.TB, in, out any) {
	t.Helper()
	node, errNode := exec.LookPath("node")
	npm, errNPM := exec.LookPath("npm")
	if errNode != nil || errNPM != nil {
		t.Skip("node or npm not installed: truelayer-signing cross-check skipped")
	}
	dir := install(t, npm)
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(dir, "check.js"))
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("node check.js: %v: %s", err, stderr.String())
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("node check.js answered %q: %v", res, err)
	}
}

// install puts the pinned package into the user's cache once (keyed by the lock
// file), so only the first run needs the npm registry.
func install(t testing.TB, npm string) string {
	t.Helper()
	lock, _ := files.ReadFile("node/package-lock.json")
	script, _ := files.ReadFile("node/check.js")
	sum := sha256.Sum256(append(lock, script...))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "consent-operator", "truelayer-signing-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "truelayer-signing", "package.json")); err == nil {
		return dir
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	for _, name := range []string{"package.json", "package-lock.json", "check.js"} {
		b, _ := files.ReadFile("node/" + name)
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci truelayer-signing (needs the npm registry once): %v: %s", err, out)
	}
	// Two test packages may install at once: the first rename wins, both use it.
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "node_modules", "truelayer-signing", "package.json")); statErr != nil {
			t.Fatalf("installing truelayer-signing: %v", err)
		}
	}
	return dir
}
