// Package journey holds the cryptography of the consent journey, shared by the
// gateway (which verifies what browsers and providers send) and the BankConnection
// reconciler (which starts journeys and redeems their codes).
//
// One master key (the state-key Secret) yields a key per purpose, so a value sealed
// for one purpose (an OAuth state, an outcome ticket, an authorization code handed
// to the reconciler, a PKCE verifier, a webhook token) can never be accepted as
// another. Every sealed value starts with the id of the key that sealed it, so keys
// can rotate.
//
// What each value protects:
//   - the link secret (status.authorization.nonce, in status.connectURL): only holders
//     of the link start a journey; names alone start nothing.
//   - the browser binding (a cookie set when the link is opened, its hash sealed into
//     the state): a callback is accepted only from the browser that opened the link
//     (RFC 6749 §10.12, RFC 9700 §4.7).
//   - the sealed state: browser and provider learn nothing from it.
//   - PKCE (S256): the verifier is derived from the key and never leaves the operator,
//     so a code that leaks from a URL or a log cannot be redeemed.
//   - the webhook token (the path of a SyncJob run's async webhook URL): only the
//     provider the URL was given to wakes the run, until the token expires; the URL
//     names nothing.
package journey
