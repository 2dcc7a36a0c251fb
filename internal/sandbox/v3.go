package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

const v3ContentType = "application/json; charset=UTF-8"
const v3ProblemContentType = "application/problem+json; charset=UTF-8"
const v3ErrorBase = "https://docs.truelayer.com/docs/error-types#"

// v3Problem is one of the spec's ProblemDetails* kinds.
type v3Problem struct {
	status int
	slug   string
	title  string
}

var (
	v3InvalidParameters = v3Problem{400, "invalid-parameters", "Invalid Parameters"}
	v3InvalidState      = v3Problem{400, "invalid_state", "Invalid State"}
	v3Unauthenticated   = v3Problem{401, "unauthenticated", "Unauthenticated"}
	v3Forbidden         = v3Problem{403, "forbidden", "Forbidden"}
	v3NotFound          = v3Problem{404, "not-found", "Not Found"}
	v3RateLimit         = v3Problem{429, "rate-limit-exceeded", "Rate Limit Exceeded"}
	v3UnknownError      = v3Problem{500, "unknown-error", "Unknown Error"}
	v3ProviderError     = v3Problem{502, "provider-error", "Provider Error"}
	v3GatewayTimeout    = v3Problem{504, "gateway-timeout", "Gateway Timeout"}
)

// v3ProblemForStatus maps a v1 catalogue status to the closest v3 problem.
func v3ProblemForStatus(status int) v3Problem {
	switch {
	case status == 400:
		return v3InvalidParameters
	case status == 401:
		return v3Unauthenticated
	case status == 403:
		return v3Forbidden
	case status == 404 || status == 410:
		return v3NotFound
	case status == 429:
		return v3RateLimit
	case status == 504:
		return v3GatewayTimeout
	case status >= 501:
		return v3ProviderError
	}
	return v3UnknownError
}

func writeV3Problem(w http.ResponseWriter, r *http.Request, p v3Problem, detail string) {
	writeV3ProblemErrors(w, r, p, detail, nil)
}

func writeV3ProblemErrors(w http.ResponseWriter, r *http.Request, p v3Problem, detail string, errs map[string][]string) {
	if p == v3InvalidParameters && errs == nil {
		errs = map[string][]string{"request": {detail}}
	}
	writeProblem(w, r, problem{Type: v3ErrorBase + p.slug, Title: p.title, Status: p.status, Detail: detail, Errors: errs}, v3ProblemContentType)
}

func writeV3JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", v3ContentType)
	writeJSON(w, status, v)
}

// v3Connection is a Data API v3 data connection. Once authorised it is
// backed by a connection (same id), so consent expiry, revocation, the
// unattended-call limit and the admin API work as for v1.
type v3Connection struct {
	id             string
	clientID       string
	userID         string
	userName       string
	scopes         []string
	dataAccessType string
	metadata       map[string]string
	provider       *provider // nil until chosen
	returnURI      string
	status         string // authorization_required, authorizing, authorized, failed
	authorizedAt   time.Time
	conn           *connection
	// jku is the webhook JWKS URL as the client reached the sandbox when it
	// created the connection (webhooks about it are sent later, outside a request).
	jku string
}

type v3CreateRequest struct {
	Scopes            []string `json:"scopes"`
	ProviderSelection *struct {
		Type       string `json:"type"`
		ProviderID string `json:"provider_id"`
	} `json:"provider_selection"`
	User *struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
		Phone string `json:"phone"`
	} `json:"user"`
	UserConsent *struct {
		Type string `json:"type"`
	} `json:"user_consent"`
	Metadata   map[string]string `json:"metadata"`
	HostedPage *struct {
		Type      string `json:"type"`
		ReturnURI string `json:"return_uri"`
	} `json:"hosted_page"`
	AuthorizationFlow *struct {
		Redirect *struct {
			ReturnURI string `json:"return_uri"`
		} `json:"redirect"`
	} `json:"authorization_flow"`
	DataAccessType string `json:"data_access_type"`
}

// clientToken authenticates a client_credentials token with scope data.
func (s *Server) clientToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	tok, ok := bearer(r)
	var cl accessClaims
	if !ok || s.signer.verify(tok, &cl) != nil || s.clock.Now().Unix() >= cl.Expires {
		writeV3Problem(w, r, v3Unauthenticated, "The access token is missing, invalid or expired.")
		return "", false
	}
	infoOf(r).client = cl.ClientID
	if cl.CredentialsID != "" || !contains(cl.Scope, "data") {
		writeV3Problem(w, r, v3Forbidden, "The token used for Authorization is not authorized to perform the request.")
		return "", false
	}
	return cl.ClientID, true
}

