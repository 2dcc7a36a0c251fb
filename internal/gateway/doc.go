// Package gateway serves the HTTP endpoints users and providers reach: the stable
// connect link (/connect/{namespace}/{name}), the OAuth callback (/callback, query or
// form_post) and, for SyncJobs, the providers' webhooks. It runs inside the manager on
// its own port (--gateway-bind-address) behind --gateway-public-url.
//
// The OAuth state is signed with HMAC-SHA256 over the connection's namespace, name,
// uid, userRef, a nonce and an expiry, with a key the operator keeps in a Secret. The
// nonce is the connection's current one (status.authorization.nonce), and the callback
// consumes it with an optimistic-locked status write before exchanging the code, so
// each state is accepted once. Forged, replayed, expired or unknown states, and
// cancelled journeys, get a page with the matching HTTP status and change nothing.
package gateway
