// Package webhooksig signs and verifies TrueLayer's Tl-Signature: a JWS (RFC 7515)
// with a detached payload, ES512 (P-521, SHA-512), whose protected header carries
// "alg", "kid", "tl_version" ("2"), "tl_headers" (the signed headers, comma
// separated) and, on webhooks, "jku" (the JWKS holding the key).
//
// The signed payload of tl_version 2 is
//
//	METHOD SP path LF
//	Name: value LF      (each header of tl_headers, in that order and casing)
//	body
//
// and the JWS signing input is base64url(header) "." base64url(payload). This is the
// scheme of TrueLayer's signing libraries (truelayer-signing); the sandbox signs with
// Signer and a test checks both directions against the npm package.
//
// A Verifier fetches keys only from an allow-list of JWKS URLs, caches them, and
// refetches a JWKS at most once per MinRefresh when a signature names a key id it
// does not hold (TrueLayer rotating its keys).
package webhooksig
