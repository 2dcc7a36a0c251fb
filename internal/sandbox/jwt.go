package sandbox

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

var b64 = base64.RawURLEncoding

// signer signs and verifies the sandbox's access tokens (compact JWS). It is
// stateless after construction, so signing runs in parallel without locks.
type signer struct {
	alg    TokenAlgorithm
	kid    string
	rsaKey *rsa.PrivateKey
	ecKey  *ecdsa.PrivateKey
	header string // base64url of the JOSE header
	jwks   []byte
}

func newSigner(alg TokenAlgorithm) (*signer, error) {
	s := &signer{alg: alg}
	var jwk map[string]any
	switch alg {
	case AlgES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate P-256 key: %w", err)
		}
		s.ecKey = k
		pub, err := k.PublicKey.Bytes() // uncompressed point 0x04 || X || Y
		if err != nil {
			return nil, fmt.Errorf("encode P-256 key: %w", err)
		}
		jwk = map[string]any{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(pub[1:33]), "y": b64.EncodeToString(pub[33:65])}
	default:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generate RSA key: %w", err)
		}
		s.rsaKey = k
		jwk = map[string]any{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	}
	thumb, _ := json.Marshal(jwk) // map of strings always marshals
	sum := sha256.Sum256(thumb)
	s.kid = strings.ToUpper(fmt.Sprintf("%X", sum[:16]))
	jwk["kid"], jwk["use"], jwk["alg"] = s.kid, "sig", string(alg)
	hdr, _ := json.Marshal(map[string]string{"alg": string(alg), "kid": s.kid, "typ": "at+jwt"})
	s.header = b64.EncodeToString(hdr)
	jwks, err := json.Marshal(map[string]any{"keys": []any{jwk}})
	if err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	s.jwks = jwks
	return s, nil
}

// sign returns the compact JWS of claims.
func (s *signer) sign(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	signingInput := s.header + "." + b64.EncodeToString(payload)
	sum := sha256.Sum256([]byte(signingInput))
	var sig []byte
	switch s.alg {
	case AlgES256:
		r, ss, err := ecdsa.Sign(rand.Reader, s.ecKey, sum[:])
		if err != nil {
			return "", fmt.Errorf("sign token: %w", err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		ss.FillBytes(sig[32:])
	default:
		sig, err = rsa.SignPKCS1v15(nil, s.rsaKey, crypto.SHA256, sum[:])
		if err != nil {
			return "", fmt.Errorf("sign token: %w", err)
		}
	}
	return signingInput + "." + b64.EncodeToString(sig), nil
}

var errBadToken = errors.New("malformed or forged token")

// verify checks the signature of a compact JWS issued by this signer and
// decodes its payload into claims.
func (s *signer) verify(token string, claims any) error {
	dot1 := strings.IndexByte(token, '.')
	dot2 := strings.LastIndexByte(token, '.')
	if dot1 < 0 || dot2 <= dot1 || token[:dot1] != s.header {
		return errBadToken
	}
	sig, err := b64.DecodeString(token[dot2+1:])
	if err != nil {
		return errBadToken
	}
	sum := sha256.Sum256([]byte(token[:dot2]))
	switch s.alg {
	case AlgES256:
		if len(sig) != 64 || !ecdsa.Verify(&s.ecKey.PublicKey, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return errBadToken
		}
	default:
		if rsa.VerifyPKCS1v15(&s.rsaKey.PublicKey, crypto.SHA256, sum[:], sig) != nil {
			return errBadToken
		}
	}
	payload, err := b64.DecodeString(token[dot1+1 : dot2])
	if err != nil {
		return errBadToken
	}
	if err := json.Unmarshal(payload, claims); err != nil {
		return errBadToken
	}
	return nil
}

// peekClaims decodes a JWT's payload without verifying it; used only to
// attribute a request to a client and connection for faults and call counts.
func peekClaims(token string, claims any) bool {
	dot1 := strings.IndexByte(token, '.')
	dot2 := strings.LastIndexByte(token, '.')
	if dot1 < 0 || dot2 <= dot1 {
		return false
	}
	payload, err := b64.DecodeString(token[dot1+1 : dot2])
	if err != nil {
		return false
	}
	return json.Unmarshal(payload, claims) == nil
}

// accessClaims are the claims of an access token, as in TrueLayer's example
// token (providers-api.md §2.2).
type accessClaims struct {
	NotBefore      int64    `json:"nbf"`
	Expires        int64    `json:"exp"`
	Issuer         string   `json:"iss"`
	Audience       string   `json:"aud"`
	ClientID       string   `json:"client_id"`
	Subject        string   `json:"sub"`
	AuthTime       int64    `json:"auth_time,omitempty"`
	IDP            string   `json:"idp,omitempty"`
	ID             string   `json:"jti"`
	SessionID      string   `json:"sid,omitempty"`
	IssuedAt       int64    `json:"iat"`
	ConnectorID    string   `json:"connector_id,omitempty"`
	CredentialsKey string   `json:"credentials_key,omitempty"`
	PrivacyPolicy  string   `json:"privacy_policy,omitempty"`
	ConsentID      string   `json:"consent_id,omitempty"`
	Scope          []string `json:"scope"`
	AMR            []string `json:"amr,omitempty"`
	// CredentialsID is the sandbox's connection id; TrueLayer's tokens carry
	// it base64-encoded in sub, the sandbox also names it explicitly.
	CredentialsID string `json:"credentials_id,omitempty"`
}
