package manager_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/scheme"
	"github.com/consent-operator/consent-operator/internal/store/sqlite"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// TestProbesAndProfiler runs the manager (one per process: controller names are
// process-wide) with the profiler switched on: /readyz lists both readiness checks
// and passes, /debug/pprof/ is served on its own address and nowhere else.
func TestProbesAndProfiler(t *testing.T) {
	opts := manager.DefaultOptions()
	opts.SkipControllerNameValidation = true // several managers in this test process
	probe, pprof := freeAddr(t), freeAddr(t)
	opts.MetricsAddr, opts.DataAPIAddr = "0", "0"
	opts.ProbeAddr, opts.PprofAddr = probe, pprof
	opts.OperatorNamespace = "default"
	opts.DataDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := manager.New(ctx, env.Config, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	testenv.Eventually(t, 30*time.Second, func() error {
		status, body, err := get("http://" + probe + "/readyz?verbose")
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("/readyz: %d %s", status, body)
		}
		for _, want := range []string{"[+]informers ok", "[+]store ok"} {
			if !strings.Contains(body, want) {
				return fmt.Errorf("/readyz does not say %q: %s", want, body)
			}
		}
		return nil
	})
	status, body, err := get("http://" + pprof + "/debug/pprof/")
	if err != nil || status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("profiler index: %d, %v: %.200s", status, err, body)
	}
	if status, _, err := get("http://" + probe + "/debug/pprof/"); err != nil || status != http.StatusNotFound {
		t.Fatalf("the probe address serves /debug/pprof/: %d, %v", status, err)
	}
}

// TestProfilerIsOptIn: without the flag the profiler is off ("0" disables it in
// controller-runtime); the flag switches it on.
func TestProfilerIsOptIn(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "0"},
		{[]string{"--pprof-bind-address=127.0.0.1:6060"}, "127.0.0.1:6060"},
	} {
		o := manager.DefaultOptions()
		fs := flag.NewFlagSet("manager", flag.ContinueOnError)
		o.BindFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if o.PprofAddr != tc.want {
			t.Errorf("args %q: pprof address %q, want %q", tc.args, o.PprofAddr, tc.want)
		}
	}
}

// TestCacheSynced: not ready while the cache has not synced an informer, ready once
// it has, on a real apiserver.
func TestCacheSynced(t *testing.T) {
	c, err := cache.New(env.Config, cache.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := c.GetInformer(ctx, &bankingv1alpha1.SyncJob{}); err != nil {
		t.Fatal(err)
	}
	check := manager.CacheSynced(c)
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	if err := check(req); err == nil {
		t.Fatal("ready before the cache started")
	}
	go func() { _ = c.Start(ctx) }()
	testenv.Eventually(t, 30*time.Second, func() error { return check(req) })
}

// TestStoreReachable: ready while the store answers, not once it is closed.
func TestStoreReachable(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	check := manager.StoreReachable(s)
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	if err := check(req); err != nil {
		t.Fatalf("open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := check(req); err == nil || !strings.Contains(err.Error(), "the store does not answer") {
		t.Fatalf("closed store: %v", err)
	}
}

// freeAddr is a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// createNamespace creates the namespace a test works in on the shared control plane.
func createNamespace(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
}
