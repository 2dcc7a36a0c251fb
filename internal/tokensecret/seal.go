package tokensecret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Sealed values: "enc:v2:<key id>:" + base64(nonce || ciphertext), the key id being
// the first 8 hex digits of the key's SHA-256, so a value names the key that sealed
// it and keys can rotate. "enc:v1:" values (no key id, written before rotation
// existed) are opened with each configured key in turn.
const (
	sealedPrefixV1 = "enc:v1:"
	sealedPrefixV2 = "enc:v2:"
)

// PreviousKeySuffix names, beside the encryption key's own Secret key, the key it
// replaced: "<key>.previous". Values sealed with it still open; every write seals
// with the current key, so tokens move to it at their next refresh.
const PreviousKeySuffix = ".previous"

// Sealer encrypts token values with AES-256-GCM. The Secret's namespace, name and the
// key name are the additional data, so a sealed value copied to another Secret or key
// does not decrypt.
type Sealer struct {
	current sealKey
	// accepted opens values by key id; it holds the current key too.
	accepted map[string]sealKey
}

type sealKey struct {
	id   string
	aead cipher.AEAD
}

// NewSealer builds a Sealer from the current 32-byte key and any keys it replaced,
// each raw or base64-encoded.
func NewSealer(current []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{accepted: map[string]sealKey{}}
	for i, raw := range append([][]byte{current}, previous...) {
		k, err := newSealKey(raw)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			s.current = k
		}
		s.accepted[k.id] = k
	}
	return s, nil
}

func newSealKey(key []byte) (sealKey, error) {
	k := key
	if len(k) != 32 {
		decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(key)))
		if err != nil || len(decoded) != 32 {
			return sealKey{}, errors.New("encryption key must be 32 bytes, raw or base64-encoded")
		}
		k = decoded
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return sealKey{}, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealKey{}, fmt.Errorf("creating GCM: %w", err)
	}
	sum := sha256.Sum256(k)
	return sealKey{id: hex.EncodeToString(sum[:4]), aead: aead}, nil
}

// KeyID is the id of the current key (what new values are sealed with).
func (s *Sealer) KeyID() string { return s.current.id }

func (s *Sealer) seal(plain []byte, aad string) ([]byte, error) {
	a := s.current.aead
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("reading nonce: %w", err)
	}
	out := a.Seal(nonce, nonce, plain, []byte(aad))
	return []byte(sealedPrefixV2 + s.current.id + ":" + base64.StdEncoding.EncodeToString(out)), nil
}

func (s *Sealer) open(sealed []byte, aad string) ([]byte, error) {
	str := string(sealed)
	var candidates []sealKey
	var body string
	switch {
	case strings.HasPrefix(str, sealedPrefixV2):
		id, b, ok := strings.Cut(strings.TrimPrefix(str, sealedPrefixV2), ":")
		k, known := s.accepted[id]
		if !ok || !known {
			return nil, errors.New("encrypted value was sealed with a key that is neither the configured key nor its .previous")
		}
		candidates, body = []sealKey{k}, b
	case strings.HasPrefix(str, sealedPrefixV1):
		candidates, body = s.all(), strings.TrimPrefix(str, sealedPrefixV1)
	default:
		return nil, errors.New("value is not encrypted but an encryption key is configured")
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, errors.New("encrypted value is not valid base64")
	}
	for _, k := range candidates {
		ns := k.aead.NonceSize()
		if len(raw) < ns {
			return nil, errors.New("encrypted value is too short")
		}
		if plain, err := k.aead.Open(nil, raw[:ns], raw[ns:], []byte(aad)); err == nil {
			return plain, nil
		}
	}
	return nil, errors.New("encrypted value does not decrypt with the configured key")
}

// all returns the current key first, then the others.
func (s *Sealer) all() []sealKey {
	out := []sealKey{s.current}
	for id, k := range s.accepted {
		if id != s.current.id {
			out = append(out, k)
		}
	}
	return out
}
