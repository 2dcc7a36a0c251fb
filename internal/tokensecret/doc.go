// Package tokensecret reads and writes a BankConnection's token Secret: type
// banking.consent-operator.dev/token, labelled as managed, owned by the connection,
// with keys access_token, refresh_token, token_type, expires_at and scope, optionally
// sealed with AES-256-GCM (envelope encryption with a key from another Secret).
//
// A refresh writes an in-flight marker before calling the provider and clears it in
// the same write that stores the new tokens. A marker found later means the manager
// stopped between the provider's answer and that write: the stored refresh token may
// have been rotated away, and the controller says so instead of failing silently.
package tokensecret
