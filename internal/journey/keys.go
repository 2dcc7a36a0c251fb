package journey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
)

// MinKeyLength is the shortest master key accepted (256 bits).
const MinKeyLength = 32

// maxSealedLength bounds what Open reads: every sealed value is well under 1 KiB.
const maxSealedLength = 2048

// Purposes separate the keys derived from the master key.
const (
	purposeState    = "oauth-state"
	purposeTicket   = "outcome-ticket"
	purposeCode     = "code-handoff"
	purposeVerifier = "pkce-verifier"
	purposeWebhook  = "webhook-token"
)

// ErrInvalid means a sealed value was not sealed by this key for this purpose (forged,
// truncated, or sealed for something else). It says nothing more, on purpose.
var ErrInvalid = errors.New("not a valid sealed value")

// Keys seals and opens the journey's values. It holds a current key, which seals,
// and any number of accepted keys, which only open: a value names the key that sealed
// it, so a key can rotate while journeys are in flight (see Update). It is safe for
// concurrent use.
type Keys struct {
	set atomic.Pointer[keySet]
}

type keySet struct {
	current *masterKey
	byID    map[string]*masterKey
}

type masterKey struct {
	id     string
	master []byte
}

// NewKeys derives the journey's keys from a current master key and the keys that are
// still (previous) or already (next) accepted.
func NewKeys(current []byte, accepted ...[]byte) (*Keys, error) {
	k := &Keys{}
	if err := k.Update(current, accepted...); err != nil {
		return nil, err
	}
	return k, nil
}

// Update replaces the keys at once, for every holder of k (the gateway and the
// reconciler share one Keys): values sealed by a key that is no longer current nor
// accepted stop opening.
func (k *Keys) Update(current []byte, accepted ...[]byte) error {
	set := &keySet{byID: map[string]*masterKey{}}
	for i, raw := range append([][]byte{current}, accepted...) {
		if len(raw) < MinKeyLength {
			return fmt.Errorf("journey key must be at least %d bytes, got %d", MinKeyLength, len(raw))
		}
		mk := &masterKey{id: keyID(raw), master: append([]byte(nil), raw...)}
		if i == 0 {
			set.current = mk
		}
		set.byID[mk.id] = mk
	}
	k.set.Store(set)
	return nil
}

// keyID names a master key in every sealed value: the first 8 hex digits of a hash.
func keyID(master []byte) string {
	sum := sha256.Sum256(append([]byte("key-id:"), master...))
	return hex.EncodeToString(sum[:4])
}

// ID is the id of the current key, which seals.
func (k *Keys) ID() string { return k.set.Load().current.id }

// Accepts is true when a value sealed by key id still opens.
func (k *Keys) Accepts(id string) bool {
	_, ok := k.set.Load().byID[id]
	return ok
}

func (mk *masterKey) derive(purpose string) []byte {
	m := hmac.New(sha256.New, mk.master)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func (mk *masterKey) aead(purpose string) (cipher.AEAD, error) {
	block, err := aes.NewCipher(mk.derive(purpose))
	if err != nil {
		return nil, fmt.Errorf("journey cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// seal encrypts and authenticates plaintext for purpose, binding aad: "<key id>.<base64url(nonce|ciphertext)>".
func (k *Keys) seal(purpose string, plaintext, aad []byte) (string, error) {
	mk := k.set.Load().current
	a, err := mk.aead(purpose)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("reading nonce: %w", err)
	}
	out := a.Seal(nonce, nonce, plaintext, aad)
	return mk.id + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// open reverses seal. Every failure is ErrInvalid.
func (k *Keys) open(purpose, sealed string, aad []byte) ([]byte, error) {
	if len(sealed) == 0 || len(sealed) > maxSealedLength {
		return nil, ErrInvalid
	}
	id, body, ok := strings.Cut(sealed, ".")
	mk := k.set.Load().byID[id]
	if !ok || mk == nil {
		return nil, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, ErrInvalid
	}
	a, err := mk.aead(purpose)
	if err != nil {
		return nil, ErrInvalid
	}
	if len(raw) < a.NonceSize()+a.Overhead() {
		return nil, ErrInvalid
	}
	plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], aad)
	if err != nil {
		return nil, ErrInvalid
	}
	return plain, nil
}