func (s *Server) handleV3Create(w http.ResponseWriter, r *http.Request) {
	clientID, ok := s.clientToken(w, r)
	if !ok {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var req v3CreateRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		writeV3ProblemErrors(w, r, v3InvalidParameters, "The request body was invalid.", map[string][]string{"body": {"Must be a JSON object"}})
		return
	}
	errs := map[string][]string{}
	if len(req.Scopes) == 0 {
		errs["scopes"] = []string{"Must be provided"}
	}
	for _, sc := range req.Scopes {
		if sc != "info" && sc != "accounts" && sc != "balance" && sc != "transactions" {
			errs["scopes"] = append(errs["scopes"], "Unknown scope "+sc)
		}
	}
	if req.ProviderSelection == nil || (req.ProviderSelection.Type != "preselected" && req.ProviderSelection.Type != "user_selected") {
		errs["provider_selection"] = []string{"Must be provided"}
	} else if req.ProviderSelection.Type == "preselected" && providerByID(req.ProviderSelection.ProviderID) == nil {
		errs["provider_selection.provider_id"] = []string{"Unknown provider"}
	}
	if req.User == nil {
		errs["user"] = []string{"Must be provided"}
	}
	if req.UserConsent == nil || (req.UserConsent.Type != "precaptured" && req.UserConsent.Type != "authorization_flow_captured") {
		errs["user_consent"] = []string{"Must be provided"}
	}
	if req.HostedPage != nil && req.AuthorizationFlow != nil {
		errs["hosted_page"] = []string{"Cannot be provided together with authorization_flow"}
	}
	returnURI := ""
	if req.HostedPage != nil {
		returnURI = req.HostedPage.ReturnURI
	} else if req.AuthorizationFlow != nil && req.AuthorizationFlow.Redirect != nil {
		returnURI = req.AuthorizationFlow.Redirect.ReturnURI
	}
	if returnURI != "" {
		if _, ok := s.lookupRedirect(clientID, returnURI); !ok {
			errs["return_uri"] = []string{"Must be registered for the client"}
		}
	}
	switch req.DataAccessType {
	case "":
		req.DataAccessType = "recurring"
	case "one_time", "recurring":
	default:
		errs["data_access_type"] = []string{"Must be one_time or recurring"}
	}
	if len(req.Metadata) > 10 {
		errs["metadata"] = []string{"At most 10 entries"}
	}
	if len(errs) > 0 {
		writeV3ProblemErrors(w, r, v3InvalidParameters, "The request body was invalid.", errs)
		return
	}
	c := &v3Connection{
		id:             newUUID(),
		clientID:       clientID,
		userID:         req.User.ID,
		userName:       req.User.Name,
		scopes:         req.Scopes,
		dataAccessType: req.DataAccessType,
		metadata:       req.Metadata,
		returnURI:      returnURI,
		status:         "authorization_required",
		jku:            s.webhookJWKSURL(r),
	}
	if c.userID == "" {
		c.userID = newUUID()
	}
	if req.ProviderSelection.Type == "preselected" {
		c.provider = providerByID(req.ProviderSelection.ProviderID)
	}
	s.mu.Lock()
	s.v3conns[c.id] = c
	s.mu.Unlock()
	infoOf(r).connection = c.id
	resp := map[string]any{"id": c.id, "user": map[string]string{"id": c.userID}}
	link := s.baseURL(r) + "/hosted/data/" + c.id + "?connection_id=" + url.QueryEscape(c.id)
	switch {
	case req.HostedPage != nil:
		resp["status"] = "authorization_required"
		resp["hosted_page"] = map[string]string{"uri": link}
	case req.AuthorizationFlow != nil:
		c.status = "authorizing"
		resp["status"] = "authorizing"
		resp["authorization_flow"] = map[string]any{"actions": map[string]any{"next": map[string]string{"type": "redirect", "uri": link}}}
	default:
		resp["status"] = "authorization_required"
	}
	writeV3JSON(w, http.StatusCreated, resp)
}

// handleV3HostedPage starts the auth dialog for a v3 connection.
func (s *Server) handleV3HostedPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c, ok := s.v3conns[r.PathValue("connection_id")]
	s.mu.Unlock()
	if !ok || c.returnURI == "" {
		renderErrorPage(w, r, http.StatusNotFound, "Unknown connection.")
		return
	}
	infoOf(r).client = c.clientID
	s.mu.Lock()
	usable := c.status == "authorization_required" || c.status == "authorizing"
	if usable {
		c.status = "authorizing"
	}
	s.mu.Unlock()
	if !usable {
		renderErrorPage(w, r, http.StatusBadRequest, "This connection cannot be authorised any more.")
		return
	}
	sess := &authSession{clientID: c.clientID, redirectURI: c.returnURI, scopes: c.scopes, v3Conn: c}
	if c.provider != nil {
		sess.provider = c.provider
		sess.providers = []*provider{c.provider}
	} else {
		sess.providers = selectProviders("uk-cs-mock uk-ob-all", false)
	}
	s.startSession(w, sess)
	s.renderStep(w, sess, "")
}

