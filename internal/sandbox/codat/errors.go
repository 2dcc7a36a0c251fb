package codat

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Service names Codat puts in the "service" field of an error body. The
// published examples use ClientsApi for company look-ups, PullApi for dataset
// queries and PublicApi for everything else.
const (
	servicePublicAPI  = "PublicApi"
	serviceClientsAPI = "ClientsApi"
	servicePullAPI    = "PullApi"
)

// apiError is Codat's error body (schema ErrorMessage). Every field the
// published examples carry is always present, so clients that decode it
// strictly find what they expect.
type apiError struct {
	StatusCode        int              `json:"statusCode"`
	Service           string           `json:"service"`
	Error             string           `json:"error"`
	CorrelationID     string           `json:"correlationId"`
	Validation        *errorValidation `json:"validation,omitempty"`
	CanBeRetried      string           `json:"canBeRetried"`
	DetailedErrorCode int              `json:"detailedErrorCode"`
}

type errorValidation struct {
	Errors   []validationItem `json:"errors"`
	Warnings []validationItem `json:"warnings"`
}

type validationItem struct {
	ItemID        string `json:"itemId,omitempty"`
	Message       string `json:"message"`
	ValidatorName string `json:"validatorName,omitempty"`
}

// httpError is an error a handler returns to have it written as a Codat error
// body. Handlers build them with the constructors below so that messages match
// the documented examples.
type httpError struct {
	status     int
	service    string
	message    string
	validation []validationItem
	retryAfter time.Duration // sets Retry-After on 429 answers
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s", e.status, e.message) }

func errUnauthorized() *httpError {
	return &httpError{status: http.StatusUnauthorized, service: servicePublicAPI, message: "Unauthorized"}
}

func errCompanyNotFound(id string) *httpError {
	return &httpError{status: http.StatusNotFound, service: serviceClientsAPI,
		message: "No company was found with ID " + id}
}

func errConnectionNotFound(id string) *httpError {
	return &httpError{status: http.StatusNotFound, service: servicePublicAPI,
		message: "Data connection " + id + " not found"}
}

func errNotFound(message string) *httpError {
	return &httpError{status: http.StatusNotFound, service: servicePublicAPI, message: message}
}

// errBadRequest is a 400 whose reasons are listed in validation.errors, the way
// Codat reports request-body validation failures.
func errBadRequest(message string, reasons ...string) *httpError {
	e := &httpError{status: http.StatusBadRequest, service: servicePublicAPI, message: message}
	for _, r := range reasons {
		e.validation = append(e.validation, validationItem{Message: r})
	}
	return e
}

// errMalformedQuery and errUnresolvedProperty reproduce the two documented
// Malformed-Query answers.
func errMalformedQuery(service string) *httpError {
	return &httpError{status: http.StatusBadRequest, service: service,
		message: "Error parsing query - Malformed query."}
}

func errUnresolvedProperty(service, property, model string) *httpError {
	return &httpError{status: http.StatusBadRequest, service: service,
		message: fmt.Sprintf("Error parsing query - Could not resolve property %s on %s", property, model)}
}

// errDataNotReady is the documented 409 for reading a data type whose pull has
// not produced data yet.
func errDataNotReady(message string) *httpError {
	return &httpError{status: http.StatusConflict, service: servicePublicAPI, message: message}
}

func errTooManyRequests(retryAfter time.Duration) *httpError {
	return &httpError{status: http.StatusTooManyRequests, service: servicePublicAPI,
		message:    "You have made too many requests in a given amount of time; please retry later.",
		retryAfter: retryAfter}
}

func errCompanyLimit(limit int) *httpError {
	return &httpError{status: http.StatusPaymentRequired, service: servicePublicAPI,
		message: fmt.Sprintf("You have exceeded the %d-company limit that applies to a Free plan. "+
			"We recommend that you delete any companies you no longer need and retry the request.", limit)}
}

// writeError writes e as a Codat error body.
func writeError(w http.ResponseWriter, e *httpError) {
	body := apiError{
		StatusCode:    e.status,
		Service:       e.service,
		Error:         e.message,
		CorrelationID: newCorrelationID(),
		CanBeRetried:  "Unknown",
	}
	if len(e.validation) > 0 {
		body.Validation = &errorValidation{Errors: e.validation, Warnings: []validationItem{}}
	}
	if e.status == http.StatusTooManyRequests {
		secs := int64((e.retryAfter + time.Second - 1) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	writeJSON(w, e.status, body)
}

// newCorrelationID returns 32 hex digits, the form of Codat's correlation ids.
func newCorrelationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
