package sandbox

import (
	"encoding/json"
	"net/http"
	"sort"
)

// APIError is one Data API v1 / auth-server error code with its HTTP status
// and description (providers-api.md §3.13).
type APIError struct {
	Status      int
	Code        string
	Description string
}

// ErrorCatalogue lists every error code of providers-api.md §3.13, keyed by
// code. Fault injection and the error.<code> mock users draw from it.
var ErrorCatalogue = map[string]APIError{
	"validation_error":                {400, "validation_error", "The supplied parameters are not valid."},
	"invalid_date_range":              {400, "invalid_date_range", "Invalid date range provided."},
	"deprecated_provider":             {400, "deprecated_provider", "The provider has been deprecated."},
	"invalid_grant":                   {400, "invalid_grant", ""},
	"invalid_client":                  {400, "invalid_client", "The client credentials you have entered are incorrect."},
	"invalid_authorization_code":      {400, "invalid_authorization_code", "The authorization code is invalid or has expired."},
	"unauthorized":                    {401, "unauthorized", "Unauthorized."},
	"invalid_token":                   {401, "invalid_token", "Invalid access token."},
	"unauthorized_client":             {401, "unauthorized_client", "You're using an incorrect auth link, client_id or client_secret."},
	"wrong_credentials":               {401, "wrong_credentials", "The credentials provided are incorrect."},
	"access_denied":                   {403, "access_denied", "Access to a specific resource has been denied."},
	"invalid_credentials_key":         {403, "invalid_credentials_key", "The credentials key is invalid."},
	"sca_exceeded":                    {403, "sca_exceeded", "SCA exemption has expired. This resource is protected and should be accessed shortly after PSU Authentication."},
	"account_temporarily_locked":      {403, "account_temporarily_locked", "The account is temporarily locked by the provider."},
	"account_permanently_locked":      {403, "account_permanently_locked", "The account is permanently locked by the provider."},
	"mfa_required":                    {403, "mfa_required", "Multi-factor authentication is required by the provider."},
	"user_input_required":             {403, "user_input_required", "The provider requires input from the user."},
	"account_not_found":               {404, "account_not_found", "account not found"},
	"request_conflict":                {409, "request_conflict", "This request is already running."},
	"wrong_bank":                      {410, "wrong_bank", "The user belongs to a different provider."},
	"provider_too_many_requests":      {429, "provider_too_many_requests", "Provider rate limit exceeded."},
	"provider_request_limit_exceeded": {429, "provider_request_limit_exceeded", "Maximum number of requests per user allowed by provider exceeded."},
	"internal_server_error":           {500, "internal_server_error", "Internal server error."},
	"internal_error":                  {500, "internal_error", "Internal server error."},
	"endpoint_not_supported":          {501, "endpoint_not_supported", "Feature not supported by the provider."},
	"provider_error":                  {503, "provider_error", "The provider service is unavailable."},
	"temporarily_unavailable":         {503, "temporarily_unavailable", "The provider is temporarily unavailable."},
	"connector_overload":              {503, "connector_overload", "The connector service is currently overloaded."},
	"provider_timeout":                {504, "provider_timeout", "The provider service timed out."},
	"connector_timeout":               {504, "connector_timeout", "The connector service timed out."},
}

// ErrorCodes returns the codes of ErrorCatalogue, sorted.
func ErrorCodes() []string {
	out := make([]string, 0, len(ErrorCatalogue))
	for k := range ErrorCatalogue {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type errorBody struct {
	Error            string         `json:"error"`
	ErrorDescription string         `json:"error_description,omitempty"`
	ErrorDetails     map[string]any `json:"error_details"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal_server_error"}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

// writeError writes a TrueLayer v1/auth error body and records the code for
// the call statistics.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, desc string, details map[string]any) {
	if details == nil {
		details = map[string]any{}
	}
	noteError(r, code)
	writeJSON(w, status, errorBody{Error: code, ErrorDescription: desc, ErrorDetails: details})
}

// writeCatalogued writes a catalogued error.
func writeCatalogued(w http.ResponseWriter, r *http.Request, code string) {
	e, ok := ErrorCatalogue[code]
	if !ok {
		e = ErrorCatalogue["internal_server_error"]
	}
	writeError(w, r, e.Status, e.Code, e.Description, nil)
}

// problem is an RFC 7807 body as TrueLayer's v3, Signup+ and
// /connections/extend return it.
type problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Instance string              `json:"instance,omitempty"`
	TraceID  string              `json:"trace_id"`
	Errors   map[string][]string `json:"errors,omitempty"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, p problem, contentType string) {
	if p.TraceID == "" {
		p.TraceID = traceID(r)
	}
	noteError(r, p.Type)
	w.Header().Set("Content-Type", contentType)
	writeJSON(w, p.Status, p)
}