// authorizeV3 completes a v3 connection's authorisation.
func (s *Server) authorizeV3(c *v3Connection, user mockUser, now time.Time) {
	s.mu.Lock()
	p := c.provider
	s.mu.Unlock()
	if p == nil {
		p = providerByID("mock")
	}
	conn := &connection{
		id: c.id, clientID: c.clientID, consentID: newUUID(), provider: p, user: user,
		scopes: c.scopes, createdAt: now,
		expiresAt: now.Add(s.opts.ConsentDuration), statusUpdatedAt: now, authTime: now,
		extendOutcome: user.extendOutcome, sessionID: "auth-" + randomHex(12), unattended: map[string][]time.Time{},
	}
	conn.dataset.Store(s.datasetFor(user.username))
	s.connections.set(conn.id, conn)
	s.mu.Lock()
	c.provider, c.status, c.authorizedAt, c.conn = p, "authorized", now, conn
	meta := c.metadata
	s.mu.Unlock()
	if meta == nil {
		meta = map[string]string{}
	}
	s.v3Webhook(c.jku, map[string]any{"type": "connection_authorized", "event_version": 1, "event_id": newUUID(),
		"connection_id": c.id, "metadata": meta, "authorized_at": now.UTC().Format("2006-01-02T15:04:05.000Z")})
}

func (s *Server) failV3(c *v3Connection, stage, reason string) {
	s.mu.Lock()
	c.status = "failed"
	s.mu.Unlock()
	s.v3Webhook(c.jku, map[string]any{"type": "connection_failed", "event_version": 1, "event_id": newUUID(), "connection_id": c.id,
		"failed_at": s.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "failure_stage": stage, "failure_reason": reason})
}

func (s *Server) v3Webhook(jku string, body map[string]any) {
	if s.opts.V3WebhookURI == "" {
		return
	}
	s.bg.Add(1)
	go s.deliverWebhook(s.opts.V3WebhookURI, jku, body, s.opts.AsyncDelay)
}

func (s *Server) v3Lookup(id string) (*v3Connection, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.v3conns[id]
	return c, ok
}

// v3Data authenticates a data call and returns the authorised connection.
func (s *Server) v3Data(w http.ResponseWriter, r *http.Request, id, needScope string) (*v3Connection, *connection, bool) {
	clientID, ok := s.clientToken(w, r)
	if !ok {
		return nil, nil, false
	}
	if id == "" {
		writeV3ProblemErrors(w, r, v3InvalidParameters, "Connection-Id header is missing.", map[string][]string{"Connection-Id": {"Must be provided"}})
		return nil, nil, false
	}
	c, ok := s.v3Lookup(id)
	if !ok || c.clientID != clientID {
		writeV3Problem(w, r, v3NotFound, "Connection not found.")
		return nil, nil, false
	}
	infoOf(r).connection = c.id
	s.mu.Lock()
	conn, authorizedAt := c.conn, c.authorizedAt
	s.mu.Unlock()
	if conn == nil {
		writeV3Problem(w, r, v3InvalidState, "Status of the connection does not allow this action to be executed.")
		return nil, nil, false
	}
	now := s.clock.Now()
	conn.mu.Lock()
	status := conn.statusLocked(now)
	conn.mu.Unlock()
	if status != ConsentAuthorised {
		writeV3Problem(w, r, v3InvalidState, "Status of the connection does not allow this action to be executed.")
		return nil, nil, false
	}
	if c.dataAccessType == "one_time" && now.After(authorizedAt.Add(s.opts.OneTimeAccessWindow)) {
		writeV3Problem(w, r, v3Forbidden, "The one-time access window of this connection has ended.")
		return nil, nil, false
	}
	if needScope != "" && !contains(c.scopes, needScope) {
		writeV3Problem(w, r, v3Forbidden, "The connection was not granted the "+needScope+" scope.")
		return nil, nil, false
	}
	if code := conn.user.errorCode; code != "" {
		e := ErrorCatalogue[code]
		writeV3Problem(w, r, v3ProblemForStatus(e.Status), e.Description)
		return nil, nil, false
	}
	return c, conn, true
}

