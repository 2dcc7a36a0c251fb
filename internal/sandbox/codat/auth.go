package codat

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"
)

// encodeAPIKey is what a client puts after "Basic ": Codat's auth header is
// the word Basic, a space, and the base64 encoding of the API key itself (not
// of a user:password pair).
func encodeAPIKey(key string) string {
	return base64.StdEncoding.EncodeToString([]byte(key))
}

// AuthorizationHeader returns the Authorization header value a Codat client
// sends for apiKey.
func AuthorizationHeader(apiKey string) string { return "Basic " + encodeAPIKey(apiKey) }

// authenticated reports whether r carries an accepted API key.
func (e *Emulator) authenticated(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	token = strings.TrimSpace(token)
	match := 0
	for k := range e.keys {
		match |= subtle.ConstantTimeCompare([]byte(k), []byte(token))
	}
	return match == 1
}

// requestCounter counts API requests in the current UTC day for the daily
// quota.
type requestCounter struct {
	mu    sync.Mutex
	day   time.Time
	count int
}

// admitRequest applies Options.DailyRequestQuota: Codat counts requests per UTC
// day and answers 429, with Retry-After pointing at the next midnight UTC, once
// the quota is used up.
func (e *Emulator) admitRequest() *httpError {
	if e.quota.Base <= 0 {
		return nil
	}
	limit := e.quota.Base + e.quota.PerLinkedCompany*e.linkedCompanyCount()
	now := e.clock.Now().UTC()
	day := now.Truncate(24 * time.Hour)
	c := &e.limiter
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.day.Equal(day) {
		c.day, c.count = day, 0
	}
	if c.count >= limit {
		return errTooManyRequests(day.Add(24 * time.Hour).Sub(now))
	}
	c.count++
	return nil
}

// linkedCompanyCount counts Codat's "active connected companies": companies
// with at least one Linked connection.
func (e *Emulator) linkedCompanyCount() int {
	now := e.clock.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := 0
	for _, c := range e.companies {
		for _, conn := range c.connections {
			if conn.effectiveStatus(now, e.consentTTL) == StatusLinked {
				n++
				break
			}
		}
	}
	return n
}
