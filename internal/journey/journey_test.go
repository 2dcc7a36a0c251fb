package journey

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// roundTrip seals v, checks that opening it (open, named in the failure) gives v
// back, and returns the sealed form.
func roundTrip[T comparable](t *testing.T, open string, seal func(T) (string, error), opener func(string, time.Time) (T, error), v T) string {
	t.Helper()
	sealed, err := seal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := opener(sealed, now); err != nil || got != v {
		t.Fatalf("%s = %+v, %v; want %+v", open, got, err, v)
	}
	return sealed
}

func testKeys(t *testing.T, fill byte) *Keys {
	t.Helper()
	k, err := NewKeys(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewKeysRefusesShortKeys(t *testing.T) {
	if _, err := NewKeys(make([]byte, 31)); err == nil {
		t.Fatal("a 31-byte key was accepted")
	}
}

func TestStateRoundTripAndRefusals(t *testing.T) {
	k, other := testKeys(t, 1), testKeys(t, 2)
	st := State{Namespace: "team-a", Name: "alice", UID: "uid-1", Nonce: "link", Browser: "b", Expiry: now.Add(time.Hour)}
	sealed := roundTrip(t, "OpenState", k.SealState, k.OpenState, st)
	// Nothing the browser or provider sees names the connection.
	for _, leak := range []string{"team-a", "alice", "uid-1", "link"} {
		if strings.Contains(sealed, leak) {
			t.Errorf("sealed state shows %q", leak)
		}
	}
	if !strings.HasPrefix(sealed, k.ID()+".") {
		t.Errorf("sealed state %q does not start with the key id %s", sealed, k.ID())
	}
	ticket, _ := k.SealTicket(st)
	tampered := []byte(sealed)
	tampered[len(tampered)-3] ^= 1
	cases := []struct {
		name   string
		keys   *Keys
		sealed string
		at     time.Time
		want   error
	}{
		{"expired", k, sealed, now.Add(time.Hour), ErrExpired},
		{"other key", other, sealed, now, ErrInvalid},
		{"tampered", k, string(tampered), now, ErrInvalid},
		{"truncated", k, sealed[:len(sealed)-5], now, ErrInvalid},
		{"empty", k, "", now, ErrInvalid},
		{"no key id", k, strings.SplitN(sealed, ".", 2)[1], now, ErrInvalid},
		{"oversized", k, k.ID() + "." + strings.Repeat("A", 4000), now, ErrInvalid},
		{"a ticket is not a state", k, ticket, now, ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.keys.OpenState(tc.sealed, tc.at); !errors.Is(err, tc.want) {
				t.Fatalf("OpenState error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSealedValuesDiffer(t *testing.T) {
	k := testKeys(t, 1)
	st := State{Namespace: "a", Name: "b", UID: "c", Nonce: "d", Expiry: now.Add(time.Hour)}
	one, _ := k.SealState(st)
	two, _ := k.SealState(st)
	if one == two {
		t.Fatal("two seals of the same state are equal: the nonce is not random")
	}
}

func TestCodeIsBoundToItsJourney(t *testing.T) {
	k := testKeys(t, 1)
	b := Binding{Namespace: "a", Name: "alice", UID: "u1", Nonce: "j1"}
	sealed, err := k.SealCode("the-code", b)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "the-code") {
		t.Fatal("the sealed code shows the code")
	}
	if got, err := k.OpenCode(sealed, b); err != nil || got != "the-code" {
		t.Fatalf("OpenCode = %q, %v", got, err)
	}
	for _, other := range []Binding{
		{Namespace: "b", Name: "alice", UID: "u1", Nonce: "j1"},
		{Namespace: "a", Name: "bob", UID: "u1", Nonce: "j1"},
		{Namespace: "a", Name: "alice", UID: "u2", Nonce: "j1"},
		{Namespace: "a", Name: "alice", UID: "u1", Nonce: "j2"},
	} {
		if _, err := k.OpenCode(sealed, other); !errors.Is(err, ErrInvalid) {
			t.Errorf("code opened for %+v: %v", other, err)
		}
	}
}

func TestVerifierIsValidPKCE(t *testing.T) {
	k := testKeys(t, 1)
	verifier := func(k *Keys, id, nonce string) string {
		v, err := k.Verifier(id, "uid", nonce)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := verifier(k, k.ID(), "journey")
	if !regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`).MatchString(v) {
		t.Fatalf("verifier %q is not an RFC 7636 code verifier", v)
	}
	if v != verifier(k, k.ID(), "journey") {
		t.Fatal("the verifier is not stable for one journey")
	}
	other := testKeys(t, 2)
	if v == verifier(k, k.ID(), "other") || v == verifier(other, other.ID(), "journey") {
		t.Fatal("two journeys or keys share a verifier")
	}
	if _, err := k.Verifier(other.ID(), "uid", "journey"); err == nil {
		t.Fatal("a verifier was derived from a key that is not accepted")
	}
	// RFC 7636 appendix B.
	if got := Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("Challenge = %q", got)
	}
}

func TestSecrets(t *testing.T) {
	a, err := NewLinkSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewBrowserSecret()
	if a == b || !ValidBrowserSecret(a) || ValidBrowserSecret(a[:20]) || ValidBrowserSecret("!"+a[1:]) {
		t.Fatalf("secrets %q %q", a, b)
	}
	if BrowserHash(a) == BrowserHash(b) || BrowserHash(a) == a {
		t.Fatal("browser hash does not separate secrets")
	}
}

// TestRotation: after the current key changes, what the old key sealed still opens
// while it is accepted, new values are sealed with the new key, and a journey's
// verifier stays what it was when the journey started.
func TestRotation(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	k, err := NewKeys(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	oldID := k.ID()
	st := State{Namespace: "a", Name: "b", UID: "c", Nonce: "d", Expiry: now.Add(time.Hour)}
	inFlight, _ := k.SealState(st)
	verifier, _ := k.Verifier(oldID, "c", "d")

	// Step 1: the new key is accepted on every replica before it seals anything.
	if err := k.Update(oldKey, newKey); err != nil {
		t.Fatal(err)
	}
	// Step 2: it becomes current, the old one stays accepted.
	if err := k.Update(newKey, oldKey); err != nil {
		t.Fatal(err)
	}
	if k.ID() == oldID {
		t.Fatal("the current key did not change")
	}
	if _, err := k.OpenState(inFlight, now); err != nil {
		t.Fatalf("a state sealed before the rotation no longer opens: %v", err)
	}
	if v, err := k.Verifier(oldID, "c", "d"); err != nil || v != verifier {
		t.Fatalf("the in-flight journey's verifier changed: %v", err)
	}
	fresh, _ := k.SealState(st)
	if !strings.HasPrefix(fresh, k.ID()+".") {
		t.Fatalf("a new state is not sealed with the new key: %s", fresh)
	}
	// Step 3: the old key is dropped; what it sealed stops opening.
	if err := k.Update(newKey); err != nil {
		t.Fatal(err)
	}
	if _, err := k.OpenState(inFlight, now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a state sealed with a dropped key opened: %v", err)
	}
	if err := k.Update(make([]byte, 8)); err == nil || k.ID() == "" {
		t.Fatal("a short key was accepted")
	}
}
