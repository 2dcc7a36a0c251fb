package gateway

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func validState() State {
	return State{Namespace: "ns", Name: "alice", UID: "uid-1", UserRef: "user-1", Nonce: "n0nce", Expiry: now.Add(time.Hour)}
}

func TestStateRoundTrip(t *testing.T) {
	key := StateKey("0123456789abcdef0123456789abcdef")
	token, err := key.Sign(validState())
	if err != nil {
		t.Fatal(err)
	}
	got, err := key.Verify(token, now)
	if err != nil {
		t.Fatal(err)
	}
	if got != validState() {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestStateRejections(t *testing.T) {
	key := StateKey("0123456789abcdef0123456789abcdef")
	good, _ := key.Sign(validState())
	payload, sig, _ := strings.Cut(good, ".")
	otherKeyToken, _ := StateKey("another key of thirty-two bytes!").Sign(validState())
	expired := validState()
	expired.Expiry = now
	expiredToken, _ := key.Sign(expired)
	incomplete := validState()
	incomplete.UID = ""
	incompleteToken, _ := key.Sign(incomplete)
	// A payload edited to name another connection, keeping the old signature.
	tampered := strings.Replace(good, payload, payload[:len(payload)-2]+"AA", 1)

	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrStateMalformed},
		{"no separator", payload, ErrStateMalformed},
		{"bad base64 payload", "!!!." + sig, ErrStateMalformed},
		{"bad base64 signature", payload + ".!!!", ErrStateMalformed},
		{"oversized", strings.Repeat("a", MaxStateLength+1), ErrStateMalformed},
		{"signed with another key", otherKeyToken, ErrStateForged},
		{"tampered payload", tampered, ErrStateForged},
		{"truncated signature", good[:len(good)-3], ErrStateForged},
		{"expired", expiredToken, ErrStateExpired},
		{"missing fields", incompleteToken, ErrStateMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := key.Verify(tc.token, now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzVerifyState(f *testing.F) {
	key := StateKey("0123456789abcdef0123456789abcdef")
	good, _ := key.Sign(validState())
	for _, seed := range []string{good, "", ".", "a.b", good + good, strings.Repeat(".", 100)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		s, err := key.Verify(token, now)
		if err != nil {
			return
		}
		// Anything accepted must re-sign to a token that verifies to the same state.
		again, err := key.Sign(s)
		if err != nil {
			t.Fatal(err)
		}
		if s2, err := key.Verify(again, now); err != nil || s2 != s {
			t.Fatalf("accepted state does not round-trip: %v", err)
		}
	})
}
