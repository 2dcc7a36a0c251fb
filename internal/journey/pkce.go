package journey

import (
	"crypto/sha256"
	"encoding/base64"
)

// Verifier is the PKCE code verifier (RFC 7636) of one journey of one connection. It
// is derived, not stored: the reconciler computes it when it builds the link and again
// when it redeems the code, so it is never written anywhere a reader of the object,
// the browser or the provider's front channel could see it.
//
// keyID names the key current when the journey started (status.authorization.keyID),
// so a rotation while the user is at the bank does not change the verifier.
func (k *Keys) Verifier(keyID, uid, journeyNonce string) (string, error) {
	mk := k.set.Load().byID[keyID]
	if mk == nil {
		return "", ErrInvalid
	}
	sum := mk.derive(purposeVerifier + ":" + uid + ":" + journeyNonce)
	return base64.RawURLEncoding.EncodeToString(sum), nil // 43 characters of [A-Za-z0-9_-]
}

// Challenge is the S256 code challenge of a verifier.
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
