package webhooksig

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// TrueLayer's webhook JWKS URLs (as its signing libraries' webhook examples give
// them): the defaults of the operator's allow-list.
const (
	TrueLayerSandboxJWKS = "https://webhooks.truelayer-sandbox.com/.well-known/jwks"
	TrueLayerLiveJWKS    = "https://webhooks.truelayer.com/.well-known/jwks"
)

// Errors of Verify. ErrMissing and ErrInvalid mean the request is refused (401);
// ErrKeysUnavailable means the allowed JWKS could not be read (the sender retries).
var (
	ErrMissing         = errors.New("no Tl-Signature")
	ErrInvalid         = errors.New("invalid Tl-Signature")
	ErrKeysUnavailable = errors.New("webhook signing keys unavailable")
)

// Defaults of a Verifier's zero fields.
const (
	DefaultMinRefresh = time.Minute
	DefaultMaxAge     = time.Hour
	// maxJWKS bounds a JWKS document read.
	maxJWKS = 64 << 10
	// maxSignature bounds the header read: a Tl-Signature is well under 1 KiB.
	maxSignature = 4 << 10
)

// Verifier checks Tl-Signature headers. It is safe for concurrent use.
type Verifier struct {
	// Allowed maps each JWKS URL keys may be fetched from to its environment
	// (e.g. "Sandbox", "Live"); a jku not in it is refused before any fetch.
	Allowed map[string]string
	// Client fetches JWKS documents; nil means a client with a 10 s timeout. Its
	// redirects are never followed: they would leave the allow-list.
	Client *http.Client
	// MinRefresh is the least time between two fetches of one JWKS (an unknown kid
	// triggers a fetch); default DefaultMinRefresh.
	MinRefresh time.Duration
	// MaxAge is how long fetched keys are used before the JWKS is read again;
	// default DefaultMaxAge. Stale keys stay in use while a refetch fails.
	MaxAge time.Duration
	// Now tells the time; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex // guards cache
	cache map[string]*keySet
	fetch sync.Mutex // one fetch at a time, so a burst of unknown kids fetches once
}

type keySet struct {
	keys      map[string]*ecdsa.PublicKey
	fetchedAt time.Time
	// failed is the last fetch's error, until a fetch succeeds.
	failed error
}

// Request is what a signature covers.
type Request struct {
	Method string
	// Path is the request path as sent (escaped), without the query.
	Path   string
	Header http.Header
	Body   []byte
}

// Verify checks the request's Tl-Signature and returns the environment of the JWKS
// that holds its key.
func (v *Verifier) Verify(ctx context.Context, req Request) (environment string, err error) {
	p, err := parse(req.Header)
	if err != nil {
		return "", err
	}
	env, allowed := v.Allowed[p.hdr.JKU]
	if !allowed {
		return "", fmt.Errorf("%w: jku not allowed", ErrInvalid)
	}
	key, err := v.key(ctx, p.hdr.JKU, p.hdr.KID)
	if err != nil {
		return "", err
	}
	if err := p.check(req, key); err != nil {
		return "", err
	}
	return env, nil
}

// VerifyWithJWKS checks the request's Tl-Signature with a key of jwks, whatever its
// jku says (as truelayer-signing's verify does; Verify is what a receiver uses).
func VerifyWithJWKS(req Request, jwks []byte) error {
	p, err := parse(req.Header)
	if err != nil {
		return err
	}
	keys, err := ParseJWKS(jwks)
	if err != nil {
		return err
	}
	key := keys[p.hdr.KID]
	if key == nil {
		return fmt.Errorf("%w: unknown kid", ErrInvalid)
	}
	return p.check(req, key)
}

// parsed is a Tl-Signature whose header passed the checks that need no key.
type parsed struct {
	hdr  jwsHeader
	h64  string
	r, s *big.Int
}

func parse(h http.Header) (*parsed, error) {
	sig := h.Get(Header)
	if sig == "" {
		return nil, ErrMissing
	}
	if len(sig) > maxSignature {
		return nil, fmt.Errorf("%w: too long", ErrInvalid)
	}
	h64, detached, ok := strings.Cut(sig, ".")
	if !ok {
		return nil, fmt.Errorf("%w: not a JWS", ErrInvalid)
	}
	middle, s64, ok := strings.Cut(detached, ".")
	if !ok || middle != "" || strings.Contains(s64, ".") {
		return nil, fmt.Errorf("%w: not a JWS with a detached payload", ErrInvalid)
	}
	raw, err := b64.DecodeString(h64)
	if err != nil {
		return nil, fmt.Errorf("%w: header encoding", ErrInvalid)
	}
	p := &parsed{h64: h64}
	if err := json.Unmarshal(raw, &p.hdr); err != nil {
		return nil, fmt.Errorf("%w: header JSON", ErrInvalid)
	}
	switch {
	case p.hdr.Alg != Algorithm:
		// Header values are the sender's text: none of it goes into errors (logs).
		return nil, fmt.Errorf("%w: alg is not %s", ErrInvalid, Algorithm)
	case p.hdr.TLVersion != Version:
		return nil, fmt.Errorf("%w: tl_version is not %s", ErrInvalid, Version)
	case p.hdr.KID == "":
		return nil, fmt.Errorf("%w: no kid", ErrInvalid)
	}
	sigBytes, err := b64.DecodeString(s64)
	if err != nil || len(sigBytes) != 2*p521Size {
		return nil, fmt.Errorf("%w: signature encoding", ErrInvalid)
	}
	p.r = new(big.Int).SetBytes(sigBytes[:p521Size])
	p.s = new(big.Int).SetBytes(sigBytes[p521Size:])
	return p, nil
}

