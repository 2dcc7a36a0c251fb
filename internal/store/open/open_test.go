package open

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		dsn    string
		kind   Kind
		target string
		err    string
	}{
		{"sqlite:///var/lib/co/store.db", SQLite, "/var/lib/co/store.db", ""},
		{"sqlite://data/store.db", SQLite, "data/store.db", ""},
		{"sqlite:data/store.db", SQLite, "data/store.db", ""},
		{"/var/lib/co/store.db", SQLite, "/var/lib/co/store.db", ""},
		{"store.db", SQLite, "store.db", ""},
		{"postgres://u:p@db:5432/co?sslmode=require", Postgres, "postgres://u:p@db:5432/co?sslmode=require", ""},
		{"postgresql://db/co", Postgres, "postgresql://db/co", ""},
		{"", "", "", "empty"},
		{"sqlite://", "", "", "no SQLite file"},
		{"mysql://db/co", "", "", `scheme "mysql" is not supported`},
	} {
		kind, target, err := Parse(tc.dsn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) error %v, want %q", tc.dsn, err, tc.err)
			}
			continue
		}
		if err != nil || kind != tc.kind || target != tc.target {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q", tc.dsn, kind, target, err, tc.kind, tc.target)
		}
	}
}

func TestRedact(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://app:s3cret@db:5432/co?sslmode=require&password=x": "postgres://app@db:5432/co",
		"postgresql://db/co":   "postgresql://db/co",
		"sqlite:///data/co.db": "sqlite:/data/co.db",
		"mysql://u:p@h/d":      "<invalid store DSN>",
	} {
		got := Redact(dsn)
		if got != want {
			t.Errorf("Redact(%q) = %q, want %q", dsn, got, want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("Redact(%q) leaks the password", dsn)
		}
	}
}

func TestResolveDSN(t *testing.T) {
	files := map[string]string{
		"/secret/dsn":   "postgres://app:pw@db/co\n",
		"/secret/empty": " \n",
	}
	read := func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, fs.ErrNotExist
	}
	env := func(vals map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := vals[k]; return v, ok }
	}
	noEnv := env(nil)
	withEnv := env(map[string]string{EnvDSN: "postgres://env/co"})
	for _, tc := range []struct {
		name string
		src  Sources
		want string
		err  string
	}{
		{"flag default", Sources{Flag: "/data/store.db", LookupEnv: noEnv, ReadFile: read}, "/data/store.db", ""},
		{"env beats flag", Sources{Flag: "/data/store.db", LookupEnv: withEnv, ReadFile: read}, "postgres://env/co", ""},
		{"file beats flag, trimmed", Sources{Flag: "/data/store.db", File: "/secret/dsn", LookupEnv: noEnv, ReadFile: read}, "postgres://app:pw@db/co", ""},
		{"blank env ignored", Sources{Flag: "x.db", LookupEnv: env(map[string]string{EnvDSN: " "}), ReadFile: read}, "x.db", ""},
		{"file and env", Sources{File: "/secret/dsn", LookupEnv: withEnv, ReadFile: read}, "", "set only one"},
		{"missing file", Sources{File: "/secret/nope", LookupEnv: noEnv, ReadFile: read}, "", "read --store-dsn-file"},
		{"empty file", Sources{File: "/secret/empty", LookupEnv: noEnv, ReadFile: read}, "", "is empty"},
		{"nothing", Sources{LookupEnv: noEnv, ReadFile: read}, "", "no store DSN"},
	} {
		got, err := ResolveDSN(tc.src)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("%s: error leaks the DSN: %v", tc.name, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

// TestOpenSQLite opens the embedded default through the DSN and writes.
func TestOpenSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(t.Context(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := store.Owner{Namespace: "ns", Connection: "c", UID: "uid-c", UserRef: "u", Provider: "truelayer"}
	if _, err := s.UpsertAccounts(t.Context(), o, []store.Account{{AccountID: "a"}}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Counts(t.Context(), o.Key())
	if err != nil || c.Accounts != 1 {
		t.Fatalf("counts %+v, %v", c, err)
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(t.Context(), "mysql://u:p@h/d")
	if err == nil {
		t.Fatal("unsupported scheme opened")
	}
	_, err = Open(t.Context(), "postgres://app:s3cret@127.0.0.1:1/co?connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("unreachable postgres: %v", err)
	}
	if errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unreachable server reported as invalid input: %v", err)
	}
}
