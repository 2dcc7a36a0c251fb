package dataapi

import (
	"encoding/json"
	"errors"
	"net/http"
)

// httpError is an answer other than 200 that a handler decides on.
type httpError struct {
	status  int
	message string
}

func (e *httpError) Error() string { return e.message }

// The fixed answers. A refusal is the same whatever the path names, so a caller
// without the grant cannot tell an existing connection or user from another.
var (
	errUnauthorized = &httpError{http.StatusUnauthorized, "a valid ServiceAccount bearer token is required"}
	errForbidden    = &httpError{http.StatusForbidden, "forbidden"}
	errNotFound     = &httpError{http.StatusNotFound, "not found"}
)

func errBadRequest(message string) *httpError {
	return &httpError{http.StatusBadRequest, message}
}

// writeJSON answers with body as JSON. Nothing the API answers may be cached by a
// proxy: it is personal data.
func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeError answers with err's status, or 500 with a message that names nothing
// of the failure (the log has it).
func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{http.StatusInternalServerError, "internal error"}
	}
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="consent-operator-data-api"`)
	}
	writeJSON(w, he.status, Problem{Error: he.message})
}