// check verifies the signature over the request with key.
func (p *parsed) check(req Request, key *ecdsa.PublicKey) error {
	var headers []SignedHeader
	for _, name := range strings.Split(p.hdr.TLHeaders, ",") {
		if name != "" {
			// A signed header missing from the request is signed as empty, as
			// TrueLayer's verifiers do.
			headers = append(headers, SignedHeader{Name: name, Value: headerValue(req.Header, name)})
		}
	}
	// TrueLayer's verifiers also accept the path with or without a trailing slash.
	for _, path := range []string{req.Path, toggleSlash(req.Path)} {
		digest := sha512.Sum512([]byte(p.h64 + "." + b64.EncodeToString(payload(req.Method, path, headers, req.Body))))
		if ecdsa.Verify(key, digest[:], p.r, p.s) {
			return nil
		}
	}
	return fmt.Errorf("%w: signature does not match", ErrInvalid)
}

// headerValue looks name up in any casing (a server canonicalizes names; a Header
// built by hand may not).
func headerValue(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func toggleSlash(p string) string {
	if strings.HasSuffix(p, "/") {
		return strings.TrimSuffix(p, "/")
	}
	return p + "/"
}

// key returns the public key kid of the JWKS at jku, fetching the JWKS when it is
// not cached, too old, or lacks kid (at most once per MinRefresh).
func (v *Verifier) key(ctx context.Context, jku, kid string) (*ecdsa.PublicKey, error) {
	if k, fresh := v.cached(jku, kid); k != nil && fresh {
		return k, nil
	}
	v.fetch.Lock()
	defer v.fetch.Unlock()
	// Another request may have fetched while this one waited.
	k, fresh := v.cached(jku, kid)
	if k != nil && fresh {
		return k, nil
	}
	if may, failed := v.mayFetch(jku); !may {
		switch {
		case k != nil:
			return k, nil
		case failed != nil:
			return nil, failed
		}
		return nil, fmt.Errorf("%w: unknown kid", ErrInvalid)
	}
	keys, err := v.fetchJWKS(ctx, jku)
	v.mu.Lock()
	switch set := v.cache[jku]; {
	case err == nil:
		v.cache[jku] = &keySet{keys: keys, fetchedAt: v.now()}
	case set != nil:
		// A failed fetch also waits MinRefresh: a broken JWKS endpoint is not
		// hammered by every webhook.
		set.fetchedAt, set.failed = v.now(), err
	default:
		v.cache[jku] = &keySet{fetchedAt: v.now(), failed: err}
	}
	v.mu.Unlock()
	if err != nil {
		if k != nil {
			return k, nil // stale but held: better than refusing TrueLayer's webhooks
		}
		return nil, err
	}
	if k = keys[kid]; k == nil {
		return nil, fmt.Errorf("%w: unknown kid", ErrInvalid)
	}
	return k, nil
}

// cached returns the cached key and whether its JWKS is younger than MaxAge.
func (v *Verifier) cached(jku, kid string) (*ecdsa.PublicKey, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cache == nil {
		v.cache = map[string]*keySet{}
	}
	set := v.cache[jku]
	if set == nil {
		return nil, false
	}
	return set.keys[kid], v.now().Sub(set.fetchedAt) < or(v.MaxAge, DefaultMaxAge)
}

// mayFetch is false within MinRefresh of the last fetch of jku; failed is that
// fetch's error, if it failed.
func (v *Verifier) mayFetch(jku string) (may bool, failed error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	set := v.cache[jku]
	if set == nil {
		return true, nil
	}
	return v.now().Sub(set.fetchedAt) >= or(v.MinRefresh, DefaultMinRefresh), set.failed
}

func (v *Verifier) fetchJWKS(ctx context.Context, jku string) (map[string]*ecdsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jku, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	c := v.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	noRedirect := *c
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: JWKS answered HTTP %d", ErrKeysUnavailable, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	if err != nil || len(data) > maxJWKS {
		return nil, fmt.Errorf("%w: reading JWKS", ErrKeysUnavailable)
	}
	return ParseJWKS(data)
}

// ParseJWKS returns the P-521 keys of a JWKS by kid; other keys are skipped.
func ParseJWKS(data []byte) (map[string]*ecdsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			KTY string `json:"kty"`
			CRV string `json:"crv"`
			KID string `json:"kid"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%w: JWKS is not JSON: %w", ErrKeysUnavailable, err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range set.Keys {
		if k.KTY != "EC" || k.CRV != "P-521" || k.KID == "" {
			continue
		}
		x, errX := b64.DecodeString(k.X)
		y, errY := b64.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != p521Size || len(y) != p521Size {
			continue
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P521(), append(append([]byte{4}, x...), y...))
		if err != nil {
			continue
		}
		keys[k.KID] = pub
	}
	return keys, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
