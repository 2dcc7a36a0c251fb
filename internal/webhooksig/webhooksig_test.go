package webhooksig

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// jwksServer serves the JWKS of whichever signer is current and counts fetches.
type jwksServer struct {
	*httptest.Server
	current atomic.Pointer[Signer]
	fetches atomic.Int32
	status  atomic.Int32
}

func newJWKSServer(t *testing.T, s *Signer) *jwksServer {
	t.Helper()
	js := &jwksServer{}
	js.current.Store(s)
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		js.fetches.Add(1)
		if code := js.status.Load(); code != 0 {
			w.WriteHeader(int(code))
			return
		}
		_, _ = w.Write(js.current.Load().JWKS())
	}))
	t.Cleanup(js.Close)
	return js
}

func mustSigner(t *testing.T, jku string) *Signer {
	t.Helper()
	s, err := NewSigner(jku)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// trusted is a signer whose JWKS is served, and the JWKS URL its signatures name.
func trusted(t *testing.T) (*Signer, *jwksServer, string) {
	t.Helper()
	s := mustSigner(t, "")
	js := newJWKSServer(t, s)
	jku := js.URL + "/.well-known/jwks"
	s = s.WithJKU(jku)
	js.current.Store(s)
	return s, js, jku
}

const (
	body = `{"type":"connection_authorized","event_id":"e1","connection_id":"c1"}`
	path = "/webhooks/truelayer/v3"
	ts   = "2026-01-05T09:00:00Z"
)

func signedRequest(t *testing.T, s *Signer) Request {
	t.Helper()
	sig, err := s.Sign(http.MethodPost, path, []SignedHeader{{"X-Tl-Webhook-Timestamp", ts}, {"Content-Type", "application/json"}}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(Header, sig)
	h.Set("X-Tl-Webhook-Timestamp", ts)
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "TrueLayer")
	return Request{Method: http.MethodPost, Path: path, Header: h, Body: []byte(body)}
}

// withHeader re-encodes the signature's protected header after edit (the signature
// then no longer matches, but the header checks come first).
func withHeader(t *testing.T, sig string, edit func(map[string]any)) string {
	t.Helper()
	h64, rest, _ := strings.Cut(sig, ".")
	raw, _ := b64.DecodeString(h64)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, _ := json.Marshal(m)
	return b64.EncodeToString(out) + "." + rest
}

// TestVerify: what a signature covers (method, path, signed headers, body), what its
// header must say, and where keys may come from.
func TestVerify(t *testing.T) {
	signer, js, jku := trusted(t)
	other := mustSigner(t, jku) // a key the JWKS does not hold

	for _, tc := range []struct {
		name string
		edit func(r *Request)
		want error
		why  string
	}{
		{"good", func(*Request) {}, nil, ""},
		{"unsigned header changed", func(r *Request) { r.Header.Set("User-Agent", "curl") }, nil, ""},
		{"header names in another case", func(r *Request) {
			v := r.Header.Get("X-Tl-Webhook-Timestamp")
			delete(r.Header, "X-Tl-Webhook-Timestamp")
			r.Header["x-tl-webhook-timestamp"] = []string{v}
		}, nil, ""},
		{"trailing slash", func(r *Request) { r.Path += "/" }, nil, ""},
		{"missing header", func(r *Request) { r.Header.Del(Header) }, ErrMissing, ""},
		{"bad signature", func(r *Request) {
			sig := r.Header.Get(Header)
			c := []byte(sig)
			c[len(c)-3] ^= 'A' ^ 'B'
			if c[len(c)-3] == sig[len(sig)-3] {
				c[len(c)-3] = 'C'
			}
			r.Header.Set(Header, string(c))
		}, ErrInvalid, ""},
		{"signed by a key the JWKS does not hold", func(r *Request) {
			r.Header.Set(Header, signedRequest(t, other).Header.Get(Header))
		}, ErrInvalid, "unknown kid"},
		{"modified body", func(r *Request) { r.Body = []byte(strings.Replace(body, "c1", "c2", 1)) }, ErrInvalid, "does not match"},
		{"modified path", func(r *Request) { r.Path = "/webhooks/truelayer/other" }, ErrInvalid, "does not match"},
		{"modified method", func(r *Request) { r.Method = http.MethodPut }, ErrInvalid, "does not match"},
		{"modified signed header", func(r *Request) { r.Header.Set("X-Tl-Webhook-Timestamp", "2026-01-06T09:00:00Z") }, ErrInvalid, "does not match"},
		{"signed header removed", func(r *Request) { r.Header.Del("Content-Type") }, ErrInvalid, "does not match"},
		{"wrong alg", func(r *Request) {
			r.Header.Set(Header, withHeader(t, r.Header.Get(Header), func(m map[string]any) { m["alg"] = "ES256" }))
		}, ErrInvalid, "alg"},
		{"alg none", func(r *Request) {
			r.Header.Set(Header, withHeader(t, r.Header.Get(Header), func(m map[string]any) { m["alg"] = "none" }))
		}, ErrInvalid, "alg"},
		{"tl_version 1", func(r *Request) {
			r.Header.Set(Header, withHeader(t, r.Header.Get(Header), func(m map[string]any) { m["tl_version"] = "1" }))
		}, ErrInvalid, "tl_version"},
		{"no kid", func(r *Request) {
			r.Header.Set(Header, withHeader(t, r.Header.Get(Header), func(m map[string]any) { delete(m, "kid") }))
		}, ErrInvalid, "kid"},
		{"jku off the allow-list", func(r *Request) {
			r.Header.Set(Header, signedRequest(t, signer.WithJKU("https://attacker.example/jwks")).Header.Get(Header))
		}, ErrInvalid, "jku"},
		{"no jku", func(r *Request) {
			r.Header.Set(Header, signedRequest(t, signer.WithJKU("")).Header.Get(Header))
		}, ErrInvalid, "jku"},
		{"signed header list widened", func(r *Request) {
			r.Header.Set(Header, withHeader(t, r.Header.Get(Header), func(m map[string]any) { m["tl_headers"] = "Content-Type" }))
		}, ErrInvalid, "does not match"},
		{"attached payload", func(r *Request) {
			h, s, _ := strings.Cut(r.Header.Get(Header), "..")
			r.Header.Set(Header, h+"."+b64.EncodeToString(r.Body)+"."+s)
		}, ErrInvalid, "detached"},
		{"not a JWS", func(r *Request) { r.Header.Set(Header, "secret") }, ErrInvalid, "JWS"},
		{"signature too short", func(r *Request) {
			h, _, _ := strings.Cut(r.Header.Get(Header), "..")
			r.Header.Set(Header, h+"..AAAA")
		}, ErrInvalid, "signature encoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &Verifier{Allowed: map[string]string{jku: "Sandbox"}}
			req := signedRequest(t, signer)
			tc.edit(&req)
			before := js.fetches.Load()
			env, err := v.Verify(context.Background(), req)
			if tc.want == nil {
				if err != nil || env != "Sandbox" {
					t.Fatalf("Verify = %q, %v; want Sandbox", env, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Verify = %v; want %v (%s)", err, tc.want, tc.why)
			}
			if tc.why == "jku" && js.fetches.Load() != before {
				t.Fatal("fetched keys for a jku off the allow-list")
			}
		})
	}
}

// TestKeyCache: keys are fetched once and cached; an unknown kid (TrueLayer rotated
// its key) refetches once, and a burst of unknown kids does not refetch again within
// MinRefresh; an unreachable JWKS is ErrKeysUnavailable, and stale keys are kept
// while it is.
func TestKeyCache(t *testing.T) {
	old, js, jku := trusted(t)
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	v := &Verifier{Allowed: map[string]string{jku: "Live"}, Now: func() time.Time { return now }}
	ctx := context.Background()
	verify := func(s *Signer) error { _, err := v.Verify(ctx, signedRequest(t, s)); return err }
	fetches := func(want int32) {
		t.Helper()
		if got := js.fetches.Load(); got != want {
			t.Fatalf("%d JWKS fetches, want %d", got, want)
		}
	}

	for range 3 {
		if err := verify(old); err != nil {
			t.Fatal(err)
		}
	}
	fetches(1)

	rotated := mustSigner(t, jku)
	js.current.Store(rotated)
	now = now.Add(2 * DefaultMinRefresh)
	if err := verify(rotated); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	fetches(2) // the unknown kid refreshed once

	stranger := mustSigner(t, jku)
	now = now.Add(DefaultMinRefresh)
	for range 5 {
		if err := verify(stranger); !errors.Is(err, ErrInvalid) {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	fetches(3) // one refresh for the burst, rate-limited after it
	if err := verify(rotated); err != nil {
		t.Fatal(err)
	}
	fetches(3)

	// Past MaxAge the JWKS is read again; while it fails the held key still works
	// and failures are not retried on every webhook.
	js.status.Store(http.StatusServiceUnavailable)
	now = now.Add(DefaultMaxAge)
	for range 3 {
		if err := verify(rotated); err != nil {
			t.Fatalf("stale key during an outage: %v", err)
		}
	}
	fetches(4)

	fresh := &Verifier{Allowed: map[string]string{jku: "Live"}}
	if _, err := fresh.Verify(ctx, signedRequest(t, rotated)); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("unreachable JWKS: %v", err)
	}
}

// TestRedirectNotFollowed: a JWKS URL on the allow-list that redirects elsewhere
// yields no keys.
func TestRedirectNotFollowed(t *testing.T) {
	s := mustSigner(t, "")
	elsewhere := newJWKSServer(t, s)
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	s = s.WithJKU(redirect.URL)
	v := &Verifier{Allowed: map[string]string{redirect.URL: "Sandbox"}}
	if _, err := v.Verify(context.Background(), signedRequest(t, s)); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("Verify = %v, want ErrKeysUnavailable", err)
	}
	if elsewhere.fetches.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
}

// TestConcurrentFirstUse: webhooks arriving together before any key is cached fetch
// the JWKS once.
func TestConcurrentFirstUse(t *testing.T) {
	s, js, jku := trusted(t)
	v := &Verifier{Allowed: map[string]string{jku: "Sandbox"}}
	req := signedRequest(t, s)
	errs := make(chan error, 16)
	for range cap(errs) {
		go func() { _, err := v.Verify(context.Background(), req); errs <- err }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1", n)
	}
}
