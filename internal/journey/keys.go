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
)

// ErrInvalid means a sealed value was not sealed by this key for this purpose (forged,
// truncated, or sealed for something else). It says nothing more, on purpose.
var ErrInvalid = errors.New("not a valid sealed value")

// Keys seals and opens the journey's values. It is safe for concurrent use.
type Keys struct {
	id     string
	master []byte
}

// NewKeys derives the journey's keys from a master key.
func NewKeys(master []byte) (*Keys, error) {
	if len(master) < MinKeyLength {
		return nil, fmt.Errorf("journey key must be at least %d bytes, got %d", MinKeyLength, len(master))
	}
	sum := sha256.Sum256(append([]byte("key-id:"), master...))
	return &Keys{id: hex.EncodeToString(sum[:4]), master: append([]byte(nil), master...)}, nil
}

// ID names the master key in every sealed value (the first 8 hex digits of a hash).
func (k *Keys) ID() string { return k.id }

func (k *Keys) derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.master)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func (k *Keys) aead(purpose string) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k.derive(purpose))
	if err != nil {
		return nil, fmt.Errorf("journey cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// seal encrypts and authenticates plaintext for purpose, binding aad: "<key id>.<base64url(nonce|ciphertext)>".
func (k *Keys) seal(purpose string, plaintext, aad []byte) (string, error) {
	a, err := k.aead(purpose)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("reading nonce: %w", err)
	}
	out := a.Seal(nonce, nonce, plaintext, aad)
	return k.id + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// open reverses seal. Every failure is ErrInvalid.
func (k *Keys) open(purpose, sealed string, aad []byte) ([]byte, error) {
	if len(sealed) == 0 || len(sealed) > maxSealedLength {
		return nil, ErrInvalid
	}
	id, body, ok := strings.Cut(sealed, ".")
	if !ok || id != k.id {
		return nil, ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, ErrInvalid
	}
	a, err := k.aead(purpose)
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
