package codat

import (
	"errors"
	"net/http"
	"strings"
)

// linkPrefix is where the link journey (Codat's link.codat.io and
// link-api.codat.io) lives on the emulator's single address.
const linkPrefix = "/link"

// apiHandler is a handler that reports failures as errors; routes() turns an
// *httpError into a Codat error body.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// route is one served operation, named by its operationId in the OpenAPI
// documents so that call counts can be kept per operation.
type route struct {
	pattern     string
	operationID string
	handler     apiHandler
}

func (e *Emulator) apiRoutes() []route {
	return []route{
		{"GET /integrations", "list-integrations", e.handleListIntegrations},
		{"GET /integrations/{platformKey}", "get-integration", e.handleGetIntegration},
		{"GET /companies", "list-companies", e.handleListCompanies},
		{"POST /companies", "create-company", e.handleCreateCompany},
		{"GET /companies/{companyId}", "get-company", e.handleGetCompany},
		{"DELETE /companies/{companyId}", "delete-company", e.handleDeleteCompany},
		{"GET /companies/{companyId}/connections", "list-connections", e.handleListConnections},
		{"POST /companies/{companyId}/connections", "create-connection", e.handleCreateConnection},
		{"GET /companies/{companyId}/connections/{connectionId}", "get-connection", e.handleGetConnection},
		{"DELETE /companies/{companyId}/connections/{connectionId}", "delete-connection", e.handleDeleteConnection},
		{"PATCH /companies/{companyId}/connections/{connectionId}", "unlink-connection", e.handleUnlinkConnection},
		{"POST /companies/{companyId}/data/queue/{dataType}", "refresh-data-type", e.handleQueueDataType},
		{"POST /companies/{companyId}/data/all", "refresh-company-data", e.handleQueueAll},
		{"GET /companies/{companyId}/dataStatus", "get-company-data-status", e.handleDataStatus},
		{"GET /companies/{companyId}/data/history", "list-pull-operations", e.handleListPulls},
		{"GET /companies/{companyId}/data/history/{datasetId}", "get-pull-operation", e.handleGetPull},
		{"GET /companies/{companyId}/connections/{connectionId}/data/banking-accounts", "list-accounts", e.handleListAccounts},
		{"GET /companies/{companyId}/connections/{connectionId}/data/banking-accounts/{accountId}", "get-account", e.handleGetAccount},
		{"GET /companies/{companyId}/connections/{connectionId}/data/banking-accountBalances", "list-account-balances", e.handleListBalances},
		{"GET /companies/{companyId}/connections/{connectionId}/data/banking-transactions", "list-transactions", e.handleListTransactions},
		{"GET /companies/{companyId}/connections/{connectionId}/data/banking-transactions/{transactionId}", "get-transaction", e.handleGetTransaction},
		{"GET /companies/{companyId}/connections/{connectionId}/data/banking-transactionCategories", "list-transaction-categories", e.handleListCategories},
		{"GET /companies/{companyId}/connections/{connectionId}/data/banking-transactionCategories/{transactionCategoryId}", "get-transaction-category", e.handleGetCategory},
	}
}

func (e *Emulator) linkRoutes() []route {
	return []route{
		{"GET " + linkPrefix + "/company/{companyId}", "link-company", e.handleLinkCompany},
		{"POST " + linkPrefix + "/company/{companyId}/select", "link-select-source", e.handleLinkSelect},
		{"GET " + linkPrefix + "/companies/{companyId}/connections/{connectionId}/start", "link-start", e.handleLinkStart},
		{"POST " + linkPrefix + "/companies/{companyId}/connections/{connectionId}/authorize", "link-authorize", e.handleLinkAuthorize},
		{"GET " + linkPrefix + "/complete", "link-complete", e.handleLinkComplete},
		{"GET " + linkPrefix + "/logos/{file}", "link-logo", e.handleLogo},
	}
}

func (e *Emulator) routes() *http.ServeMux {
	mux := http.NewServeMux()
	e.operations = map[string]string{}
	for _, rt := range e.apiRoutes() {
		mux.Handle(rt.pattern, e.api(rt.handler))
		e.operations[rt.pattern] = rt.operationID
	}
	for _, rt := range e.linkRoutes() {
		mux.Handle(rt.pattern, e.page(rt.handler))
		e.operations[rt.pattern] = rt.operationID
	}
	// Anything else under the emulator's prefixes gets Codat's 404 body (or,
	// for an unauthenticated caller, its 401, as Codat checks the key first).
	notFound := e.api(func(http.ResponseWriter, *http.Request) error {
		return errNotFound("The requested resource was not found.")
	})
	mux.Handle("/integrations", notFound)
	mux.Handle("/integrations/", notFound)
	mux.Handle("/companies/", notFound)
	mux.Handle(linkPrefix+"/", e.page(func(http.ResponseWriter, *http.Request) error {
		return errNotFound("The requested page was not found.")
	}))
	return mux
}

// api wraps an API handler with authentication, the daily quota and error
// rendering.
func (e *Emulator) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !e.authenticated(r) {
			writeError(w, errUnauthorized())
			return
		}
		if herr := e.admitRequest(); herr != nil {
			writeError(w, herr)
			return
		}
		if err := h(w, r); err != nil {
			var herr *httpError
			if !errors.As(err, &herr) {
				e.log.Error("codat emulator: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
				herr = &httpError{status: http.StatusInternalServerError, service: servicePublicAPI,
					message: "There is a problem with our server. Please try again later."}
			}
			writeError(w, herr)
		}
	})
}

// RouteInfo describes which operation a request addresses, for the sandbox's
// call counting.
type RouteInfo struct {
	// OperationID is the operationId of the OpenAPI documents (e.g.
	// "list-transactions"), or a "link-..." name for link journey pages;
	// empty when the path is not one the emulator serves.
	OperationID  string
	CompanyID    string
	ConnectionID string
}

// Classify tells which operation, company and connection r addresses, without
// serving it. The connection comes from the path or, for data/queue, from the
// connectionId query parameter.
func (e *Emulator) Classify(r *http.Request) RouteInfo {
	_, pattern := e.mux.Handler(r)
	info := RouteInfo{OperationID: e.operations[pattern]}
	info.CompanyID, info.ConnectionID = IDsFromPath(r.URL.Path)
	if info.ConnectionID == "" {
		info.ConnectionID = r.URL.Query().Get("connectionId")
	}
	return info
}

// IDsFromPath extracts the company and connection ids from a Codat API or link
// path, e.g. /companies/{c}/connections/{x}/data/banking-transactions or
// /link/companies/{c}/connections/{x}/start. Missing parts are empty.
func IDsFromPath(path string) (companyID, connectionID string) {
	path = strings.TrimPrefix(path, linkPrefix)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) >= 2 && (segs[0] == "companies" || segs[0] == "company") {
		companyID = segs[1]
	}
	if len(segs) >= 4 && segs[0] == "companies" && segs[2] == "connections" {
		connectionID = segs[3]
	}
	return companyID, connectionID
}

// MountPaths are the ServeMux patterns under which a shared server mounts
// Handler(); none of them overlaps TrueLayer's paths.
var MountPaths = []string{"/integrations", "/integrations/", "/companies", "/companies/", linkPrefix + "/"}
