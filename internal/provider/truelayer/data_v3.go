package truelayer

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/store"
)

// Data API v3 (providers-api.md §4.2): accounts and cards from
// /v3/connected-accounts, the holder's name from the connection's
// user-info, and transactions through transaction requests. A transaction
// request answers one page; the next page is a new request with the cursor.
//
// Fetch of transactions creates the request for the first page. With Async
// (or WebhookURI) it returns the request as a Task at once; otherwise it
// waits for it (a bounded poll) and collects every page, returning the Task
// only if the first page is still not ready. Collect reads the first page's
// request and follows the cursor through all further pages in one call:
// pages are re-readable and cursor pages do not count as unattended calls,
// so a Collect that fails part-way is simply repeated, and the caller never
// stores a partial window.

const (
	endpointV3Accounts   = "GET /v3/connected-accounts"
	endpointV3UserInfo   = "GET /v3/data-connections/{connection_id}/user-info"
	endpointV3TxCreate   = "POST /v3/connected-accounts/{account_id}/transactions/requests"
	endpointV3TxGet      = "GET /v3/connected-accounts/{account_id}/transactions/requests/{request_id}"
	v3PageSize           = 500 // the maximum the API accepts
	maxV3TransactionPage = 2000
	maxV3AccountPages    = 20
	// codePagePending is the Code of the error Collect returns when a page
	// after the first is still being prepared after the bounded wait.
	codePagePending = "page_pending"
)

// v3PollDelays are the waits before each re-read of a pending transaction
// request within one call (about 8 s in all); after them the call gives up
// (Fetch returns the Task, Collect a RetryLater error).
var v3PollDelays = []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}

func (c *Client) fetchV3(ctx context.Context, conn provider.Connection, f provider.Fetch) (provider.FetchResult, error) {
	op := "fetch " + string(f.Resource)
	var d *provider.Data
	var err error
	switch f.Resource {
	case provider.ResourceAccounts, provider.ResourceCards:
		d, err = c.v3ConnectedAccounts(ctx, conn, f)
	case provider.ResourceInfo:
		d, err = c.v3UserInfo(ctx, conn, f)
	case provider.ResourceTransactions:
		return c.fetchV3Transactions(ctx, conn, f)
	case provider.ResourcePending:
		return provider.FetchResult{}, invalidRequest(op, "Data API v3 returns pending transactions with the transactions resource")
	default:
		return provider.FetchResult{}, invalidRequest(op, "Data API v3 does not serve "+string(f.Resource))
	}
	if err != nil {
		return provider.FetchResult{}, err
	}
	return provider.FetchResult{Data: d}, nil
}

func (c *Client) collectV3(ctx context.Context, conn provider.Connection, t provider.Task, f provider.Fetch) (*provider.Data, error) {
	if f.Resource != provider.ResourceTransactions {
		return nil, invalidRequest("collect "+string(f.Resource), "Data API v3 only answers transactions asynchronously")
	}
	return c.collectV3Pages(ctx, conn, f, t.ID, false)
}

// v3Call sends a Data API v3 data call for conn's data connection.
func (c *Client) v3Call(ctx context.Context, conn provider.Connection, f provider.Fetch, op, endpoint, method, u string, body any, idempotent bool) (*httpx.Response, call, error) {
	if conn.Refs.DataConnectionID == "" {
		return nil, call{}, invalidRequest(op, "the connection has no data connection id")
	}
	var cl call
	resp, err := c.v3Do(ctx, conn, op, opV3, func(tok string) (httpx.Request, error) {
		h := bearerHeader(tok)
		h.Set("Connection-Id", conn.Refs.DataConnectionID)
		psuHeader(h, "Tl-User-IP", f.PSUIP)
		req := httpx.Request{Method: method, URL: u, Endpoint: endpoint, Header: h, Idempotent: idempotent}
		if body != nil {
			var err error
			if req, err = jsonRequest(method, endpoint, u, h, body); err != nil {
				return httpx.Request{}, err
			}
			req.Idempotent = idempotent
		}
		cl = call{op: op, req: req, secrets: []string{tok}}
		return req, nil
	})
	return resp, cl, err
}

type v3AccountsJSON struct {
	Items      []v3AccountJSON  `json:"items"`
	Pagination v3PaginationJSON `json:"pagination"`
}

type v3PaginationJSON struct {
	NextCursor *string `json:"next_cursor"`
}

func (p v3PaginationJSON) next() string {
	if p.NextCursor == nil {
		return ""
	}
	return *p.NextCursor
}

