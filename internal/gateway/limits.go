package gateway

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits are the gateway's token buckets. Zero fields take the defaults; a negative
// rate disables that bucket (the scale harness drives thousands of journeys from one
// address).
type Limits struct {
	// PerClient is the sustained requests per second from one client address.
	PerClient   float64
	ClientBurst int
	// PerConnection is the sustained callbacks and link opens per second for one
	// BankConnection, whoever sends them.
	PerConnection   float64
	ConnectionBurst int
}

// Default limits: generous for a person (a journey is a handful of requests), tight
// for a script replaying links or states.
const (
	DefaultPerClient       = 5
	DefaultClientBurst     = 30
	DefaultPerConnection   = 1
	DefaultConnectionBurst = 10
	// maxBuckets bounds the limiter's memory under a flood of distinct keys; the
	// oldest buckets are dropped first (a dropped bucket starts full again).
	maxBuckets = 50_000
)

type limiter struct {
	mu                   sync.Mutex
	client, conn         bucketSet
	perClient, perConn   rate.Limit
	clientBurst, cnBurst int
}

type bucketSet map[string]*bucket

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(l Limits) *limiter {
	pick := func(v float64, def float64) rate.Limit {
		switch {
		case v < 0:
			return rate.Inf
		case v == 0:
			return rate.Limit(def)
		}
		return rate.Limit(v)
	}
	burst := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	return &limiter{
		client: bucketSet{}, conn: bucketSet{},
		perClient: pick(l.PerClient, DefaultPerClient), clientBurst: burst(l.ClientBurst, DefaultClientBurst),
		perConn: pick(l.PerConnection, DefaultPerConnection), cnBurst: burst(l.ConnectionBurst, DefaultConnectionBurst),
	}
}

// allow takes a token from the bucket of key, returning how long to wait when empty.
// Buckets run on the wall clock: they bound real request rates, not simulated time.
func (l *limiter) allow(set bucketSet, key string, r rate.Limit, burst int) (bool, time.Duration) {
	if r == rate.Inf {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	b, ok := set[key]
	if !ok {
		if len(set) >= maxBuckets {
			set.dropOldest()
		}
		b = &bucket{lim: rate.NewLimiter(r, burst)}
		set[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (s bucketSet) dropOldest() {
	var oldest string
	var at time.Time
	for k, b := range s {
		if oldest == "" || b.seen.Before(at) {
			oldest, at = k, b.seen
		}
	}
	delete(s, oldest)
}

// limited serves h only to a client within its per-address bucket (allowClient).
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.allowClient(w, r) {
			h(w, r)
		}
	}
}

// allowClient applies the per-address bucket; it answers 429 itself when empty.
func (s *Server) allowClient(w http.ResponseWriter, r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ok, wait := s.limiter.allow(s.limiter.client, host, s.limiter.perClient, s.limiter.clientBurst)
	if !ok {
		s.refuse(w, r, "rate limited (client)", tooMany(wait))
	}
	return ok
}

// allowConnection applies the per-connection bucket.
func (s *Server) allowConnection(w http.ResponseWriter, r *http.Request, namespace, name string) bool {
	ok, wait := s.limiter.allow(s.limiter.conn, namespace+"/"+name, s.limiter.perConn, s.limiter.cnBurst)
	if !ok {
		s.refuse(w, r, "rate limited (connection)", tooMany(wait))
	}
	return ok
}

func tooMany(wait time.Duration) page {
	p := pageTooMany
	p.retryAfter = strconv.Itoa(int(math.Ceil(wait.Seconds())))
	return p
}
