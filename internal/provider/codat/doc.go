// Package codat implements provider.Client and provider.DataClient for Codat's
// Platform and Banking APIs (providers-api.md §7, ../shared/codat-openapi/),
// through which some teams reach TrueLayer's banks.
//
// One Client serves every BankConnection. Each call authenticates with the
// connection's API key (provider.Credentials.APIKey, the client Secret's
// api_key) as "Authorization: Basic base64(apiKey)"; the key and its encoding
// never appear in errors or logs. HTTP goes through package httpx: one
// reused http.Client, per-attempt timeouts, a token bucket per host, retries
// with full jitter for requests safe to repeat, bounded reads and the
// Observer.
//
// # Mapping of provider.Client
//
// A BankConnection is one Codat company holding one data connection to a
// bank; provider.Refs keep CodatCompanyID and CodatConnectionID.
//
//   - BeginAuthorization: spec.providerID is a banking source key, checked
//     against GET /integrations (an unknown or disabled key is InvalidRequest
//     listing the enabled keys). Without refs it creates the company with
//     POST /companies {name, description, tags, platformType: key}, which
//     also creates the data connection (POST …/connections {platformKey} is
//     the fallback if none comes back), and returns the connection's linkUrl.
//     With refs it is idempotent: it reads the company and returns the
//     recorded connection's linkUrl (the same link re-authorises a
//     Deauthorized or Unlinked connection); a company deleted at Codat is
//     created again, a deleted connection (or one to another bank than
//     spec.providerID) is replaced by a new connection in the same company.
//     Without providerID the URL is the company's Link URL, where the user
//     picks the bank; the connection id is learnt by CompleteAuthorization.
//     The company is named after the user ref (else namespace-name), with
//     the BankConnection in its description and tags. The gateway's state is
//     appended to the link as the custom parameter "state": Codat Link passes
//     custom parameters to the redirect URL configured in Codat's portal
//     (e.g. …/callback?state={state}&statusCode={statusCode}). Codat has no
//     per-request redirect URI, so Connection.RedirectURI and Providers are
//     not used.
//   - CompleteAuthorization: GET the data connection. Linked is a Grant
//     (Tokens nil, Refs with the connection id); PendingAuth is RetryLater
//     with Code "PendingAuth" ("awaiting authorization", poll again);
//     Deauthorized is NeedsHuman ConsentRevoked, or ConsentExpired when the
//     connection's unresolved error says the bank consent expired; Unlinked
//     is NeedsHuman ConsentRevoked.
//   - Refresh and Extend: InvalidRequest, not supported (no user tokens, no
//     extension: the user follows the link again).
//   - Consent: GET the data connection. PendingAuth → Pending, Linked →
//     Active, Deauthorized → Revoked (Expired as above), Unlinked → Revoked;
//     CreatedAt is the connection's created, ProviderID its integrationKey,
//     ProviderName its platformName. Codat exposes no consent end, so
//     ExpiresAt is zero.
//   - Revoke: DELETE the data connection, or DELETE the company when
//     Options.DeleteCompany or Connection.CodatDeleteCompany (the
//     codat-delete-company annotation) is set. 404 counts as done.
//
// # Mapping of provider.DataClient
//
// Resources accounts, balance and transactions map to the data types
// banking-accounts, banking-accountBalances and banking-transactions; others
// are InvalidRequest. Fetch queues a pull (POST /companies/{id}/data/queue/
// {dataType}?connectionId=) and returns it as a Task; if a pull of the data
// type is still running, Codat refuses the queue and names it, and Fetch
// returns that pull, so per-account fetches of one run share one pull (an
// empty AccountID covers every account). Collect polls the pull operation
// (GET …/data/history/{datasetId}: the exact pull, where dataStatus only
// tells the latest per data type) and returns (nil, nil) while it runs; once
// Complete it reads the connection's data, every page, narrowed with Codat's
// query parameter (accountId, postedDate or date bounds) and filtered again
// here to [From, To), without duplicates. Pull failures are classified:
// AuthError → NeedsHuman (ConsentRevoked/ConsentExpired when the connection
// is Deauthorized or Unlinked, else ReauthorizationRequired),
// PermissionsError → NeedsHuman AccessDenied, RateLimitError → RateLimited,
// NotSupported → InvalidRequest, other errors → RetryLater.
//
// Records: an account's Type is identifiers.type (Depository, Card…), the
// bank code goes to SortCode (6 digits) or RoutingNumber (9 digits). Codat
// reports one balance per account and day, dated at the day's start: a past
// day's balance is observed at the day's end, the current day's at its
// modifiedDate, so each read of the current day adds an observation and past
// days are stored once. Balances take the currency from the accounts (when
// they were pulled) and the limit as credit limit (cards) or overdraft.
// Transactions use Codat's id as NormalisedProviderTransactionID, postedDate
// as Timestamp, the sign of the amount for DEBIT/CREDIT and the transaction
// code as Category. Amounts keep Codat's decimal text.
//
// # Errors
//
// Codat's error body {statusCode, service, error, correlationId,
// canBeRetried, detailedErrorCode, validation} is classified: 401/403 →
// NeedsHuman InvalidClientCredentials; 404 on the BankConnection's company,
// connection or their data → NeedsHuman ConsentRevoked (someone deleted
// them), elsewhere InvalidRequest; 409 "data set has not been requested" →
// InvalidRequest ("…not been completed" → RetryLater); 402 (plan limit) →
// InvalidRequest; 429 → RateLimited with Retry-After; 408, 5xx and
// canBeRetried "True" → RetryLater; other 4xx → InvalidRequest. Descriptions
// carry Codat's message and correlation id.
package codat