type v3AccountJSON struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	AccountType        string `json:"account_type"`
	CustomerSegment    string `json:"customer_segment"`
	Currency           string `json:"currency"`
	AccountIdentifiers []struct {
		Type          string `json:"type"`
		SortCode      string `json:"sort_code"`
		AccountNumber string `json:"account_number"`
		IBAN          string `json:"iban"`
	} `json:"account_identifiers"`
	BIC                string   `json:"bic"`
	AccountHolderNames []string `json:"account_holder_names"`
}

// v3ConnectedAccounts lists the accounts (ResourceAccounts) or cards
// (ResourceCards) of the connection. The cursor is followed although the API
// does not paginate yet (it says it will).
func (c *Client) v3ConnectedAccounts(ctx context.Context, conn provider.Connection, f provider.Fetch) (*provider.Data, error) {
	op := "fetch " + string(f.Resource)
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return nil, invalidRequest(op, err.Error())
	}
	typ := "account"
	if f.Resource == provider.ResourceCards {
		typ = "card"
	}
	now := c.opts.HTTP.Now().UTC()
	d := &provider.Data{}
	cursor := ""
	for page := 0; ; page++ {
		if page == maxV3AccountPages {
			return nil, malformed(op, 0, "connected accounts: too many pages")
		}
		q := url.Values{"type": {typ}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, cl, err := c.v3Call(ctx, conn, f, op, endpointV3Accounts, http.MethodGet, h.api+"/v3/connected-accounts?"+q.Encode(), nil, f.PSUIP != "")
		if err != nil {
			return nil, err
		}
		var ans v3AccountsJSON
		if err := decode(cl, resp, &ans); err != nil {
			return nil, err
		}
		for _, it := range ans.Items {
			if it.ID == "" {
				return nil, malformed(op, resp.Status, "a connected account has no id")
			}
			if it.Type != typ {
				continue
			}
			if typ == "card" {
				d.Cards = append(d.Cards, store.Card{AccountID: it.ID, Currency: it.Currency, FetchedAt: now})
				continue
			}
			d.Accounts = append(d.Accounts, mapV3Account(it, now))
		}
		next := ans.Pagination.next()
		if next == "" || next == cursor || len(ans.Items) == 0 {
			return d, nil
		}
		cursor = next
	}
}

func mapV3Account(it v3AccountJSON, now time.Time) store.Account {
	a := store.Account{AccountID: it.ID, Type: it.AccountType, Currency: it.Currency, FetchedAt: now}
	for _, id := range it.AccountIdentifiers {
		switch id.Type {
		case "sort_code_account_number":
			a.Number.SortCode, a.Number.Number = id.SortCode, id.AccountNumber
		case "iban":
			a.Number.IBAN = id.IBAN
		}
	}
	a.Number.SwiftBIC = it.BIC
	meta := map[string]any{}
	if it.CustomerSegment != "" {
		meta["customer_segment"] = it.CustomerSegment
	}
	if len(it.AccountHolderNames) > 0 {
		meta["account_holder_names"] = it.AccountHolderNames
	}
	if len(meta) > 0 {
		a.Meta, _ = json.Marshal(meta) // strings only: cannot fail
	}
	return a
}

// v3UserInfo reads the holder's name of the data connection.
func (c *Client) v3UserInfo(ctx context.Context, conn provider.Connection, f provider.Fetch) (*provider.Data, error) {
	op := "fetch " + string(f.Resource)
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return nil, invalidRequest(op, err.Error())
	}
	if conn.Refs.DataConnectionID == "" {
		return nil, invalidRequest(op, "the connection has no data connection id")
	}
	u := h.api + "/v3/data-connections/" + url.PathEscape(conn.Refs.DataConnectionID) + "/user-info"
	var cl call
	resp, err := c.v3Do(ctx, conn, op, opV3Connection, func(tok string) (httpx.Request, error) {
		hdr := bearerHeader(tok)
		psuHeader(hdr, "Tl-User-IP", f.PSUIP)
		cl = call{op: op, secrets: []string{tok}, req: httpx.Request{Method: http.MethodGet, URL: u, Endpoint: endpointV3UserInfo,
			Header: hdr, Idempotent: f.PSUIP != ""}}
		return cl.req, nil
	})
	if err != nil {
		return nil, err
	}
	var ui struct {
		Name string `json:"name"`
	}
	if err := decode(cl, resp, &ui); err != nil {
		return nil, err
	}
	return &provider.Data{Identities: []store.Identity{{FullName: ui.Name}}}, nil
}

type v3TxRequestBody struct {
	From       string              `json:"from"`
	To         string              `json:"to"`
	Cursor     string              `json:"cursor,omitempty"`
	PageSize   int                 `json:"page_size"`
	Enrichment v3EnrichmentRequest `json:"enrichment"`
}

// v3EnrichmentRequest: "Currently both must be true".
type v3EnrichmentRequest struct {
	TransactionCategory bool `json:"transaction_category"`
	MerchantName        bool `json:"merchant_name"`
}

