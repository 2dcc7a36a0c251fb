package truelayer

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

// opKind says which kind of endpoint answered; some codes mean different
// things at the token endpoint and at a data endpoint.
type opKind int

const (
	opCodeExchange opKind = iota // POST /connect/token authorization_code
	opRefresh                    // POST /connect/token refresh_token
	opClientToken                // POST /connect/token client_credentials
	opData                       // Data API v1 (GET /data/v1/me) and DELETE /api/delete
	opExtend                     // POST /connections/extend
	opV3                         // Data API v3
	opV3Connection               // a v3 data connection addressed by id (404: the connection is gone)
)

// apiError is what an error response says, whatever its format.
type apiError struct {
	status int
	// code is the v1 "error" or the problem "type" slug (after '#').
	code        string
	description string
	// reason is the v1 error_details.reason.
	reason  string
	title   string
	problem bool
	// traceID identifies the request for TrueLayer's support.
	traceID string
}

type v1ErrorBody struct {
	Error            *string         `json:"error"`
	ErrorDescription string          `json:"error_description"`
	ErrorDetails     json.RawMessage `json:"error_details"`
}

type problemBody struct {
	TraceID string          `json:"trace_id"`
	Type    string          `json:"type"`
	Title   string          `json:"title"`
	Status  int             `json:"status"`
	Detail  string          `json:"detail"`
	Errors  json.RawMessage `json:"errors"`
}

// maxDescription bounds the provider text copied into an error.
const maxDescription = 300

// parseErrorBody reads a TrueLayer error: the v1/auth-server shape
// {"error", "error_description", "error_details"} or RFC 7807 problem+json
// (v3, Signup+, /connections/extend). Anything else (a gateway's HTML page)
// leaves only the status to go by.
func parseErrorBody(resp *httpx.Response) apiError {
	ae := apiError{status: resp.Status, traceID: traceIDOf(resp)}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var p problemBody
	if (ct == "application/problem+json" || strings.HasPrefix(strings.TrimSpace(string(resp.Body)), "{")) &&
		json.Unmarshal(resp.Body, &p) == nil && p.Type != "" && p.Title != "" {
		ae.problem = true
		if p.TraceID != "" {
			ae.traceID = p.TraceID
		}
		ae.code = p.Type
		if i := strings.LastIndexByte(p.Type, '#'); i >= 0 {
			ae.code = p.Type[i+1:]
		}
		ae.title = p.Title
		ae.description = p.Detail
		if ae.description == "" {
			ae.description = p.Title
		}
		if fields := problemFields(p.Errors); fields != "" {
			ae.description += ": " + fields
		}
		ae.description = truncate(ae.description)
		return ae
	}
	var v1 v1ErrorBody
	if json.Unmarshal(resp.Body, &v1) == nil && v1.Error != nil {
		ae.code = *v1.Error
		ae.description = v1.ErrorDescription
		var details struct {
			Reason string `json:"reason"`
		}
		if len(v1.ErrorDetails) > 0 && json.Unmarshal(v1.ErrorDetails, &details) == nil && details.Reason != "" {
			ae.reason = details.Reason
			if ae.description == "" || ae.description == "Invalid request" {
				ae.description = strings.TrimSpace(ae.description + " (" + details.Reason + ")")
			} else {
				ae.description += " (" + details.Reason + ")"
			}
		}
		ae.description = truncate(ae.description)
		return ae
	}
	if ct == "" {
		ct = "no content type"
	}
	ae.description = fmt.Sprintf("%s answer that is not a TrueLayer error (%s, %d bytes)", http.StatusText(resp.Status), ct, len(resp.Body))
	return ae
}

// maxTraceID bounds a trace id copied from an answer; TrueLayer's are UUIDs
// or 32 hex digits.
const maxTraceID = 64

// traceIDOf reads TrueLayer's request id: Tl-Trace-Id (Data API v3,
// providers-api.md §4.1) or X-TL-Correlation-Id (auth server, Data API v1,
// §3.1).
func traceIDOf(resp *httpx.Response) string {
	for _, h := range []string{"Tl-Trace-Id", "X-TL-Correlation-Id"} {
		if v := strings.TrimSpace(resp.Header.Get(h)); v != "" {
			return truncateTo(v, maxTraceID)
		}
	}
	return ""
}

