// Package notify sends an application signed JSON events about its connections, in
// the Standard Webhooks format (https://www.standardwebhooks.com): signing, event ids,
// retry backoff, which destination addresses are allowed, and the delivery workers
// that keep a slow or dead destination from delaying anyone else.
package notify
