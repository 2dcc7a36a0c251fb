package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/consent-operator/consent-operator/internal/sandbox"
)

func TestParseClientSplitsOnFirstTwoColons(t *testing.T) {
	for _, tc := range []struct {
		in      string
		id, sec string
		uris    []string
		wantErr bool
	}{
		{"sandbox-demo:secret:http://localhost/cb", "sandbox-demo", "secret", []string{"http://localhost/cb"}, false},
		{"a:b:http://localhost:8080/cb,https://example.com:8443/x?y=1", "a", "b", []string{"http://localhost:8080/cb", "https://example.com:8443/x?y=1"}, false},
		{"a:b:", "", "", nil, true},
		{"a:b", "", "", nil, true},
		{"a:b:not-a-url", "", "", nil, true},
	} {
		c, err := sandbox.ParseClient(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseClient(%q) error = %v", tc.in, err)
			continue
		}
		if tc.wantErr {
			continue
		}
		if c.ID != tc.id || c.Secret != tc.sec || len(c.RedirectURIs) != len(tc.uris) {
			t.Errorf("ParseClient(%q) = %+v", tc.in, c)
			continue
		}
		for i := range tc.uris {
			if c.RedirectURIs[i] != tc.uris[i] {
				t.Errorf("ParseClient(%q) uri %d = %q", tc.in, i, c.RedirectURIs[i])
			}
		}
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "sandbox.yaml")
	if err := os.WriteFile(yml, []byte("addr: 127.0.0.1:9999\nseed: 3\ndatasetSize: small\nrefreshMode: keep\nconsentDuration: 240h\nclients:\n- id: c1\n  secret: s1\n  name: Acme Budgeting\n  redirectURIs: [\"http://localhost/cb\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(yml)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9999" || *cfg.Seed != 3 || cfg.RefreshMode != "keep" || len(cfg.Clients) != 1 || cfg.Clients[0].RedirectURIs[0] != "http://localhost/cb" || cfg.Clients[0].Name != "Acme Budgeting" {
		t.Fatalf("config = %+v", cfg)
	}
	js := filepath.Join(dir, "sandbox.json")
	if err := os.WriteFile(js, []byte(`{"clients":[{"id":"c1","secret":"s1","redirectURIs":["http://localhost/cb"]}],"bogus":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(js); err == nil {
		t.Fatal("unknown field accepted")
	}
	if err := run([]string{"--addr", "127.0.0.1:0"}); err == nil {
		t.Fatal("run without clients: want error")
	}
	if err := run([]string{"--client", "x:y:http://localhost/cb", "--dataset-size", "huge"}); err == nil {
		t.Fatal("bad dataset size accepted")
	}
}
