package providertest

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// Answer is a fake provider that gives every request the answer last Set; the
// response fuzz tests point a client at it.
type Answer struct {
	mu          sync.Mutex
	status      int
	contentType string
	retryAfter  string
	body        []byte
}

// Set makes status, contentType and retryAfter (both left out when empty) and
// body the answer to the next requests.
func (a *Answer) Set(status int, contentType, retryAfter string, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status, a.contentType, a.retryAfter, a.body = status, contentType, retryAfter, body
}

func (a *Answer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	status, ct, ra, body := a.status, a.contentType, a.retryAfter, a.body
	a.mu.Unlock()
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may hang up on an oversized body
}

// ValidHeader reports whether net/http would send v as a header value.
func ValidHeader(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// CheckError fails t unless err is a *provider.Error of a known class whose
// text carries none of secrets and whose Retry-After is not negative.
func CheckError(t testing.TB, err error, secrets []string) {
	t.Helper()
	pe, ok := provider.AsError(err)
	if !ok {
		t.Fatalf("unclassified error %T: %v", err, err)
	}
	switch pe.Class {
	case provider.ClassNeedsHuman, provider.ClassRetryLater, provider.ClassRateLimited, provider.ClassInvalidRequest:
	default:
		t.Fatalf("error with unknown class %q: %v", pe.Class, err)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error text carries a secret the client sent: %v", err)
		}
	}
	if pe.RetryAfter < 0 {
		t.Fatalf("negative Retry-After %s", pe.RetryAfter)
	}
}

// CheckSuccess fails t when a client reported success for an answer with a
// non-2xx status or a body over its maxBody bound.
func CheckSuccess(t testing.TB, status int, body []byte, maxBody int) {
	t.Helper()
	if status < 200 || status > 299 {
		t.Fatalf("HTTP %d accepted as a success", status)
	}
	if len(body) > maxBody {
		t.Fatalf("a %d-byte body was read past the %d-byte bound", len(body), maxBody)
	}
}

// Status maps a fuzzed int onto the statuses a server can answer with,
// [200, 600): net/http refuses codes outside [100, 999] and 1xx are not answers.
func Status(fuzzed int) int {
	if fuzzed < 0 {
		fuzzed = -(fuzzed + 1)
	}
	return 200 + fuzzed%400
}
