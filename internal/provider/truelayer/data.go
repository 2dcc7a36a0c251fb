package truelayer

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

// The data side of the client (provider.DataClient):
//
//   - V1 and SignupPlus connections read /data/v1 with the user's access token
//     (data_v1.go); asynchronous calls answer with a Task whose results_uri
//     Collect reads.
//   - V3 connections read /v3/connected-accounts with the client's token and
//     Connection-Id; transactions are transaction requests with cursor pages
//     (data_v3.go).
//   - The identity resource is Signup+ by connected account (data_signup.go).
//
// Every record is mapped into the store's provider-neutral shape in
// data_map.go (v1) and next to the v3 and Signup+ calls.

var _ provider.DataClient = (*Client)(nil)

// Fetch requests one resource of a connection. See the package's data files
// for what each Data API serves; in short:
//
//   - Transactions: TrueLayer's from/to are whole UTC dates, both inclusive;
//     the Fetch window is [From, To). The client sends from = the UTC date of
//     From and to = the UTC date of the last instant before To (never after
//     today), and keeps only transactions with From <= timestamp < To. The
//     bank therefore also sees the part of From's day before From: a window
//     meant to stay within a 90-day SCA limit should start at a UTC midnight.
//     A zero From or To is not sent (the provider's default window) and not
//     filtered on.
//   - With WebhookURI or Async, V1 calls are made with async=true and answer
//     a Task; V3 transactions always start a transaction request and answer a
//     Task when Async or WebhookURI is set (v3 webhooks go to the URI set in
//     TrueLayer's Console, so WebhookURI is not sent). Synchronous V3
//     transaction fetches wait (boundedly) for the request and collect every
//     page. Signup+ and the V3 accounts endpoints have no async mode and
//     always answer Data.
//   - PSUIP is sent as X-PSU-IP (V1) or Tl-User-IP (V3).
//   - Identity is Signup+ (V1 and SignupPlus connections): a single linked
//     account answers Data.Identities; multiple_accounts_linked answers
//     Data.IdentityAccounts, the accounts to fetch one by one (each a call
//     the caller must count); a Fetch with AccountID answers
//     Data.AccountIdentities for that account. Info is
//     /data/v1/info, or the data connection's user-info on V3.
//   - Balances are observed at the provider's update_timestamp, or at the
//     fetch when it sends none. Booked transactions without a
//     normalised_provider_transaction_id get a derived stable one.
//
// Unattended calls, which count against the bank's four-a-day allowance, are
// never repeated by the client after they may have reached TrueLayer, even on
// a 5xx: the caller's budget must see every call that was sent.
func (c *Client) Fetch(ctx context.Context, conn provider.Connection, s provider.Session, f provider.Fetch) (provider.FetchResult, error) {
	if err := checkFetch(f); err != nil {
		return provider.FetchResult{}, err
	}
	switch conn.DataAPI {
	case "", DataAPIV1, DataAPISignupPlus:
		if f.Resource == provider.ResourceIdentity {
			d, err := c.signupIdentity(ctx, conn, s, f)
			return provider.FetchResult{Data: d}, err
		}
		return c.fetchV1(ctx, conn, s, f)
	case DataAPIV3:
		return c.fetchV3(ctx, conn, f)
	}
	return provider.FetchResult{}, unknownDataAPI("fetch "+string(f.Resource), conn)
}

// Collect reads the results of a Task that Fetch returned for the same
// connection and the same Fetch: Data when ready, (nil, nil) while TrueLayer
// is still working. Collecting twice reads the same results again.
func (c *Client) Collect(ctx context.Context, conn provider.Connection, s provider.Session, t provider.Task, f provider.Fetch) (*provider.Data, error) {
	if t.ID == "" {
		return nil, invalidRequest("collect "+string(f.Resource), "the task has no id")
	}
	if err := checkFetch(f); err != nil {
		return nil, err
	}
	switch conn.DataAPI {
	case "", DataAPIV1, DataAPISignupPlus:
		return c.collectV1(ctx, conn, s, t, f)
	case DataAPIV3:
		return c.collectV3(ctx, conn, t, f)
	}
	return nil, unknownDataAPI("collect "+string(f.Resource), conn)
}

// checkFetch rejects fetches that cannot be sent as asked.
func checkFetch(f provider.Fetch) error {
	op := "fetch " + string(f.Resource)
	if f.PSUIP != "" && net.ParseIP(f.PSUIP) == nil {
		return invalidRequest(op, "the PSU IP is not an IP address")
	}
	if f.WebhookURI != "" {
		u, err := url.Parse(f.WebhookURI)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return invalidRequest(op, "the webhook URI is not an absolute http(s) URL")
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return invalidRequest(op, fmt.Sprintf("empty window: from %s is not before to %s", f.From.UTC().Format(time.RFC3339), f.To.UTC().Format(time.RFC3339)))
	}
	switch f.Resource {
	case provider.ResourceBalance, provider.ResourceTransactions, provider.ResourcePending,
		provider.ResourceStandingOrders, provider.ResourceDirectDebits:
		if f.AccountID == "" {
			return invalidRequest(op, "no account id")
		}
	case provider.ResourceInfo, provider.ResourceAccounts, provider.ResourceCards, provider.ResourceIdentity:
	default:
		return invalidRequest(op, fmt.Sprintf("unknown resource %q", f.Resource))
	}
	return nil
}

func asyncRequested(f provider.Fetch) bool { return f.Async || f.WebhookURI != "" }

// sleep waits d (Options.HTTP.Sleep in tests) or until ctx ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.opts.HTTP.Sleep != nil {
		return c.opts.HTTP.Sleep(ctx, d)
	}
	return httpx.SleepContext(ctx, d)
}

// sameOrigin reports whether raw is an absolute URL on base's scheme and
// host. A results URI from a stored Task is followed only then: the user's
// token must never be sent to a host an edited Task names.
func sameOrigin(raw, base string) bool {
	u, err1 := url.Parse(raw)
	b, err2 := url.Parse(base)
	return err1 == nil && err2 == nil && u.Scheme == b.Scheme && u.Host == b.Host && u.User == nil
}

// malformed is the error for a 2xx answer that is not what the API documents.
func malformed(op string, status int, desc string) *provider.Error {
	return &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: status, Code: "malformed_response", Description: desc}
}

// psuHeader adds the header that marks a call as attended by the user.
func psuHeader(h http.Header, name, ip string) {
	if ip != "" {
		h.Set(name, ip)
	}
}