func (s *Server) handleV3UserInfo(w http.ResponseWriter, r *http.Request) {
	_, conn, ok := s.v3Data(w, r, r.PathValue("connection_id"), "info")
	if !ok {
		return
	}
	if !s.admitUnattended(conn, "", infoOf(r), s.clock.Now()) {
		writeV3Problem(w, r, v3RateLimit, "Maximum number of requests per user allowed by provider exceeded.")
		return
	}
	writeV3JSON(w, http.StatusOK, map[string]string{"name": conn.data().Identity().FullName})
}

func toV3Account(a bankdata.Account, holder string) map[string]any {
	if a.IsCard() {
		return map[string]any{"id": a.ID, "type": "card"}
	}
	typ := "current"
	if a.Kind == bankdata.KindSavings {
		typ = "savings"
	}
	return map[string]any{
		"id": a.ID, "type": "account", "account_type": typ, "customer_segment": "retail", "currency": a.Currency,
		"account_identifiers": []map[string]string{
			{"type": "sort_code_account_number", "sort_code": a.SortCode, "account_number": a.AccountNumber},
			{"type": "iban", "iban": a.IBAN},
		},
		"bic": a.SwiftBIC + "XXX", "account_holder_names": []string{holder},
	}
}

func (s *Server) handleV3Accounts(w http.ResponseWriter, r *http.Request) {
	_, conn, ok := s.v3Data(w, r, r.Header.Get("Connection-Id"), "accounts")
	if !ok {
		return
	}
	filter := r.URL.Query().Get("type")
	if filter != "" && filter != "account" && filter != "card" {
		writeV3ProblemErrors(w, r, v3InvalidParameters, "Invalid type filter.", map[string][]string{"type": {"Must be account or card"}})
		return
	}
	if !s.admitUnattended(conn, "", infoOf(r), s.clock.Now()) {
		writeV3Problem(w, r, v3RateLimit, "Maximum number of requests per user allowed by provider exceeded.")
		return
	}
	accts := conn.data().Accounts()
	sort.Slice(accts, func(i, j int) bool {
		if accts[i].IsCard() != accts[j].IsCard() {
			return !accts[i].IsCard() // "account" sorts before "card"
		}
		return accts[i].ID < accts[j].ID
	})
	items := []map[string]any{}
	holder := conn.data().Identity().FullName
	for _, a := range accts {
		if filter == "card" && !a.IsCard() || filter == "account" && a.IsCard() {
			continue
		}
		items = append(items, toV3Account(a, holder))
	}
	writeV3JSON(w, http.StatusOK, map[string]any{"items": items, "pagination": map[string]any{}})
}

// v3Request is a transactions request: one pre-computed page.
type v3Request struct {
	id        string
	connID    string
	accountID string
	status    string
	items     []map[string]any
	next      string
}

type v3TxRequestBody struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Cursor     string `json:"cursor"`
	PageSize   *int   `json:"page_size"`
	Enrichment *struct {
		TransactionCategory bool `json:"transaction_category"`
		MerchantName        bool `json:"merchant_name"`
	} `json:"enrichment"`
}

// v3 cursors encode the position after the last item of the previous page:
// "<unix-nanos>|<id>" in the order timestamp desc, id desc.
func encodeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixNano(), 10) + "|" + id))
}

func decodeCursor(c string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	ns, id, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil {
		return time.Time{}, "", false
	}
	return time.Unix(0, n).UTC(), id, true
}

