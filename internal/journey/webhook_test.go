package journey

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestWebhookTokens: a webhook token opens to its run until its expiry, shows none of
// what it names, opens after a rotation while its key is still accepted, and is not
// interchangeable with a state.
func TestWebhookTokens(t *testing.T) {
	k := testKeys(t, 1)
	tok := WebhookToken{Namespace: "team-a", Name: "nightly", RunID: "nightly-1767603600", Expiry: now.Add(24 * time.Hour)}
	sealed := roundTrip(t, "OpenWebhookToken", k.SealWebhookToken, k.OpenWebhookToken, tok)
	for _, name := range []string{"team-a", "nightly", "1767603600"} {
		if strings.Contains(sealed, name) {
			t.Errorf("token shows %q", name)
		}
	}
	if _, err := k.OpenWebhookToken(sealed, tok.Expiry); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v, want ErrExpired", err)
	}
	if _, err := k.OpenState(sealed, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("a webhook token opened as a state: %v", err)
	}
	st, _ := k.SealState(State{Namespace: "a", Name: "b", UID: "u", Nonce: "n", Browser: "b", Expiry: now.Add(time.Hour)})
	if _, err := k.OpenWebhookToken(st, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("a state opened as a webhook token: %v", err)
	}
	if _, err := testKeys(t, 2).OpenWebhookToken(sealed, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("another key opened the token: %v", err)
	}
	if _, err := k.OpenWebhookToken(sealed[:len(sealed)-2], now); !errors.Is(err, ErrInvalid) {
		t.Errorf("a truncated token opened: %v", err)
	}
	next := bytes.Repeat([]byte{3}, 32)
	if err := k.Update(next, bytes.Repeat([]byte{1}, 32)); err != nil {
		t.Fatal(err)
	}
	if _, err := k.OpenWebhookToken(sealed, now); err != nil {
		t.Errorf("after rotation, with the old key accepted: %v", err)
	}
	if err := k.Update(next); err != nil {
		t.Fatal(err)
	}
	if _, err := k.OpenWebhookToken(sealed, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("after the old key was dropped: %v", err)
	}
}
