package tokensecret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
)

func testConnection() *bankingv1alpha1.BankConnection {
	return &bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "alice", UID: "uid-1"}}
}

func testTokens() provider.Tokens {
	return provider.Tokens{
		AccessToken: "access-secret-value", RefreshToken: "refresh-secret-value", TokenType: "Bearer",
		Scope: "info accounts", ExpiresAt: time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC),
	}
}

func newKey(t *testing.T) []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRoundTrip(t *testing.T) {
	key := newKey(t)
	b64, err := NewSealer([]byte(base64.StdEncoding.EncodeToString(key)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, sealer := range map[string]*Sealer{"plain": nil, "sealed with base64 key": b64, "sealed with raw key": raw} {
		t.Run(name, func(t *testing.T) {
			s := New(testConnection())
			if err := Encode(s, testTokens(), sealer); err != nil {
				t.Fatal(err)
			}
			if sealer != nil {
				for _, k := range sealedKeys {
					if bytes.Contains(s.Data[k], []byte("secret-value")) || !bytes.HasPrefix(s.Data[k], []byte(sealedPrefixV2+sealer.KeyID()+":")) {
						t.Fatalf("%s stored in clear: %q", k, s.Data[k])
					}
				}
			}
			got, ok, err := Decode(s, sealer)
			if err != nil || !ok {
				t.Fatalf("Decode: ok=%v err=%v", ok, err)
			}
			if got != testTokens() {
				t.Fatalf("round trip changed tokens: %+v", got)
			}
		})
	}
}

func TestSealedValueIsBoundToItsSecretAndKey(t *testing.T) {
	sealer, err := NewSealer(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	s := New(testConnection())
	if err := Encode(s, testTokens(), sealer); err != nil {
		t.Fatal(err)
	}
	// Swapping the two sealed values must not decrypt.
	s.Data[KeyAccessToken], s.Data[KeyRefreshToken] = s.Data[KeyRefreshToken], s.Data[KeyAccessToken]
	if _, _, err := Decode(s, sealer); err == nil {
		t.Fatal("values moved between keys decrypted")
	}
	// Another key does not decrypt, and the error names no value.
	s2 := New(testConnection())
	_ = Encode(s2, testTokens(), sealer)
	other, _ := NewSealer(newKey(t))
	_, _, err = Decode(s2, other)
	if err == nil || strings.Contains(err.Error(), "secret-value") {
		t.Fatalf("wrong key: err=%v", err)
	}
	// A clear value with a key configured is refused (someone bypassed encryption).
	s3 := New(testConnection())
	_ = Encode(s3, testTokens(), nil)
	if _, _, err := Decode(s3, sealer); err == nil {
		t.Fatal("clear value accepted with an encryption key configured")
	}
}

func TestBadKeys(t *testing.T) {
	for _, k := range [][]byte{nil, []byte("short"), bytes.Repeat([]byte("x"), 31), []byte(base64.StdEncoding.EncodeToString(make([]byte, 16)))} {
		if _, err := NewSealer(k); err == nil {
			t.Errorf("key of %d bytes accepted", len(k))
		}
	}
}

func TestEmptySecretHoldsNoTokens(t *testing.T) {
	_, ok, err := Decode(New(testConnection()), nil)
	if ok || err != nil {
		t.Fatalf("empty Secret: ok=%v err=%v", ok, err)
	}
}

func TestOwnershipAndMarker(t *testing.T) {
	bc := testConnection()
	s := New(bc)
	if s.Type != bankingv1alpha1.SecretTypeToken || s.Labels[bankingv1alpha1.LabelManagedBy] != bankingv1alpha1.ManagedByValue {
		t.Fatalf("not typed and labelled: %+v", s.ObjectMeta)
	}
	if err := CheckOwned(s, bc); err != nil {
		t.Fatal(err)
	}
	Adopt(s, bc)
	if len(s.OwnerReferences) != 1 {
		t.Fatalf("Adopt twice added %d ownerRefs", len(s.OwnerReferences))
	}
	foreign := New(bc)
	foreign.OwnerReferences = nil
	if err := CheckOwned(foreign, bc); err == nil {
		t.Fatal("a Secret not owned by the connection was accepted")
	}
	if RefreshInFlight(s) {
		t.Fatal("new Secret has a marker")
	}
	MarkRefreshInFlight(s, time.Now())
	if !RefreshInFlight(s) {
		t.Fatal("marker not set")
	}
	ClearRefreshInFlight(s)
	if RefreshInFlight(s) {
		t.Fatal("marker not cleared")
	}
	bc.Spec.TokenSecret = &bankingv1alpha1.TokenSecretSpec{Name: "custom"}
	if Name(bc) != "custom" || Name(testConnection()) != "alice-token" {
		t.Fatal("Name does not follow spec.tokenSecret.name")
	}
}

// TestKeyRotation: with the old key kept as "<key>.previous", tokens sealed with it
// (v2 with its key id, or v1 from before key ids) still open, every new write seals
// with the new key, and once the previous key is dropped the old values stop opening.
func TestKeyRotation(t *testing.T) {
	oldKey, newKey := newKey(t), newKey(t)
	before, err := NewSealer(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	s := New(testConnection())
	if err := Encode(s, testTokens(), before); err != nil {
		t.Fatal(err)
	}
	legacy := New(testConnection())
	plain := []byte("legacy-refresh")
	v2, _ := before.seal(plain, aad(legacy, KeyRefreshToken))
	legacy.Data = map[string][]byte{KeyAccessToken: []byte("x")}
	legacy.Data[KeyRefreshToken] = []byte(sealedPrefixV1 + strings.TrimPrefix(string(v2), sealedPrefixV2+before.KeyID()+":"))

	rotated, err := NewSealer(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.KeyID() == before.KeyID() {
		t.Fatal("the current key did not change")
	}
	cases := []struct {
		name   string
		sealer *Sealer
		secret *corev1.Secret
		key    string
		want   string
		ok     bool
	}{
		{"v2 with the previous key", rotated, s, KeyAccessToken, testTokens().AccessToken, true},
		{"v1 with the previous key", rotated, legacy, KeyRefreshToken, string(plain), true},
		{"previous key dropped", mustSealer(t, newKey), s, KeyAccessToken, "", false},
		{"v1, previous key dropped", mustSealer(t, newKey), legacy, KeyRefreshToken, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.sealer.open(tc.secret.Data[tc.key], aad(tc.secret, tc.key))
			if (err == nil) != tc.ok || string(got) != tc.want {
				t.Fatalf("open = %q, %v; want %q, ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
	// The next write (a refresh) re-seals with the new key.
	if err := Encode(s, testTokens(), rotated); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(s.Data[KeyAccessToken], []byte(sealedPrefixV2+rotated.KeyID()+":")) {
		t.Fatalf("re-sealed value %q does not name the new key", s.Data[KeyAccessToken])
	}
	if _, ok, err := Decode(s, mustSealer(t, newKey)); err != nil || !ok {
		t.Fatalf("after the write the new key alone opens the Secret: %v", err)
	}
}

func mustSealer(t *testing.T, key []byte) *Sealer {
	t.Helper()
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