type v3TxRequestJSON struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	FailureReason string `json:"failure_reason"`
	Result        *struct {
		Items      []v3TransactionJSON `json:"items"`
		Pagination v3PaginationJSON    `json:"pagination"`
	} `json:"result"`
}

type v3TransactionJSON struct {
	ID            string          `json:"id"`
	Timestamp     string          `json:"timestamp"`
	Description   string          `json:"description"`
	Currency      string          `json:"currency"`
	AmountInMinor *int64          `json:"amount_in_minor"`
	Status        string          `json:"status"`
	Enrichment    json.RawMessage `json:"enrichment"`
}

type v3EnrichmentJSON struct {
	MerchantName        string `json:"merchant_name"`
	TransactionCategory *struct {
		CategoryCode string `json:"category_code"`
		CategoryName string `json:"category_name"`
	} `json:"transaction_category"`
}

// v3Window is the from/to of a transaction request; both are required.
func (c *Client) v3Window(op string, f provider.Fetch) (dateWindow, error) {
	if f.From.IsZero() {
		return dateWindow{}, invalidRequest(op, "Data API v3 transaction requests need a window start (Fetch.From)")
	}
	w := toDateWindow(f, c.opts.HTTP.Now())
	if w.to == "" && !w.future {
		w.to = utcDate(c.opts.HTTP.Now()).Format(dateLayout)
	}
	return w, nil
}

func (c *Client) fetchV3Transactions(ctx context.Context, conn provider.Connection, f provider.Fetch) (provider.FetchResult, error) {
	op := "fetch " + string(f.Resource)
	w, err := c.v3Window(op, f)
	if err != nil {
		return provider.FetchResult{}, err
	}
	if w.future {
		return provider.FetchResult{Data: &provider.Data{}}, nil
	}
	id, err := c.v3CreateTxRequest(ctx, conn, f, w, "")
	if err != nil {
		return provider.FetchResult{}, err
	}
	task := &provider.Task{ID: id}
	if h, err := c.hostsFor(conn.Environment); err == nil {
		task.ResultsURI = h.api + v3TxRequestPath(f.AccountID) + "/" + url.PathEscape(id)
	}
	if asyncRequested(f) {
		return provider.FetchResult{Task: task}, nil
	}
	d, err := c.collectV3Pages(ctx, conn, f, id, true)
	if pe, ok := provider.AsError(err); ok && pe.Code == codePagePending {
		return provider.FetchResult{Task: task}, nil // Collect starts again from the first page
	}
	if err != nil {
		return provider.FetchResult{}, err
	}
	if d == nil {
		return provider.FetchResult{Task: task}, nil
	}
	return provider.FetchResult{Data: d}, nil
}

func v3TxRequestPath(accountID string) string {
	return "/v3/connected-accounts/" + url.PathEscape(accountID) + "/transactions/requests"
}

// v3CreateTxRequest creates a transaction request and returns its id. The
// first page (no cursor) is the call that counts as unattended.
func (c *Client) v3CreateTxRequest(ctx context.Context, conn provider.Connection, f provider.Fetch, w dateWindow, cursor string) (string, error) {
	op := "fetch " + string(f.Resource)
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return "", invalidRequest(op, err.Error())
	}
	body := v3TxRequestBody{From: w.from, To: w.to, Cursor: cursor, PageSize: v3PageSize,
		Enrichment: v3EnrichmentRequest{TransactionCategory: true, MerchantName: true}}
	// Each POST creates a request: never repeated once it may have arrived.
	resp, cl, err := c.v3Call(ctx, conn, f, op, endpointV3TxCreate, http.MethodPost, h.api+v3TxRequestPath(f.AccountID), body, false)
	if err != nil {
		return "", err
	}
	var ans v3TxRequestJSON
	if err := decode(cl, resp, &ans); err != nil {
		return "", err
	}
	if ans.ID == "" {
		return "", malformed(op, resp.Status, "the transaction request has no id")
	}
	return ans.ID, nil
}

