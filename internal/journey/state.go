package journey

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// State is what the OAuth state carries through the provider and back, sealed: the
// connection, the journey (its link secret) and the browser that opened the link.
type State struct {
	Namespace string    `json:"ns"`
	Name      string    `json:"n"`
	UID       string    `json:"u"`
	Nonce     string    `json:"j"`
	Browser   string    `json:"b"`
	Expiry    time.Time `json:"e"`
	// Request names a re-authentication request (outcome tickets of such a wait only).
	Request string `json:"q,omitempty"`
}

// ErrExpired means a sealed state or ticket was valid but its time has passed.
var ErrExpired = errors.New("expired")

// SealState seals an OAuth state.
func (k *Keys) SealState(s State) (string, error) { return k.sealJSON(purposeState, s) }

// OpenState opens an OAuth state and checks its expiry.
func (k *Keys) OpenState(sealed string, now time.Time) (State, error) {
	return k.openJSON(purposeState, sealed, now)
}

// SealTicket seals an outcome ticket: what the page the browser waits on after the
// callback needs, with neither code nor state in its URL.
func (k *Keys) SealTicket(s State) (string, error) { return k.sealJSON(purposeTicket, s) }

// OpenTicket opens an outcome ticket and checks its expiry.
func (k *Keys) OpenTicket(sealed string, now time.Time) (State, error) {
	return k.openJSON(purposeTicket, sealed, now)
}

func (k *Keys) sealJSON(purpose string, s State) (string, error) {
	s.Expiry = s.Expiry.UTC().Truncate(time.Second)
	payload, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("encoding %s: %w", purpose, err)
	}
	return k.seal(purpose, payload, nil)
}

func (k *Keys) openJSON(purpose, sealed string, now time.Time) (State, error) {
	payload, err := k.open(purpose, sealed, nil)
	if err != nil {
		return State{}, err
	}
	var s State
	if err := json.Unmarshal(payload, &s); err != nil || s.Namespace == "" || s.Name == "" || s.UID == "" || s.Nonce == "" || s.Expiry.IsZero() {
		return State{}, ErrInvalid
	}
	if !now.Before(s.Expiry) {
		return s, ErrExpired
	}
	return s, nil
}
