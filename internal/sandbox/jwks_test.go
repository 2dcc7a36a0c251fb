package sandbox_test

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func base64URLDecode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// verifyWithJWKS checks a token the way a third-party client would: with
// golang-jwt and the RSA key from the published JWKS.
func verifyWithJWKS(t *testing.T, token string, jwks []byte) bool {
	t.Helper()
	var set struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("jwks: %v", err)
	}
	n, _ := base64URLDecode(set.Keys[0].N)
	e, _ := base64URLDecode(set.Keys[0].E)
	pub := &rsaPublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	// The sandbox clock is not the wall clock: validate the signature only.
	_, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return pub.key(), nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		t.Logf("jwt.Parse: %v", err)
	}
	return err == nil
}
