package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretPrefix marks a Standard Webhooks signing secret; the rest is base64.
const secretPrefix = "whsec_"

// minSecretBytes is the shortest key accepted: the specification asks for 24 to 64
// random bytes, and a short key makes signatures guessable.
const minSecretBytes = 24

// ErrWeakSecret is a signing secret too short to be safe.
var ErrWeakSecret = errors.New("the signing secret must hold at least 24 bytes")

// ParseSecret reads a signing secret as the Standard Webhooks libraries write it:
// "whsec_" followed by standard base64 (the prefix may be left out). The error
// never contains the secret.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), secretPrefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("the signing secret is not whsec_ followed by base64")
	}
	if len(key) < minSecretBytes {
		return nil, ErrWeakSecret
	}
	return key, nil
}

// Sign returns the webhook-signature of one message: "v1," and the base64 HMAC-SHA256
// of "id.timestamp.body".
func Sign(key []byte, id string, at time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, at.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SetHeaders puts the three Standard Webhooks headers and the content type on h.
func SetHeaders(h http.Header, key []byte, id string, at time.Time, body []byte) {
	h.Set("Content-Type", "application/json")
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderSignature, Sign(key, id, at, body))
}
