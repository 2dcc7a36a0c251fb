package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxStateLength bounds the state parameter read from a callback; a signed state is
// well under 1 KiB.
const MaxStateLength = 2048

// State is what the OAuth state parameter carries through the provider and back. It
// identifies the BankConnection and the one authorization attempt it belongs to.
type State struct {
	Namespace string    `json:"ns"`
	Name      string    `json:"n"`
	UID       string    `json:"u"`
	UserRef   string    `json:"r"`
	Nonce     string    `json:"x"`
	Expiry    time.Time `json:"e"`
}

// Errors from VerifyState. The callback maps each to its own page and status.
var (
	ErrStateMalformed = errors.New("state is malformed")
	ErrStateForged    = errors.New("state signature does not match")
	ErrStateExpired   = errors.New("state has expired")
)

// StateKey signs and verifies states with HMAC-SHA256.
type StateKey []byte

// Sign returns the state as base64url(JSON) "." base64url(HMAC-SHA256(JSON)).
func (k StateKey) Sign(s State) (string, error) {
	s.Expiry = s.Expiry.UTC().Truncate(time.Second)
	payload, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encoding state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(k.mac(payload)), nil
}

// Verify checks the signature and expiry of a state and decodes it.
func (k StateKey) Verify(token string, now time.Time) (State, error) {
	if len(token) == 0 || len(token) > MaxStateLength {
		return State{}, ErrStateMalformed
	}
	payloadB64, sigB64, ok := strings.Cut(token, ".")
	if !ok {
		return State{}, ErrStateMalformed
	}
	payload, err := base64.RawURLEncoding.DecodeString(payloadB64)
	if err != nil {
		return State{}, ErrStateMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigB64)
	if err != nil {
		return State{}, ErrStateMalformed
	}
	// Check the signature before parsing, so nothing an attacker wrote is interpreted.
	if !hmac.Equal(sig, k.mac(payload)) {
		return State{}, ErrStateForged
	}
	var s State
	if err := json.Unmarshal(payload, &s); err != nil {
		return State{}, ErrStateMalformed
	}
	if s.Namespace == "" || s.Name == "" || s.UID == "" || s.Nonce == "" || s.Expiry.IsZero() {
		return State{}, ErrStateMalformed
	}
	if !now.Before(s.Expiry) {
		return State{}, ErrStateExpired
	}
	return s, nil
}

func (k StateKey) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, k)
	m.Write(payload)
	return m.Sum(nil)
}
