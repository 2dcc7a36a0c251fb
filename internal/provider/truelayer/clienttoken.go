package truelayer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sync"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// ClientTokenCache stores Data API v3 client-credentials tokens, shared by
// every connection of a client. The manager backs it with a Secret; an
// in-memory implementation is NewMemoryTokenCache.
//
// The key passed as clientID is the client id followed by "#" and a
// fingerprint of the client secret (see ClientTokenKey), so that a connection
// naming another tenant's client id with a wrong secret never gets that
// tenant's token. Implementations must be safe for concurrent use.
type ClientTokenCache interface {
	Get(ctx context.Context, clientID string) (provider.Tokens, bool, error)
	Put(ctx context.Context, clientID string, t provider.Tokens) error
}

// ClientTokenKey is the cache key of a client's token: the client id, "#",
// and the first 16 hex digits of SHA-256 of the secret (not reversible).
func ClientTokenKey(clientID, clientSecret string) string {
	sum := sha256.Sum256([]byte(clientSecret))
	return clientID + "#" + hex.EncodeToString(sum[:8])
}

// MemoryTokenCache is an in-memory ClientTokenCache.
type MemoryTokenCache struct {
	mu sync.Mutex
	m  map[string]provider.Tokens
}

// NewMemoryTokenCache returns an empty MemoryTokenCache.
func NewMemoryTokenCache() *MemoryTokenCache {
	return &MemoryTokenCache{m: map[string]provider.Tokens{}}
}

// Get returns the token stored for clientID.
func (m *MemoryTokenCache) Get(_ context.Context, clientID string) (provider.Tokens, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.m[clientID]
	return t, ok, nil
}

// Put stores t for clientID.
func (m *MemoryTokenCache) Put(_ context.Context, clientID string, t provider.Tokens) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[clientID] = t
	return nil
}

// clientToken returns a client-credentials token with scope data for conn's
// client: the cached one while it is not within ClientTokenRenewBefore of
// its expiry, otherwise a new one. Concurrent callers for the same client
// share one token request. rejected is a token the API has just refused
// (401); it is not reused even if the cache still holds it.
func (c *Client) clientToken(ctx context.Context, conn provider.Connection, rejected string) (string, error) {
	const op = "client token"
	key := ClientTokenKey(conn.Credentials.ClientID, conn.Credentials.ClientSecret)
	if t, ok := c.cachedClientToken(ctx, key, rejected); ok {
		return t, nil
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return "", invalidRequest(op, err.Error())
	}
	// The flight outlives a caller whose context ends first (the others
	// still wait for it); each HTTP attempt is bounded by Options.Timeout.
	flightCtx := context.WithoutCancel(ctx)
	v, err, _ := c.tokens.Do(h.auth+"\x00"+key, func() (any, error) {
		if t, ok := c.cachedClientToken(flightCtx, key, rejected); ok {
			return t, nil // stored by a flight that ended just before this one began
		}
		tr, err := c.grant(flightCtx, conn, op, opClientToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"data"}}, nil)
		if err != nil {
			return "", err
		}
		t := tr.tokens(c.opts.HTTP.Now())
		t.RefreshToken = ""
		if err := c.opts.TokenCache.Put(flightCtx, key, t); err != nil {
			// The token works without the cache; the next call fetches again.
			c.log.Error(err, "storing the TrueLayer client token failed", "client", conn.Credentials.ClientID)
		}
		return t.AccessToken, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (c *Client) cachedClientToken(ctx context.Context, key, rejected string) (string, bool) {
	t, ok, err := c.opts.TokenCache.Get(ctx, key)
	if err != nil {
		c.log.Error(err, "reading the TrueLayer client token cache failed; fetching a new token")
		return "", false
	}
	if !ok || t.AccessToken == "" || t.AccessToken == rejected {
		return "", false
	}
	if !c.opts.HTTP.Now().Add(c.opts.ClientTokenRenewBefore).Before(t.ExpiresAt) {
		return "", false
	}
	return t.AccessToken, true
}