// v3GetTxRequest reads a transaction request; with wait it re-reads a
// pending one after each of v3PollDelays. It returns nil while the request
// is pending.
func (c *Client) v3GetTxRequest(ctx context.Context, conn provider.Connection, f provider.Fetch, id string, wait bool) (*v3TxRequestJSON, error) {
	op := "collect " + string(f.Resource)
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return nil, invalidRequest(op, err.Error())
	}
	u := h.api + v3TxRequestPath(f.AccountID) + "/" + url.PathEscape(id)
	for attempt := 0; ; attempt++ {
		resp, cl, err := c.v3Call(ctx, conn, f, op, endpointV3TxGet, http.MethodGet, u, nil, true)
		if err != nil {
			return nil, err
		}
		var ans v3TxRequestJSON
		if err := decode(cl, resp, &ans); err != nil {
			return nil, err
		}
		switch ans.Status {
		case "completed":
			if ans.Result == nil {
				return nil, malformed(op, resp.Status, "a completed transaction request without result")
			}
			return &ans, nil
		case "failed":
			return nil, &provider.Error{Class: provider.ClassRetryLater, Op: op, Status: resp.Status, Code: ans.FailureReason,
				Description: "the transaction request failed: " + truncate(ans.FailureReason)}
		case "pending":
			if !wait || attempt >= len(v3PollDelays) {
				return nil, nil
			}
			if err := c.sleep(ctx, v3PollDelays[attempt]); err != nil {
				return nil, &provider.Error{Class: provider.ClassRetryLater, Op: op, Err: err, Description: "waiting for the transaction request"}
			}
		default:
			return nil, malformed(op, resp.Status, "unknown transaction request status "+truncate(ans.Status))
		}
	}
}

// collectV3Pages reads the request firstID and follows next_cursor through
// the remaining pages. It returns (nil, nil) while the first page is
// pending; a later page still pending after the bounded wait is a
// RetryLater error (the next Collect starts again from the first page).
func (c *Client) collectV3Pages(ctx context.Context, conn provider.Connection, f provider.Fetch, firstID string, waitFirst bool) (*provider.Data, error) {
	op := "collect " + string(f.Resource)
	w, err := c.v3Window(op, f)
	if err != nil {
		return nil, err
	}
	req, err := c.v3GetTxRequest(ctx, conn, f, firstID, waitFirst)
	if err != nil || req == nil {
		return nil, err
	}
	d := &provider.Data{}
	seen := map[string]bool{}
	m := &mapper{}
	cursors := map[string]bool{}
	for page := 1; ; page++ {
		for _, it := range req.Result.Items {
			mapV3Transaction(m, f, it, d, seen)
		}
		if m.err != nil {
			return nil, malformed(op, 0, truncate(m.err.Error()))
		}
		next := req.Result.Pagination.next()
		if next == "" {
			break
		}
		if cursors[next] || page >= maxV3TransactionPage {
			return nil, malformed(op, 0, "the transaction pages do not end (a cursor repeats or there are too many pages)")
		}
		cursors[next] = true
		id, err := c.v3CreateTxRequest(ctx, conn, f, w, next)
		if err != nil {
			return nil, err
		}
		if req, err = c.v3GetTxRequest(ctx, conn, f, id, true); err != nil {
			return nil, err
		}
		if req == nil {
			return nil, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: codePagePending,
				Description: "a further page of transactions is not ready yet; collect again"}
		}
	}
	d.Transactions = deriveMissingIDs(d.Transactions)
	return d, nil
}

// mapV3Transaction adds one item to d: settled ones in the Fetch's window to
// Transactions, pending ones (which the window does not bound) to Pending.
// seen drops an item a later page repeats.
func mapV3Transaction(m *mapper, f provider.Fetch, it v3TransactionJSON, d *provider.Data, seen map[string]bool) {
	ts := m.ts("transaction timestamp", it.Timestamp)
	if ts.IsZero() || it.AmountInMinor == nil {
		m.fail("a transaction has no timestamp or amount_in_minor")
		return
	}
	key := it.Status + "\x00" + it.ID
	if it.ID != "" && seen[key] {
		return
	}
	seen[key] = true
	minor := *it.AmountInMinor
	tx := store.Transaction{
		AccountID:                       f.AccountID,
		NormalisedProviderTransactionID: it.ID,
		Timestamp:                       ts,
		Description:                     it.Description,
		Amount:                          store.AmountFromMinor(minor, currencyDecimals(it.Currency)),
		Currency:                        it.Currency,
		Type:                            "CREDIT",
	}
	if minor < 0 {
		tx.Type = "DEBIT" // amount_in_minor is "negative for debits"
	}
	if enr := jsonObject(it.Enrichment); enr != nil {
		var e v3EnrichmentJSON
		if json.Unmarshal(enr, &e) == nil {
			tx.MerchantName = e.MerchantName
			if e.TransactionCategory != nil {
				tx.Category = e.TransactionCategory.CategoryCode
			}
		}
		tx.Meta, _ = json.Marshal(map[string]json.RawMessage{"enrichment": enr}) // valid JSON in: cannot fail
	}
	switch it.Status {
	case "pending":
		d.Pending = append(d.Pending, tx)
	case "settled":
		if inWindow(ts, f) {
			d.Transactions = append(d.Transactions, tx)
		}
	default:
		m.fail("unknown transaction status %q", truncate(it.Status))
	}
}
