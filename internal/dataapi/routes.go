package dataapi

import (
	"net/http"
)

// The two kinds of scope a path names.
const (
	connectionPrefix = "/v1/namespaces/{namespace}/bankconnections/{name}"
	userPrefix       = "/v1/namespaces/{namespace}/users/{userRef}"
)

// OpenAPIPath serves the API's OpenAPI document, to anyone: it describes the API,
// not anybody's data.
const OpenAPIPath = "/openapi.json"

// param is a query parameter of a route, for the OpenAPI document.
type param struct {
	name, description, format string
}

var (
	paramFrom    = param{"from", "only transactions at or after this instant (RFC 3339)", "date-time"}
	paramTo      = param{"to", "only transactions before this instant (RFC 3339)", "date-time"}
	paramAccount = param{"account", "only this account or card id", ""}
	paramCursor  = param{"cursor", "the `next` of the previous page; absent: the first page", ""}
	paramLimit   = param{"limit", "page size", "int32"}
)

// route is one operation of the API. The mux and the OpenAPI document are both
// built from the routes, so neither can list an operation the other lacks.
type route struct {
	method string
	// prefix is connectionPrefix or userPrefix; path follows it.
	prefix, path string
	// verb is what the caller needs on bankconnections/data in the namespace.
	verb    string
	id      string
	summary string
	query   []param
	// response is a value of the 200 answer's type.
	response any
	serve    func(s *Server, r *http.Request, sc *scope) (any, error)
}

func (rt route) pattern() string { return rt.method + " " + rt.prefix + rt.path }

// resource is a read available for a connection and for a userRef.
type resource struct {
	path, name, summary string
	query               []param
	response            any
	serve               func(s *Server, r *http.Request, sc *scope) (any, error)
}

var resources = []resource{
	{"/accounts", "Accounts", "bank accounts", nil, AccountList{}, (*Server).accounts},
	{"/cards", "Cards", "card accounts", nil, CardList{}, (*Server).cards},
	{"/balances", "Balances", "balance history of every account and card, oldest first", nil, BalanceList{}, (*Server).balances},
	{"/transactions", "Transactions", "booked transactions, oldest first, a page at a time (order: timestamp, connection, account, transaction id)",
		[]param{paramFrom, paramTo, paramAccount, paramCursor, paramLimit}, TransactionPage{}, (*Server).transactions},
	{"/pending-transactions", "PendingTransactions", "pending transactions of the latest run", nil, PendingList{}, (*Server).pending},
	{"/standing-orders", "StandingOrders", "standing orders of the latest run", nil, StandingOrderList{}, (*Server).standingOrders},
	{"/direct-debits", "DirectDebits", "direct debits of the latest run", nil, DirectDebitList{}, (*Server).directDebits},
	{"/identity", "Identity", "the account holder's identity", nil, IdentityList{}, (*Server).identity},
	{"/sync-runs", "SyncRuns", "runs of SyncJobs, newest first", []param{paramLimit}, SyncRunList{}, (*Server).syncRuns},
}

// routes lists every operation.
func routes() []route {
	out := []route{
		{method: http.MethodGet, prefix: connectionPrefix, verb: "get", id: "getConnection",
			summary: "A connection: its consent's state and expiry", response: Connection{}, serve: (*Server).connection},
		{method: http.MethodGet, prefix: userPrefix, verb: "get", id: "getUser",
			summary: "A user's connections, with their consents' state and expiry", response: User{}, serve: (*Server).user},
		{method: http.MethodDelete, prefix: userPrefix, verb: "delete", id: "eraseUser",
			summary: "Erase everything stored for the user in the namespace", response: Erasure{}, serve: (*Server).erase},
	}
	for _, res := range resources {
		for _, p := range []struct{ prefix, id, of string }{
			{connectionPrefix, "listConnection", "of a connection"},
			{userPrefix, "listUser", "of a user, through every connection"},
		} {
			out = append(out, route{method: http.MethodGet, prefix: p.prefix, path: res.path, verb: "get",
				id: p.id + res.name, summary: "The " + res.summary + ", " + p.of, query: res.query,
				response: res.response, serve: res.serve})
		}
	}
	return out
}
