// Package tokensecret reads and writes a BankConnection's token Secret: type
// banking.consent-operator.dev/token, labelled as managed, owned by the connection,
// with keys access_token, refresh_token, token_type, expires_at and scope, optionally
// sealed with AES-256-GCM (envelope encryption with a key from another Secret).
//
// The manager caches token Secrets as metadata only. The write that stores the tokens
// also records, as annotations, what a reconcile decides on (the access token's expiry,
// whether a refresh token is held, when they were obtained and granted, the journey);
// the token values are read from the apiserver when a provider call needs them.
//
// A refresh writes an in-flight marker before calling the provider and clears it in
// the same write that stores the new tokens. A marker found later means the manager
// stopped between the provider's answer and that write: the stored refresh token may
// have been rotated away, and the controller says so instead of failing silently.
package tokensecret
