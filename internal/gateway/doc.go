// Package gateway is the operator's public edge: the connect link users open
// (/connect/{secret}), the OAuth callback (/callback, query or form_post), the page
// the user waits on for the outcome (/outcome/{ticket}) and the providers' webhooks.
//
// The gateway verifies and hands over; it decides nothing and holds nothing a tenant
// could lose. It makes no provider call and writes no Secret. Its one write per
// consent is status.handoff: the authorization code, sealed for the reconciler, in an
// optimistic-locked status patch that also makes the journey single-use. The
// reconciler redeems the code (with the PKCE verifier), stores the tokens and records
// the outcome in status.lastJourney, which the outcome page shows.
//
// The journey, step by step:
//  1. The reconciler publishes status.connectURL = /connect/{secret}, the secret
//     being the journey's nonce (256 bits). Knowing a connection's name starts nothing:
//     every link that is not currently valid gets the same neutral 404 page.
//  2. Opening the link sets a cookie in that browser (HttpOnly, SameSite=Lax; Secure
//     with the __Host- prefix over https) and redirects to the provider's link with a
//     state sealed (AES-GCM) over the connection, the journey and a hash of the cookie.
//  3. The callback opens the state and requires the cookie it names. A cross-site
//     form_post does not carry a Lax cookie, so the gateway answers it with a page that
//     posts the same fields again from its own origin, where the cookie is sent.
//  4. A valid callback writes the handoff and redirects (303) to /outcome/{ticket},
//     whose URL carries neither code nor state. The page waits (bounded) for the
//     reconciler's outcome, then sends the user to spec.redirect.returnURL with
//     result=connected|declined|failed and the connection's name.
//
// Used, superseded and unknown journeys are refused from the cache before any
// uncached read; token buckets per client address and per connection bound the rest.
package gateway
