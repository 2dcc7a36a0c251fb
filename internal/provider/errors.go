package provider

import (
	"errors"
	"fmt"
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// Class says what the caller should do about a provider error.
type Class string

const (
	// ClassNeedsHuman: retrying cannot help; a user or operator must act (re-consent,
	// fix credentials). Reason says which.
	ClassNeedsHuman Class = "NeedsHuman"
	// ClassRetryLater: provider error, timeout, 5xx, dropped connection; back off.
	ClassRetryLater Class = "RetryLater"
	// ClassRateLimited: the provider throttled us; back off (RetryAfter when given).
	ClassRateLimited Class = "RateLimited"
	// ClassInvalidRequest: the request was wrong (a bug or bad configuration); retrying
	// the same request cannot help, but it is not a consent problem.
	ClassInvalidRequest Class = "InvalidRequest"
)

// Reasons for ClassNeedsHuman errors: the API's condition reasons, so an error carries
// the reason a connection shows, and AccessDenied (the user refused at the bank), which
// a connection shows as ReauthorizationRequired.
const (
	ReasonConsentExpired           = bankingv1alpha1.ReasonConsentExpired
	ReasonConsentRevoked           = bankingv1alpha1.ReasonConsentRevoked
	ReasonInvalidClientCredentials = bankingv1alpha1.ReasonInvalidClientCredentials
	ReasonReauthorizationRequired  = bankingv1alpha1.ReasonReauthorizationRequired
	ReasonAccessDenied             = "AccessDenied"
)

// ReasonAccessTokenRejected refines ClassRetryLater: the provider rejected the
// access token (expired or superseded); refresh it, then retry. It is not a
// condition reason.
const ReasonAccessTokenRejected = "AccessTokenRejected"

// ReasonSCAExceeded refines ClassInvalidRequest: the bank serves this data (history
// older than 90 days, some banks' /info) only shortly after the user authenticated.
// Asking for less history, or a new consent, helps; retrying the same request does
// not. It is not a condition reason.
const ReasonSCAExceeded = "SCAExceeded"

// Error is a classified provider error. Its message never contains a token value.
type Error struct {
	Class Class
	// Reason refines ClassNeedsHuman (see the Reason constants).
	Reason string
	// Op is the operation, e.g. "refresh" or "GET /data/v1/me".
	Op string
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Code is the provider's error code (e.g. "invalid_grant", "provider_error").
	Code string
	// Description is the provider's human-readable description.
	Description string
	// RetryAfter is the provider's Retry-After, when it sent one.
	RetryAfter time.Duration
	// TraceID is the provider's id of the failed request (TrueLayer's
	// Tl-Trace-Id / X-TL-Correlation-Id header or problem trace_id, Codat's
	// correlationId): what the provider's support asks for. It identifies a
	// request, never a credential.
	TraceID string
	// Err is the underlying error (transport errors), if any.
	Err error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s", e.Op, e.Class)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d", e.Status)
		if e.Code != "" {
			msg += " " + e.Code
		}
		msg += ")"
	}
	// Before the description, so that a message cut to fit a status field
	// keeps what support needs.
	if e.TraceID != "" {
		msg += " [trace id " + e.TraceID + "]"
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err, ClassRetryLater for unclassified errors (a safe
// default: back off and try again) and "" for nil.
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Class
	}
	return ClassRetryLater
}

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var pe *Error
	ok := errors.As(err, &pe)
	return pe, ok
}