func (s *Server) handleV3CreateTxRequest(w http.ResponseWriter, r *http.Request) {
	_, conn, ok := s.v3Data(w, r, r.Header.Get("Connection-Id"), "transactions")
	if !ok {
		return
	}
	acct, found := conn.data().Account(r.PathValue("account_id"))
	if !found {
		writeV3Problem(w, r, v3NotFound, "Account not found.")
		return
	}
	var body v3TxRequestBody
	raw, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	errs := map[string][]string{}
	if json.Unmarshal(raw, &body) != nil {
		errs["body"] = []string{"Must be a JSON object"}
	}
	from, okFrom := time.Parse("2006-01-02", body.From)
	to, okTo := time.Parse("2006-01-02", body.To)
	if okFrom != nil {
		errs["from"] = []string{"Must be a date in YYYY-MM-DD format"}
	}
	if okTo != nil {
		errs["to"] = []string{"Must be a date in YYYY-MM-DD format"}
	}
	pageSize := 50
	if body.PageSize != nil {
		if *body.PageSize < 1 || *body.PageSize > 500 {
			errs["page_size"] = []string{"Must be between 1 and 500"}
		} else {
			pageSize = *body.PageSize
		}
	}
	var curTS time.Time
	var curID string
	if body.Cursor != "" {
		var ok bool
		if curTS, curID, ok = decodeCursor(body.Cursor); !ok {
			errs["cursor"] = []string{"Invalid cursor"}
		}
	}
	now := s.clock.Now()
	if len(errs) == 0 && (from.After(to) || to.After(now)) {
		errs["to"] = []string{"The date range is invalid"}
	}
	if len(errs) > 0 {
		writeV3ProblemErrors(w, r, v3InvalidParameters, "The request body was invalid.", errs)
		return
	}
	// Pages after the first continue an already admitted request.
	if body.Cursor == "" && !s.admitUnattended(conn, acct.ID, infoOf(r), now) {
		writeV3Problem(w, r, v3RateLimit, "Maximum number of requests per user allowed by provider exceeded.")
		return
	}
	end := to.Add(24*time.Hour - time.Nanosecond)
	if end.After(now) {
		end = now
	}
	txs := conn.data().Transactions(acct.ID, from, end)
	pending := conn.data().Pending(acct.ID, now)
	all := append(append([]bankdata.Transaction(nil), txs...), pending...)
	sort.Slice(all, func(i, j int) bool {
		if !all[i].Timestamp.Equal(all[j].Timestamp) {
			return all[i].Timestamp.After(all[j].Timestamp)
		}
		return all[i].ID > all[j].ID
	})
	start := 0
	if body.Cursor != "" {
		start = sort.Search(len(all), func(i int) bool {
			t := all[i]
			return t.Timestamp.Before(curTS) || (t.Timestamp.Equal(curTS) && t.ID < curID)
		})
	}
	stop := min(start+pageSize, len(all))
	req := &v3Request{id: newUUID(), connID: conn.id, accountID: acct.ID, status: "completed", items: []map[string]any{}}
	for _, tx := range all[start:stop] {
		req.items = append(req.items, toV3Transaction(acct, tx, body.Enrichment != nil && body.Enrichment.TransactionCategory, body.Enrichment != nil && body.Enrichment.MerchantName))
	}
	if stop < len(all) {
		last := all[stop-1]
		req.next = encodeCursor(last.Timestamp, last.ID)
	}
	s.mu.Lock()
	if len(s.v3reqs) >= maxTasks {
		for k := range s.v3reqs { // bound memory: forget an arbitrary old page
			delete(s.v3reqs, k)
			break
		}
	}
	s.v3reqs[req.id] = req
	s.mu.Unlock()
	s.v3Webhook(s.webhookJWKSURL(r), map[string]any{"type": "transactions_request_completed", "event_version": 1, "event_id": newUUID(),
		"connection_id": conn.id, "account_id": acct.ID, "request_id": req.id, "completed_at": now.UTC().Format("2006-01-02T15:04:05.000Z")})
	writeV3JSON(w, http.StatusAccepted, map[string]string{"id": req.id, "status": "pending"})
}

func toV3Transaction(a bankdata.Account, tx bankdata.Transaction, category, merchant bool) map[string]any {
	status := "settled"
	if tx.Pending {
		status = "pending"
	}
	out := map[string]any{
		"id": tx.ID, "timestamp": tx.Timestamp.UTC().Format(time.RFC3339), "description": tx.Description,
		"currency": tx.Currency, "amount_in_minor": tx.Amount, "status": status,
	}
	if category || merchant {
		enr := map[string]any{}
		if merchant && tx.MerchantName != "" {
			enr["merchant_name"] = tx.MerchantName
		}
		if category && tx.CategoryCode != "" {
			enr["transaction_category"] = map[string]string{"category_code": tx.CategoryCode, "category_name": tx.CategoryName}
		}
		out["enrichment"] = enr
	}
	return out
}

func (s *Server) handleV3GetTxRequest(w http.ResponseWriter, r *http.Request) {
	_, conn, ok := s.v3Data(w, r, r.Header.Get("Connection-Id"), "transactions")
	if !ok {
		return
	}
	s.mu.Lock()
	req, found := s.v3reqs[r.PathValue("request_id")]
	s.mu.Unlock()
	if !found || req.connID != conn.id || req.accountID != r.PathValue("account_id") {
		writeV3Problem(w, r, v3NotFound, "Transactions request not found.")
		return
	}
	// No next page: next_cursor is left out (the schema types it as a string).
	pagination := map[string]any{}
	if req.next != "" {
		pagination["next_cursor"] = req.next
	}
	writeV3JSON(w, http.StatusOK, map[string]any{"id": req.id, "status": req.status, "result": map[string]any{"items": req.items, "pagination": pagination}})
}
