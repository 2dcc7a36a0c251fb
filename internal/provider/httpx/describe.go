package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
)

// FailureDescription says in a few words why Do returned err instead of a
// response, for the Description of a provider error. server names the
// provider ("Codat") in the note that a request that is not idempotent and
// may have reached it was not retried.
func FailureDescription(err error, idempotent bool, server string) string {
	var he *Error
	if !errors.As(err, &he) {
		return ""
	}
	var d string
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		d = "response body too large"
	case he.Timeout:
		d = "timed out"
	case !he.MayHaveReachedServer:
		d = "connection failed"
	default:
		d = "connection dropped"
	}
	if he.MayHaveReachedServer && !idempotent {
		d += "; not retried because the request may have reached " + server
	}
	return d
}

// JSONErrorSummary describes an error of decoding a response body without
// quoting the body, which may hold tokens.
func JSONErrorSummary(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: want %s, got JSON %s", te.Field, te.Type, te.Value)
	}
	return "invalid JSON"
}
