package journey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// browserSecretLength is the size of the secret in the browser cookie (256 bits).
const browserSecretLength = 32

// NewBrowserSecret returns a random value for the browser cookie.
func NewBrowserSecret() (string, error) {
	b := make([]byte, browserSecretLength)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading browser secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidBrowserSecret is true for a value NewBrowserSecret could have returned.
func ValidBrowserSecret(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == browserSecretLength
}

// BrowserHash is what the state carries of the cookie: enough to compare, nothing to
// replay.
func BrowserHash(secret string) string {
	sum := sha256.Sum256([]byte("browser:" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewLinkSecret returns the unguessable secret of a connect link (256 bits).
func NewLinkSecret() (string, error) { return NewBrowserSecret() }
