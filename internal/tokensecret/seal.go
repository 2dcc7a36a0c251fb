package tokensecret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// sealedPrefix marks an encrypted value: "enc:v1:" + base64(nonce || ciphertext).
const sealedPrefix = "enc:v1:"

// Sealer encrypts token values with AES-256-GCM. The Secret's namespace, name and the
// key name are the additional data, so a sealed value copied to another Secret or key
// does not decrypt.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer builds a Sealer from a 32-byte key given raw or base64-encoded.
func NewSealer(key []byte) (*Sealer, error) {
	k := key
	if len(k) != 32 {
		decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(key)))
		if err != nil || len(decoded) != 32 {
			return nil, errors.New("encryption key must be 32 bytes, raw or base64-encoded")
		}
		k = decoded
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating GCM: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

func (s *Sealer) seal(plain []byte, aad string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("reading nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, plain, []byte(aad))
	return []byte(sealedPrefix + base64.StdEncoding.EncodeToString(out)), nil
}

func (s *Sealer) open(sealed []byte, aad string) ([]byte, error) {
	str := string(sealed)
	if !strings.HasPrefix(str, sealedPrefix) {
		return nil, errors.New("value is not encrypted but an encryption key is configured")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(str, sealedPrefix))
	if err != nil {
		return nil, errors.New("encrypted value is not valid base64")
	}
	ns := s.aead.NonceSize()
	if len(raw) < ns {
		return nil, errors.New("encrypted value is too short")
	}
	plain, err := s.aead.Open(nil, raw[:ns], raw[ns:], []byte(aad))
	if err != nil {
		return nil, errors.New("encrypted value does not decrypt with the configured key")
	}
	return plain, nil
}
