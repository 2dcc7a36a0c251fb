package codat

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
)

// opKind says what the request addressed, which decides what a 404 means.
type opKind int

const (
	// opAccount: account-level resources (integrations, creating companies).
	// A 404 means the request was wrong.
	opAccount opKind = iota
	// opConnection: the BankConnection's own company or data connection, or
	// their data. A 404 means Codat no longer has them: someone deleted the
	// company or the connection, which ends the consent.
	opConnection
)

// apiError is what a Codat error answer says (schema ErrorMessage:
// statusCode, service, error, correlationId, canBeRetried, detailedErrorCode,
// validation).
type apiError struct {
	status        int
	message       string
	service       string
	correlationID string
	// canBeRetried is Codat's "True", "False" or "Unknown" (a string).
	canBeRetried string
	detailedCode int
	validation   []string
	// codatBody is false when the answer was not a Codat error (a gateway's
	// page): only the status is known.
	codatBody bool
}

type errorBody struct {
	StatusCode        int    `json:"statusCode"`
	Service           string `json:"service"`
	Error             string `json:"error"`
	CorrelationID     string `json:"correlationId"`
	CanBeRetried      any    `json:"canBeRetried"`
	DetailedErrorCode int    `json:"detailedErrorCode"`
	Validation        *struct {
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"validation"`
}

// maxDescription bounds the provider text copied into an error.
const maxDescription = 300

func parseErrorBody(resp *httpx.Response) apiError {
	ae := apiError{status: resp.Status}
	var b errorBody
	if json.Unmarshal(resp.Body, &b) == nil && (b.Error != "" || b.StatusCode != 0) {
		ae.codatBody = true
		ae.message = b.Error
		ae.service = b.Service
		ae.correlationID = b.CorrelationID
		ae.detailedCode = b.DetailedErrorCode
		// The schema says string ("True"/"False"); accept a JSON boolean too.
		switch v := b.CanBeRetried.(type) {
		case string:
			ae.canBeRetried = v
		case bool:
			ae.canBeRetried = strconv.FormatBool(v)
		}
		if b.Validation != nil {
			for _, e := range b.Validation.Errors {
				if e.Message != "" {
					ae.validation = append(ae.validation, e.Message)
				}
			}
		}
		return ae
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct == "" {
		ct = "no content type"
	}
	ae.message = fmt.Sprintf("%s answer that is not a Codat error (%s, %d bytes)", http.StatusText(resp.Status), ct, len(resp.Body))
	return ae
}

func (ae apiError) retriable() bool { return strings.EqualFold(ae.canBeRetried, "true") }

// description is the message with validation reasons, bounded. The
// correlation id goes to provider.Error.TraceID.
func (ae apiError) description() string {
	d := ae.message
	if len(ae.validation) > 0 {
		d += ": " + strings.Join(ae.validation, "; ")
	}
	if len(d) > maxDescription {
		d = d[:maxDescription] + "…"
	}
	return d
}

// inProgressPattern is Codat's answer to queueing a data type whose previous
// pull is still running (providers-api.md §7).
var inProgressPattern = regexp.MustCompile(`previous sync ([0-9A-Za-z-]+) is still in progress`)

// inProgressSyncID returns the running pull's id when ae is the
// "still in progress" answer.
func inProgressSyncID(ae apiError) (string, bool) {
	if ae.status != http.StatusBadRequest {
		return "", false
	}
	m := inProgressPattern.FindStringSubmatch(ae.message)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// classify turns an error answer into a *provider.Error (Op is set by the caller).
func classify(kind opKind, ae apiError) *provider.Error {
	pe := &provider.Error{Status: ae.status, Description: ae.description(), TraceID: ae.correlationID}
	if len(pe.TraceID) > 64 {
		pe.TraceID = pe.TraceID[:64]
	}
	if ae.detailedCode != 0 {
		pe.Code = strconv.Itoa(ae.detailedCode)
	}
	switch {
	case ae.status == http.StatusUnauthorized || ae.status == http.StatusForbidden:
		// Codat authenticates the API key on every call; 403 is a key
		// without the permission. Either way the key must be fixed.
		pe.Class, pe.Reason = provider.ClassNeedsHuman, provider.ReasonInvalidClientCredentials
	case ae.status == http.StatusTooManyRequests:
		pe.Class = provider.ClassRateLimited
	case ae.status == http.StatusRequestTimeout || ae.status >= 500 || ae.retriable():
		pe.Class = provider.ClassRetryLater
	case ae.status == http.StatusNotFound && kind == opConnection:
		pe.Class, pe.Reason = provider.ClassNeedsHuman, provider.ReasonConsentRevoked
		pe.Description = "the Codat company or data connection no longer exists: " + pe.Description
	case ae.status == http.StatusConflict && strings.Contains(strings.ToLower(ae.message), "not been completed"):
		// The first pull of the data type is still running.
		pe.Class = provider.ClassRetryLater
	case ae.status == http.StatusPaymentRequired:
		// A plan limit (e.g. the Free plan's company limit): someone must
		// delete companies or change the plan; retrying cannot help.
		pe.Class = provider.ClassInvalidRequest
		pe.Description = "Codat plan limit reached: " + pe.Description
	default:
		if _, ok := inProgressSyncID(ae); ok {
			pe.Class = provider.ClassRetryLater
			break
		}
		pe.Class = provider.ClassInvalidRequest
		if ae.status < 400 {
			pe.Class = provider.ClassRetryLater // 1xx/3xx: not an API answer; likely a proxy
		}
	}
	return pe
}