// problemFields summarises a problem's "errors": a map field -> messages in
// practice, an array in the v1 document's schema.
func problemFields(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var m map[string][]string
	if json.Unmarshal(raw, &m) == nil && len(m) > 0 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+": "+strings.Join(m[k], " "))
		}
		return strings.Join(parts, "; ")
	}
	var list []any
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		b, _ := json.Marshal(list) // re-encoding decoded JSON cannot fail
		return string(b)
	}
	return ""
}

func truncate(s string) string { return truncateTo(s, maxDescription) }

func truncateTo(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

type rule struct {
	class  provider.Class
	reason string
}

var (
	needsReauth   = rule{provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired}
	badClient     = rule{provider.ClassNeedsHuman, provider.ReasonInvalidClientCredentials}
	retryLater    = rule{provider.ClassRetryLater, ""}
	rateLimited   = rule{provider.ClassRateLimited, ""}
	badRequest    = rule{provider.ClassInvalidRequest, ""}
	tokenRejected = rule{provider.ClassRetryLater, provider.ReasonAccessTokenRejected}
	// sca_exceeded: the data is served only within minutes of the user's
	// authentication; a narrower window works, the same request never will.
	scaExceeded = rule{provider.ClassInvalidRequest, provider.ReasonSCAExceeded}
)

// v1Rules maps the error codes of the auth server and Data API v1
// (providers-api.md §2.2, §3.13). invalid_grant, access_denied and
// invalid_request depend on context and are handled in classify.
var v1Rules = map[string]rule{
	"validation_error":                badRequest,
	"invalid_date_range":              badRequest,
	"invalid_scope":                   badRequest,
	"unsupported_grant_type":          badRequest,
	"unsupported_response_type":       badRequest,
	"not_found":                       badRequest,
	"account_not_found":               badRequest,
	"endpoint_not_supported":          badRequest,
	"deprecated_provider":             needsReauth, // the bank is gone: the user must connect another one
	"invalid_authorization_code":      needsReauth, // the journey must be run again
	"wrong_credentials":               needsReauth,
	"invalid_credentials_key":         needsReauth,
	"sca_exceeded":                    scaExceeded,
	"account_permanently_locked":      needsReauth,
	"mfa_required":                    needsReauth,
	"user_input_required":             needsReauth,
	"wrong_bank":                      needsReauth,
	"invalid_client":                  badClient,
	"unauthorized_client":             badClient,
	"unauthorized":                    tokenRejected,
	"invalid_token":                   tokenRejected,
	"account_temporarily_locked":      retryLater,
	"request_conflict":                retryLater,
	"internal_server_error":           retryLater,
	"internal_error":                  retryLater,
	"provider_error":                  retryLater,
	"temporarily_unavailable":         retryLater,
	"connector_overload":              retryLater,
	"provider_timeout":                retryLater,
	"connector_timeout":               retryLater,
	"provider_too_many_requests":      rateLimited,
	"provider_request_limit_exceeded": rateLimited,
}

// problemRules maps RFC 7807 type slugs of Data API v3 (§4.3) and Signup+
// (§4.4). invalid_state, not-found and provider-error are handled in classify.
var problemRules = map[string]rule{
	"invalid-parameters":     badRequest,
	"provider-not-supported": badRequest,
	"unauthenticated":        tokenRejected,
	"unauthorized":           tokenRejected,
	"forbidden":              needsReauth,
	"missing-claims":         needsReauth,
	"rate-limit-exceeded":    rateLimited,
	"unknown-error":          retryLater,
	"internal-server-error":  retryLater,
	"gateway-timeout":        retryLater,
	"provider-unavailable":   retryLater,
}

// classify turns an error answer into a *provider.Error.
func classify(kind opKind, ae apiError, conn provider.Connection, now time.Time) *provider.Error {
	r := classifyRule(kind, ae, conn, now)
	return &provider.Error{Class: r.class, Reason: r.reason, Status: ae.status, Code: ae.code, Description: ae.description,
		TraceID: truncateTo(ae.traceID, maxTraceID)}
}

func classifyRule(kind opKind, ae apiError, conn provider.Connection, now time.Time) rule {
	if ae.problem {
		return classifyProblem(kind, ae, conn, now)
	}
	switch ae.code {
	case "invalid_grant":
		if kind == opRefresh {
			return consentEnded(ae, conn, now)
		}
		// A code that is used, expired or bound to another redirect URI: the
		// user must go through the journey again.
		return needsReauth
	case "access_denied":
		if kind == opCodeExchange || kind == opRefresh || kind == opClientToken {
			return rule{provider.ClassNeedsHuman, provider.ReasonAccessDenied}
		}
		return consentEnded(ae, conn, now)
	case "unauthorized":
		if kind == opCodeExchange || kind == opRefresh || kind == opClientToken {
			return badClient // the token endpoint authenticates the client, not a token
		}
		return tokenRejected
	case "invalid_request":
		// A malformed or unknown refresh token (401, reason "Invalid
		// refresh_token") cannot be fixed by retrying: the user re-consents.
		if kind == opRefresh && (ae.status == http.StatusUnauthorized || strings.Contains(strings.ToLower(ae.reason), "refresh_token")) {
			return needsReauth
		}
		return badRequest
	}
	if r, ok := v1Rules[ae.code]; ok {
		return r
	}
	return byStatus(kind, ae.status)
}

func classifyProblem(kind opKind, ae apiError, conn provider.Connection, now time.Time) rule {
	if kind == opExtend {
		// /connections/extend problems share one type; the status and the
		// detail tell them apart (providers-api.md §3.11).
		switch ae.status {
		case http.StatusBadRequest:
			return badRequest
		case http.StatusUnauthorized:
			if strings.Contains(strings.ToLower(ae.description), "client") {
				return badClient
			}
			return needsReauth // "Refresh token missing or invalid."
		case http.StatusUnprocessableEntity:
			return needsReauth // "No way to extend this connection"
		}
		return byStatus(kind, ae.status)
	}
	switch ae.code {
	case "invalid_state":
		// "Status of the connection does not allow this action": no longer authorised.
		return consentEnded(ae, conn, now)
	case "not-found":
		if kind == opV3Connection {
			return needsReauth // the data connection no longer exists
		}
		return badRequest
	case "provider-error":
		if strings.EqualFold(ae.title, "Feature Not Supported") {
			return badRequest
		}
		return retryLater
	}
	if r, ok := problemRules[ae.code]; ok {
		return r
	}
	return byStatus(kind, ae.status)
}

// consentEnded picks the reason for an answer that says the consent is over
// without always saying why: the description when it tells, otherwise the
// consent end we know of.
func consentEnded(ae apiError, conn provider.Connection, now time.Time) rule {
	text := strings.ToLower(ae.description + " " + ae.reason)
	expired, revoked := strings.Contains(text, "expired"), strings.Contains(text, "revoked")
	switch {
	case expired && !revoked:
		return rule{provider.ClassNeedsHuman, provider.ReasonConsentExpired}
	case revoked && !expired:
		return rule{provider.ClassNeedsHuman, provider.ReasonConsentRevoked}
	case !conn.ConsentExpiresAt.IsZero() && !now.Before(conn.ConsentExpiresAt):
		return rule{provider.ClassNeedsHuman, provider.ReasonConsentExpired}
	case !conn.ConsentExpiresAt.IsZero() && expired && revoked:
		// "Consent expired or revoked" while the consent has not reached its end.
		return rule{provider.ClassNeedsHuman, provider.ReasonConsentRevoked}
	}
	return needsReauth
}

// byStatus classifies codes this client does not know.
func byStatus(kind opKind, status int) rule {
	switch {
	case status == http.StatusTooManyRequests:
		return rateLimited
	case status == http.StatusRequestTimeout || status >= 500:
		return retryLater
	case status == http.StatusUnauthorized:
		if kind == opCodeExchange || kind == opRefresh || kind == opClientToken {
			return badClient // the token endpoint authenticates the client
		}
		return tokenRejected
	case status == http.StatusForbidden:
		return needsReauth
	case status >= 400:
		return badRequest
	}
	return retryLater // 1xx/3xx: not an answer an API gives; likely a proxy
}
