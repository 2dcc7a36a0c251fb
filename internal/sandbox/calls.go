package sandbox

import (
	"sort"
	"sync"
	"sync/atomic"
)

// CallKey identifies a group of provider calls: who called (client), for
// which user consent (connection, "" when none), which endpoint (the route
// pattern, e.g. "GET /data/v1/accounts/{account_id}/transactions") and
// whether the user was present (X-PSU-IP / Tl-User-IP header sent).
type CallKey struct {
	Client     string `json:"client"`
	Connection string `json:"connection"`
	Endpoint   string `json:"endpoint"`
	Attended   bool   `json:"attended"`
}

// CallCount is the number of calls of one CallKey.
type CallCount struct {
	CallKey
	Count int64 `json:"count"`
}

// ErrorKey identifies error responses: the CallKey's client, connection and
// endpoint plus the error code (TrueLayer "error" or problem "type").
type ErrorKey struct {
	Client     string `json:"client"`
	Connection string `json:"connection"`
	Endpoint   string `json:"endpoint"`
	Error      string `json:"error"`
}

// ErrorCount is the number of error responses of one ErrorKey.
type ErrorCount struct {
	ErrorKey
	Count int64 `json:"count"`
}

// CallFilter selects calls; empty fields match everything.
type CallFilter struct {
	Client     string
	Connection string
	Endpoint   string
	// Attended, when non-nil, selects attended (true) or unattended calls.
	Attended *bool
	// Error selects error responses with this code (ErrorCounts only).
	Error string
}

func (f CallFilter) match(k CallKey) bool {
	return (f.Client == "" || f.Client == k.Client) &&
		(f.Connection == "" || f.Connection == k.Connection) &&
		(f.Endpoint == "" || f.Endpoint == k.Endpoint) &&
		(f.Attended == nil || *f.Attended == k.Attended)
}

// counters counts calls and error responses; the increments are lock-free
// once a key exists.
type counters struct {
	mu     sync.RWMutex
	calls  map[CallKey]*atomic.Int64
	errors map[ErrorKey]*atomic.Int64
}

func newCounters() *counters {
	return &counters{calls: map[CallKey]*atomic.Int64{}, errors: map[ErrorKey]*atomic.Int64{}}
}

func incr[K comparable](mu *sync.RWMutex, m map[K]*atomic.Int64, k K) {
	mu.RLock()
	c, ok := m[k]
	mu.RUnlock()
	if !ok {
		mu.Lock()
		if c, ok = m[k]; !ok {
			c = new(atomic.Int64)
			m[k] = c
		}
		mu.Unlock()
	}
	c.Add(1)
}

func (c *counters) record(k CallKey, errCode string) {
	incr(&c.mu, c.calls, k)
	if errCode != "" {
		incr(&c.mu, c.errors, ErrorKey{Client: k.Client, Connection: k.Connection, Endpoint: k.Endpoint, Error: errCode})
	}
}

func (c *counters) list(f CallFilter) []CallCount {
	c.mu.RLock()
	var out []CallCount
	for k, v := range c.calls {
		if f.match(k) {
			out = append(out, CallCount{CallKey: k, Count: v.Load()})
		}
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Client != b.Client {
			return a.Client < b.Client
		}
		if a.Connection != b.Connection {
			return a.Connection < b.Connection
		}
		if a.Endpoint != b.Endpoint {
			return a.Endpoint < b.Endpoint
		}
		return !a.Attended && b.Attended
	})
	return out
}

func (c *counters) listErrors(f CallFilter) []ErrorCount {
	c.mu.RLock()
	var out []ErrorCount
	for k, v := range c.errors {
		if f.match(CallKey{Client: k.Client, Connection: k.Connection, Endpoint: k.Endpoint}) && (f.Error == "" || f.Error == k.Error) {
			out = append(out, ErrorCount{ErrorKey: k, Count: v.Load()})
		}
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Endpoint != b.Endpoint {
			return a.Endpoint < b.Endpoint
		}
		if a.Error != b.Error {
			return a.Error < b.Error
		}
		if a.Client != b.Client {
			return a.Client < b.Client
		}
		return a.Connection < b.Connection
	})
	return out
}

func (c *counters) reset() {
	c.mu.Lock()
	c.calls = map[CallKey]*atomic.Int64{}
	c.errors = map[ErrorKey]*atomic.Int64{}
	c.mu.Unlock()
}
