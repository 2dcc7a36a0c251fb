package tokensecret

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// ClientTokenCache keeps provider client-credentials tokens (TrueLayer Data API v3)
// in one Secret in the operator's namespace, so every replica and every restart
// shares one token per client instead of asking the provider for a new one. Reads
// are served from memory after the first. The Secret is not of the token type, so the
// manager's cache does not hold it (and holds no whole Secret): it is read directly.
type ClientTokenCache struct {
	// Client writes the Secret.
	Client client.Client
	// Reader reads it from the apiserver.
	Reader    client.Reader
	Namespace string
	Name      string

	mem sync.Map // key -> provider.Tokens
}

type cachedToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	Scope       string    `json:"scope,omitempty"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// dataKey turns a cache key (which may hold characters a Secret key cannot) into a
// Secret data key.
func dataKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "client-" + hex.EncodeToString(sum[:12])
}

// Get returns the cached token for key.
func (c *ClientTokenCache) Get(ctx context.Context, key string) (provider.Tokens, bool, error) {
	if t, ok := c.mem.Load(key); ok {
		return t.(provider.Tokens), true, nil
	}
	s := &corev1.Secret{}
	if err := c.Reader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: c.Name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return provider.Tokens{}, false, nil
		}
		return provider.Tokens{}, false, fmt.Errorf("reading client token Secret: %w", err)
	}
	raw, ok := s.Data[dataKey(key)]
	if !ok {
		return provider.Tokens{}, false, nil
	}
	var ct cachedToken
	if err := json.Unmarshal(raw, &ct); err != nil {
		return provider.Tokens{}, false, nil // unreadable entry: fetch a new token
	}
	t := provider.Tokens{AccessToken: ct.AccessToken, TokenType: ct.TokenType, Scope: ct.Scope, ExpiresAt: ct.ExpiresAt}
	c.mem.Store(key, t)
	return t, true, nil
}

// Put stores the token for key, in memory and in the Secret.
func (c *ClientTokenCache) Put(ctx context.Context, key string, t provider.Tokens) error {
	c.mem.Store(key, t)
	raw, err := json.Marshal(cachedToken{AccessToken: t.AccessToken, TokenType: t.TokenType, Scope: t.Scope, ExpiresAt: t.ExpiresAt.UTC()})
	if err != nil {
		return fmt.Errorf("encoding client token: %w", err)
	}
	// Replicas and concurrent clients write this one Secret: a lost race (conflict, or
	// a create that another writer won) is retried on the latest version.
	raced := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	err = retry.OnError(saveBackoff, raced, func() error {
		s := &corev1.Secret{}
		err := c.Reader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: c.Name}, s)
		if apierrors.IsNotFound(err) {
			s = &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: c.Name,
					Labels: map[string]string{bankingv1alpha1.LabelManagedBy: bankingv1alpha1.ManagedByValue}},
				Type: corev1.SecretTypeOpaque,
				Data: map[string][]byte{dataKey(key): raw},
			}
			return c.Client.Create(ctx, s)
		}
		if err != nil {
			return err
		}
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[dataKey(key)] = raw
		return c.Client.Update(ctx, s)
	})
	if err != nil {
		return fmt.Errorf("storing client token in Secret %s: %w", c.Name, err)
	}
	return nil
}
