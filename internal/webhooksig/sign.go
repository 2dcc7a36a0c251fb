package webhooksig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Header is the name of the signature header.
const Header = "Tl-Signature"

// The only algorithm and scheme version accepted.
const (
	Algorithm = "ES512"
	Version   = "2"
)

// p521Size is the byte length of a P-521 coordinate and of r and s in a signature.
const p521Size = 66

var b64 = base64.RawURLEncoding

// SignedHeader is one header of the signed payload, in the casing that is signed.
type SignedHeader struct{ Name, Value string }

// jwsHeader is the protected header of a Tl-Signature.
type jwsHeader struct {
	Alg       string `json:"alg"`
	KID       string `json:"kid"`
	TLVersion string `json:"tl_version"`
	TLHeaders string `json:"tl_headers"`
	JKU       string `json:"jku,omitempty"`
}

// Signer signs requests with one P-521 key, as TrueLayer signs its webhooks.
type Signer struct {
	key *ecdsa.PrivateKey
	kid string
	jku string
}

// NewSigner generates a P-521 key whose signatures name jku (may be empty) as the
// JWKS to verify them with.
func NewSigner(jku string) (*Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating P-521 key: %w", err)
	}
	return NewSignerWithKey(k, jku)
}

// NewSignerWithKey signs with k, which must be a P-521 key.
func NewSignerWithKey(k *ecdsa.PrivateKey, jku string) (*Signer, error) {
	pub, err := k.PublicKey.Bytes()
	if err != nil || k.Curve != elliptic.P521() {
		return nil, fmt.Errorf("signing key is not a P-521 key")
	}
	sum := sha256.Sum256(pub)
	return &Signer{key: k, kid: hex.EncodeToString(sum[:16]), jku: jku}, nil
}

// KID is the key id signatures carry.
func (s *Signer) KID() string { return s.kid }

// WithJKU returns a signer with the same key naming another JWKS URL.
func (s *Signer) WithJKU(jku string) *Signer { c := *s; c.jku = jku; return &c }

// JWK is the public key as a JSON Web Key.
func (s *Signer) JWK() map[string]string {
	pub, _ := s.key.PublicKey.Bytes() // checked in NewSignerWithKey
	return map[string]string{
		"kty": "EC", "crv": "P-521", "alg": Algorithm, "use": "sig", "kid": s.kid,
		"x": b64.EncodeToString(pub[1 : 1+p521Size]), "y": b64.EncodeToString(pub[1+p521Size:]),
	}
}

// JWKS is a JSON Web Key Set holding the public key.
func (s *Signer) JWKS() []byte {
	out, _ := json.Marshal(map[string]any{"keys": []any{s.JWK()}}) // strings only
	return out
}

// Sign returns the Tl-Signature of a request: "header..signature".
func (s *Signer) Sign(method, path string, headers []SignedHeader, body []byte) (string, error) {
	names := make([]string, len(headers))
	for i, h := range headers {
		if strings.ContainsAny(h.Name, ",\r\n: ") || h.Name == "" {
			return "", fmt.Errorf("header name %q cannot be signed", h.Name)
		}
		names[i] = h.Name
	}
	hdr, err := json.Marshal(jwsHeader{Alg: Algorithm, KID: s.kid, TLVersion: Version, TLHeaders: strings.Join(names, ","), JKU: s.jku})
	if err != nil {
		return "", fmt.Errorf("encoding JWS header: %w", err)
	}
	h64 := b64.EncodeToString(hdr)
	digest := sha512.Sum512([]byte(h64 + "." + b64.EncodeToString(payload(method, path, headers, body))))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	sig := make([]byte, 2*p521Size)
	r.FillBytes(sig[:p521Size])
	sv.FillBytes(sig[p521Size:])
	return h64 + ".." + b64.EncodeToString(sig), nil
}

// payload is the tl_version 2 signed payload.
func payload(method, path string, headers []SignedHeader, body []byte) []byte {
	var b strings.Builder
	b.WriteString(strings.ToUpper(method) + " " + path + "\n")
	for _, h := range headers {
		b.WriteString(h.Name + ": " + h.Value + "\n")
	}
	b.Write(body)
	return []byte(b.String())
}
