package httpx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider/providertest"
)

func newFakeTime() *providertest.Sleeps {
	return &providertest.Sleeps{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func TestBackoffFullJitter(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{0, 0.5, 50 * time.Millisecond},
		{1, 0.5, 100 * time.Millisecond},
		{2, 0.999, 399600 * time.Microsecond},
		{3, 0, 0},
		{10, 0.5, 500 * time.Millisecond}, // capped at Max
		{62, 0.5, 500 * time.Millisecond}, // no overflow
	} {
		b := Backoff{Base: 100 * time.Millisecond, Max: time.Second, Rand: func() float64 { return tc.rnd }}
		if got := b.Delay(tc.attempt); got != tc.want {
			t.Errorf("Delay(%d) with rand %v = %v, want %v", tc.attempt, tc.rnd, got, tc.want)
		}
	}
}

type server struct {
	*httptest.Server
	hits atomic.Int64
}

// newServer answers with the statuses in order (the last one repeats).
func newServer(t *testing.T, statuses ...int) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.hits.Add(1)) - 1
		st := statuses[min(n, len(statuses)-1)]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		_, _ = w.Write([]byte(`{"n":` + string(rune('0'+n%10)) + `}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name       string
		statuses   []int
		method     string
		idempotent bool
		wantStatus int
		wantHits   int64
	}{
		{"GET 503 then 200 is retried", []int{503, 200}, http.MethodGet, true, 200, 2},
		{"GET 500,502,504 then 200", []int{500, 502, 504, 200}, http.MethodGet, true, 200, 4},
		{"GET gives up after MaxRetries", []int{503}, http.MethodGet, true, 503, 4},
		{"GET 501 is not retried", []int{501, 200}, http.MethodGet, true, 501, 1},
		{"GET 429 is surfaced, not retried", []int{429, 200}, http.MethodGet, true, 429, 1},
		{"GET 400 is not retried", []int{400, 200}, http.MethodGet, true, 400, 1},
		{"POST non-idempotent 503 is not retried", []int{503, 200}, http.MethodPost, false, 503, 1},
		{"POST idempotent 503 is retried", []int{503, 200}, http.MethodPost, true, 200, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.statuses...)
			ft := newFakeTime()
			var observed []int
			var mu sync.Mutex
			c := New(Options{Now: ft.Now, Sleep: ft.Sleep, MaxRetries: 3, RateLimit: RateLimit{PerSecond: -1},
				Backoff: Backoff{Base: 100 * time.Millisecond, Max: time.Second, Rand: func() float64 { return 0.5 }},
				Observer: func(ep string, st int, _ time.Duration) {
					mu.Lock()
					defer mu.Unlock()
					if ep != "X /thing" {
						t.Errorf("observer endpoint %q", ep)
					}
					observed = append(observed, st)
				}})
			resp, err := c.Do(context.Background(), Request{Method: tc.method, URL: s.URL + "/thing", Endpoint: "X /thing", Idempotent: tc.idempotent})
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.Status != tc.wantStatus || s.hits.Load() != tc.wantHits || int64(resp.Attempts) != tc.wantHits {
				t.Fatalf("status %d hits %d attempts %d; want %d and %d", resp.Status, s.hits.Load(), resp.Attempts, tc.wantStatus, tc.wantHits)
			}
			if int64(len(observed)) != tc.wantHits {
				t.Fatalf("observer called %d times, want %d", len(observed), tc.wantHits)
			}
			// Full jitter with rand 0.5: 50ms, 100ms, 200ms ...
			var want time.Duration
			for i := int64(0); i < tc.wantHits-1; i++ {
				want += (100 * time.Millisecond << i) / 2
			}
			if ft.Total() != want {
				t.Fatalf("slept %v, want %v", ft.Total(), want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", r.URL.Query().Get("ra"))
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	ft := newFakeTime()
	c := New(Options{Now: ft.Now, Sleep: ft.Sleep, RateLimit: RateLimit{PerSecond: -1},
		Backoff: Backoff{Base: 10 * time.Millisecond, Max: 5 * time.Second, Rand: func() float64 { return 0 }}})
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL + "?ra=2", Endpoint: "GET /", Idempotent: true})
	if err != nil || resp.Status != 200 || ft.Total() != 2*time.Second {
		t.Fatalf("short Retry-After: err %v resp %+v slept %v", err, resp, ft.Total())
	}
	// A Retry-After beyond the backoff cap is not waited for in process.
	hits.Store(0)
	resp, err = c.Do(context.Background(), Request{Method: "GET", URL: srv.URL + "?ra=60", Endpoint: "GET /", Idempotent: true})
	if err != nil || resp.Status != 503 || resp.RetryAfter(ft.Now()) != time.Minute || hits.Load() != 1 {
		t.Fatalf("long Retry-After: err %v resp %+v hits %d", err, resp, hits.Load())
	}
}

// dropServer closes every connection after reading the request.
func dropServer(t *testing.T) (string, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			buf := make([]byte, 4096)
			_, _ = conn.Read(buf)
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return "http://" + ln.Addr().String(), &n
}

// refusedURL is an address nothing listens on.
func refusedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

func TestTransportFailures(t *testing.T) {
	ft := newFakeTime()
	c := New(Options{Now: ft.Now, Sleep: ft.Sleep, MaxRetries: 2, RateLimit: RateLimit{PerSecond: -1}})

	t.Run("dropped connection: non-idempotent POST is not retried", func(t *testing.T) {
		u, n := dropServer(t)
		_, err := c.Do(context.Background(), Request{Method: "POST", URL: u + "/connect/token", Endpoint: "POST /connect/token", Body: []byte("x=1")})
		var he *Error
		if !errors.As(err, &he) || !he.MayHaveReachedServer || he.Attempts != 1 {
			t.Fatalf("want a single attempt that may have reached the server, got %v", err)
		}
		if n.Load() != 1 {
			t.Fatalf("server saw %d connections, want 1", n.Load())
		}
	})
	t.Run("dropped connection: GET is retried", func(t *testing.T) {
		u, n := dropServer(t)
		_, err := c.Do(context.Background(), Request{Method: "GET", URL: u + "/x", Endpoint: "GET /x", Idempotent: true})
		var he *Error
		if !errors.As(err, &he) || he.Attempts != 3 || n.Load() != 3 {
			t.Fatalf("want 3 attempts, got %v (server saw %d)", err, n.Load())
		}
	})
	t.Run("connection refused: even a POST is retried, nothing was sent", func(t *testing.T) {
		_, err := c.Do(context.Background(), Request{Method: "POST", URL: refusedURL(t) + "/connect/token", Endpoint: "POST /connect/token"})
		var he *Error
		if !errors.As(err, &he) || he.MayHaveReachedServer || he.Attempts != 3 {
			t.Fatalf("want 3 attempts that never reached the server, got %#v", err)
		}
	})
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c := New(Options{Timeout: 50 * time.Millisecond, MaxRetries: -1, RateLimit: RateLimit{PerSecond: -1}})
	_, err := c.Do(context.Background(), Request{Method: "POST", URL: srv.URL, Endpoint: "POST /"})
	var he *Error
	if !errors.As(err, &he) || !he.Timeout || !he.MayHaveReachedServer {
		t.Fatalf("want a timeout, got %v", err)
	}
}

func TestBodyIsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("a", 2048)))
	}))
	defer srv.Close()
	c := New(Options{MaxResponseBytes: 1024, RateLimit: RateLimit{PerSecond: -1}})
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Endpoint: "GET /", Idempotent: true})
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Fatalf("want ErrBodyTooLarge, got %v", err)
	}
	c = New(Options{MaxResponseBytes: 2048, RateLimit: RateLimit{PerSecond: -1}})
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Endpoint: "GET /", Idempotent: true})
	if err != nil || len(resp.Body) != 2048 {
		t.Fatalf("body at the limit: %v", err)
	}
}

func TestNoRedirectFollowing(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := New(Options{RateLimit: RateLimit{PerSecond: -1}})
	resp, err := c.Do(context.Background(), Request{Method: "POST", URL: srv.URL, Endpoint: "POST /", Body: []byte("client_secret=x")})
	if err != nil || resp.Status != http.StatusTemporaryRedirect || elsewhere.Load() != 0 {
		t.Fatalf("redirect followed: %v %+v %d", err, resp, elsewhere.Load())
	}
}

func TestRateLimiterBoundsEachHost(t *testing.T) {
	a, b := newServer(t, 200), newServer(t, 200)
	ft := newFakeTime()
	c := New(Options{Now: ft.Now, Sleep: ft.Sleep, RateLimit: RateLimit{PerSecond: 10, Burst: 2}})
	const n = 12
	for i := 0; i < n; i++ {
		if _, err := c.Do(context.Background(), Request{Method: "GET", URL: a.URL, Endpoint: "GET /", Idempotent: true}); err != nil {
			t.Fatal(err)
		}
	}
	// Burst 2, then one request per 100ms: 10 waits of 100ms.
	if got := ft.Total(); got != time.Second {
		t.Fatalf("waited %v for %d requests at 10/s burst 2, want 1s", got, n)
	}
	// Another host has its own bucket: its burst goes without waiting.
	before := ft.Total()
	for i := 0; i < 2; i++ {
		if _, err := c.Do(context.Background(), Request{Method: "GET", URL: b.URL, Endpoint: "GET /", Idempotent: true}); err != nil {
			t.Fatal(err)
		}
	}
	if ft.Total() != before {
		t.Fatalf("second host waited %v", ft.Total()-before)
	}
}

func TestRateLimiterConcurrent(t *testing.T) {
	s := newServer(t, 200)
	// The clock stands still, so every reservation is made at the same
	// instant and each request's wait is its place in the queue.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sleeps := &providertest.Sleeps{}
	c := New(Options{Now: func() time.Time { return now }, RateLimit: RateLimit{PerSecond: 5, Burst: 1}, Sleep: sleeps.Sleep})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Do(context.Background(), Request{Method: "GET", URL: s.URL, Endpoint: "GET /", Idempotent: true}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if s.hits.Load() != 20 {
		t.Fatalf("hits %d", s.hits.Load())
	}
	// One request goes at once (burst 1); the other 19 wait 200ms, 400ms, … 3.8s.
	waits := sleeps.List()
	slices.Sort(waits)
	if len(waits) != 19 {
		t.Fatalf("%d requests waited, want 19: %v", len(waits), waits)
	}
	for i, d := range waits {
		if want := time.Duration(i+1) * 200 * time.Millisecond; d != want {
			t.Fatalf("wait %d = %v, want %v (all: %v)", i, d, want, waits)
		}
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	s := newServer(t, 503)
	ctx, cancel := context.WithCancel(context.Background())
	c := New(Options{RateLimit: RateLimit{PerSecond: -1}, Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return context.Canceled
	}})
	resp, err := c.Do(ctx, Request{Method: "GET", URL: s.URL, Endpoint: "GET /", Idempotent: true})
	if err != nil || resp.Status != 503 || s.hits.Load() != 1 {
		t.Fatalf("cancel during backoff: %v %+v hits %d", err, resp, s.hits.Load())
	}
}

// TestUserPresentSkipsTheQueue: with background requests holding the next slots, a
// user-present request goes at once, and the background behind it waits one slot more.
func TestUserPresentSkipsTheQueue(t *testing.T) {
	s := newServer(t, 200)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var waits []time.Duration
	c := New(Options{Now: func() time.Time { return now }, RateLimit: RateLimit{PerSecond: 5, Burst: 1},
		Sleep: func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
	get := func(ctx context.Context) {
		t.Helper()
		if _, err := c.Do(ctx, Request{Method: "GET", URL: s.URL, Endpoint: "GET /", Idempotent: true}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 50; i++ { // 49 of them queue: 200ms … 9.8s
		get(context.Background())
	}
	queued := len(waits)
	get(WithUserPresent(context.Background()))
	if len(waits) != queued {
		t.Fatalf("the user-present request waited %v behind %d background requests", waits[len(waits)-1], queued)
	}
	get(context.Background())
	if got, want := waits[len(waits)-1], 51*200*time.Millisecond; got != want {
		t.Fatalf("the next background request waits %v, want %v (one slot behind the user's)", got, want)
	}
}
