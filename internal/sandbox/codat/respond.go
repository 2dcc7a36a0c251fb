package codat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// timeFormat is how the emulator writes DateTime fields: UTC with a Z suffix,
// the first of the forms the DateTime schema documents.
const timeFormat = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // URLs in _links keep their & as is
	_ = enc.Encode(body)     // the client went away; nothing to do
}

// maxBodyBytes bounds request bodies; Codat's request bodies are tiny.
const maxBodyBytes = 1 << 20

// decodeBody decodes an optional JSON request body into dst. An empty body
// leaves dst untouched.
func decodeBody(r *http.Request, dst any) *httpError {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return errBadRequest("Error processing request - not valid.", fmt.Sprintf("reading body: %v", err))
	}
	if len(body) > maxBodyBytes {
		return errBadRequest("Error processing request - not valid.", "request body too large")
	}
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return errBadRequest("Error processing request - not valid.", "body is not valid JSON: "+syntax.Error())
		case errors.As(err, &typ):
			return errBadRequest("Error processing request - not valid.",
				fmt.Sprintf("field %q must be of type %s", typ.Field, typ.Type))
		default:
			return errBadRequest("Error processing request - not valid.", err.Error())
		}
	}
	return nil
}
