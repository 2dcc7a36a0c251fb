package webhooksig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"

	"github.com/consent-operator/consent-operator/internal/webhooksig"
	"github.com/consent-operator/consent-operator/internal/webhooksig/nodecheck"
)

// TestAgainstTrueLayerSigning holds Signer and VerifyWithJWKS to TrueLayer's own
// library (npm truelayer-signing 0.2.3): it accepts what Signer signs and refuses it
// once the body changes, and what it signs verifies here.
func TestAgainstTrueLayerSigning(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := webhooksig.NewSignerWithKey(key, "https://webhooks.truelayer-sandbox.com/.well-known/jwks")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"transactions_request_completed","event_version":1,"event_id":"e1"}`)
	path := "/webhooks/truelayer/v3"
	signed := []webhooksig.SignedHeader{{Name: "X-Tl-Webhook-Timestamp", Value: "2026-01-05T09:00:00Z"}, {Name: "Content-Type", Value: "application/json"}}
	sig, err := s.Sign(http.MethodPost, path, signed, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Tl-Signature", sig)
	h.Set("X-Tl-Webhook-Timestamp", "2026-01-05T09:00:00Z")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "not signed")

	jku, err := nodecheck.Verify(t, s.JWKS(), nodecheck.Request{Method: http.MethodPost, Path: path, Header: h, Body: body})
	if err != nil {
		t.Fatalf("truelayer-signing refused a signature of Signer: %v", err)
	}
	if jku != "https://webhooks.truelayer-sandbox.com/.well-known/jwks" {
		t.Fatalf("extractJku = %q", jku)
	}
	if _, err := nodecheck.Verify(t, s.JWKS(), nodecheck.Request{Method: http.MethodPost, Path: path, Header: h, Body: append(body, ' ')}); err == nil {
		t.Fatal("truelayer-signing accepted a modified body")
	}

	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	theirs := nodecheck.Sign(t, s.KID(), pemKey, http.MethodPost, path,
		[][2]string{{"X-Tl-Webhook-Timestamp", "2026-01-05T09:00:00Z"}, {"Idempotency-Key", "k-1"}}, body)
	h2 := http.Header{}
	h2.Set("Tl-Signature", theirs)
	h2.Set("Idempotency-Key", "k-1")
	h2.Set("X-Tl-Webhook-Timestamp", "2026-01-05T09:00:00Z")
	req := webhooksig.Request{Method: http.MethodPost, Path: path, Header: h2, Body: body}
	if err := webhooksig.VerifyWithJWKS(req, s.JWKS()); err != nil {
		t.Fatalf("a truelayer-signing signature did not verify: %v", err)
	}
	req.Header.Set("Idempotency-Key", "k-2")
	if err := webhooksig.VerifyWithJWKS(req, s.JWKS()); err == nil {
		t.Fatal("a modified signed header verified")
	}
}
