package codat

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// Banking data types (providers-api.md §7) of the resources Codat offers.
const (
	dataTypeAccounts     = "banking-accounts"
	dataTypeBalances     = "banking-accountBalances"
	dataTypeTransactions = "banking-transactions"
)

var dataTypes = map[provider.Resource]string{
	provider.ResourceAccounts:     dataTypeAccounts,
	provider.ResourceBalance:      dataTypeBalances,
	provider.ResourceTransactions: dataTypeTransactions,
}

// Pull operation statuses (PullOperation.status) while Codat is still working.
var pullInProgress = map[string]bool{
	"Initial": true, "Queued": true, "Fetching": true, "MapQueued": true, "Mapping": true,
	"ProcessingQueued": true, "Processing": true, "ValidationQueued": true, "Validating": true,
}

const pullComplete = "Complete"

// Fetch queues a pull of the resource's data type on the data connection
// (POST /companies/{companyId}/data/queue/{dataType}?connectionId=) and
// returns it as a Task: Codat always prepares data asynchronously. When a
// pull of that data type is still running, Fetch returns that pull instead,
// so several fetches of one run share it. A pull Codat fails at once (e.g.
// AuthError for a deauthorized connection) is the classified error.
//
// Accounts, balance and transactions are offered; balance and transactions
// cover every account when f.AccountID is empty.
func (c *Client) Fetch(ctx context.Context, conn provider.Connection, s provider.Session, f provider.Fetch) (provider.FetchResult, error) {
	op := "fetch " + string(f.Resource)
	dataType, refs, err := dataRequest(op, conn, s, f)
	if err != nil {
		return provider.FetchResult{}, err
	}
	if f.AllData {
		if task, ok, err := c.refreshAll(ctx, conn, op, refs, f, dataType); err != nil || ok {
			return provider.FetchResult{Task: task}, err
		}
		// Codat's data/all did not queue this data type (its "fetch on first
		// link" setting is off): queue it on its own.
	}
	var p pullJSON
	err = c.sendJSON(ctx, conn, call{op: op, kind: opConnection, method: http.MethodPost,
		endpoint: "/companies/{companyId}/data/queue/" + dataType,
		path:     companyPath(refs.CodatCompanyID) + "/data/queue/" + dataType,
		query:    url.Values{"connectionId": {refs.CodatConnectionID}},
		// Queueing twice is harmless: the second answer names the running pull.
		idempotent: true}, &p)
	if pe, ok := provider.AsError(err); ok && pe.Status == http.StatusBadRequest {
		if m := inProgressPattern.FindStringSubmatch(pe.Description); m != nil {
			p, err = pullJSON{ID: m[1]}, nil
		}
	}
	if err != nil {
		return provider.FetchResult{}, err
	}
	if p.ID == "" {
		return provider.FetchResult{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "malformed_response",
			Description: "the queued pull operation has no id"}
	}
	if p.Status != "" && p.Status != pullComplete && !pullInProgress[p.Status] {
		return provider.FetchResult{}, c.pullError(ctx, conn, op, refs, p)
	}
	return provider.FetchResult{Task: &provider.Task{ID: p.ID, ResultsURI: c.pullURL(refs.CodatCompanyID, p.ID)}}, nil
}

// Collect tracks the pull operation of t through GET /companies/{companyId}/dataStatus
// (the data type's latestSyncId and currentStatus; the pull's own record, GET
// .../data/history/{datasetId}, only when a newer pull superseded it or it failed)
// and, once it is Complete, reads the data type for the data connection,
// following every page: (nil, nil) while Codat is working; the classified
// error when the pull failed. Transactions are limited to [f.From, f.To)
// and balances to those observed in it; the query parameter narrows what
// Codat sends and the same filter is applied here.
func (c *Client) Collect(ctx context.Context, conn provider.Connection, s provider.Session, t provider.Task, f provider.Fetch) (*provider.Data, error) {
	op := "collect " + string(f.Resource)
	dataType, refs, err := dataRequest(op, conn, s, f)
	if err != nil {
		return nil, err
	}
	if t.ID == "" {
		return nil, invalidRequest(op, "the task has no pull operation id")
	}
	p, tracked, err := c.trackPull(ctx, conn, op, refs, dataType, t.ID)
	if err != nil || !tracked {
		if err == nil {
			p, err = c.getPull(ctx, conn, op, refs, t.ID)
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case p.ConnectionID != "" && p.ConnectionID != refs.CodatConnectionID:
		return nil, invalidRequest(op, fmt.Sprintf("pull operation %s belongs to another data connection", p.ID))
	case p.DataType != "" && p.DataType != dataType:
		return nil, invalidRequest(op, fmt.Sprintf("pull operation %s pulled %s, not %s", p.ID, p.DataType, dataType))
	case pullInProgress[p.Status]:
		return nil, nil
	case p.Status != pullComplete:
		return nil, c.pullError(ctx, conn, op, refs, p)
	}
	pulled, err := parseTime(p.Completed)
	if err != nil {
		pulled = time.Time{} // only a fallback for balance times; modifiedDate comes first
	}
	r := reader{c: c, conn: conn, op: op, refs: refs, f: f}
	switch dataType {
	case dataTypeAccounts:
		return r.accounts(ctx)
	case dataTypeBalances:
		return r.balances(ctx, pulled)
	default:
		return r.transactions(ctx)
	}
}

// dataRequest checks a Fetch or Collect: a resource Codat offers and a
// linked data connection to read from.
func dataRequest(op string, conn provider.Connection, s provider.Session, f provider.Fetch) (string, provider.Refs, error) {
	dataType, ok := dataTypes[f.Resource]
	if !ok {
		return "", provider.Refs{}, invalidRequest(op, fmt.Sprintf("Codat's Banking API does not offer %q (only accounts, balance and transactions)", f.Resource))
	}
	if f.Card {
		return "", provider.Refs{}, invalidRequest(op, "Codat has no separate card resources; card accounts are accounts")
	}
	refs := sessionRefs(conn, s)
	if refs.CodatCompanyID == "" || refs.CodatConnectionID == "" {
		return "", provider.Refs{}, invalidRequest(op, "the connection has no linked Codat data connection yet")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return "", provider.Refs{}, invalidRequest(op, fmt.Sprintf("empty window: from %s is not before to %s",
			f.From.Format(time.RFC3339), f.To.Format(time.RFC3339)))
	}
	return dataType, refs, nil
}

// dataStatusJSON is DataStatus (Codat-Platform.json).
type dataStatusJSON struct {
	DataType               string `json:"dataType"`
	CurrentStatus          string `json:"currentStatus"`
	LastSuccessfulSync     string `json:"lastSuccessfulSync"`
	LatestSyncID           string `json:"latestSyncId"`
	LatestSuccessfulSyncID string `json:"latestSuccessfulSyncId"`
}

// dataStatus reads GET /companies/{companyId}/dataStatus: per data type, the
// company's latest pull and its state.
func (c *Client) dataStatus(ctx context.Context, conn provider.Connection, op string, refs provider.Refs) (map[string]dataStatusJSON, error) {
	var out map[string]dataStatusJSON
	err := c.sendJSON(ctx, conn, call{op: op, kind: opConnection, method: http.MethodGet,
		endpoint: "/companies/{companyId}/dataStatus", path: companyPath(refs.CodatCompanyID) + "/dataStatus", idempotent: true}, &out)
	return out, err
}

// refreshAll serves a Fetch of a run that wants every data type: the run's first
// fetch (accounts) asks Codat to refresh them all (POST /companies/{companyId}/data/all,
// which answers 204 without ids); every fetch then takes its data type's latest pull
// from dataStatus. ok is false when Codat has no pull of the data type.
func (c *Client) refreshAll(ctx context.Context, conn provider.Connection, op string, refs provider.Refs, f provider.Fetch, dataType string) (*provider.Task, bool, error) {
	if f.Resource == provider.ResourceAccounts {
		// Codat skips data types whose pull is still running, so repeating it is harmless.
		if _, err := c.send(ctx, conn, call{op: op, kind: opConnection, method: http.MethodPost,
			endpoint: "/companies/{companyId}/data/all", path: companyPath(refs.CodatCompanyID) + "/data/all", idempotent: true}); err != nil {
			return nil, false, err
		}
	}
	status, err := c.dataStatus(ctx, conn, op, refs)
	if err != nil {
		return nil, false, err
	}
	st, ok := status[dataType]
	if !ok || st.LatestSyncID == "" {
		return nil, false, nil
	}
	return &provider.Task{ID: st.LatestSyncID, ResultsURI: c.pullURL(refs.CodatCompanyID, st.LatestSyncID)}, true, nil
}

// trackPull reads the state of pull id from dataStatus. tracked is false when
// dataStatus does not describe it (a newer pull of the data type superseded it)
// or it ended without data, for which the pull's own record says more.
func (c *Client) trackPull(ctx context.Context, conn provider.Connection, op string, refs provider.Refs, dataType, id string) (pullJSON, bool, error) {
	status, err := c.dataStatus(ctx, conn, op, refs)
	if err != nil {
		return pullJSON{}, false, err
	}
	st, ok := status[dataType]
	if !ok || st.LatestSyncID != id || !(pullInProgress[st.CurrentStatus] || st.CurrentStatus == pullComplete) {
		return pullJSON{}, false, nil
	}
	p := pullJSON{ID: id, DataType: dataType, Status: st.CurrentStatus}
	if st.CurrentStatus == pullComplete && st.LatestSuccessfulSyncID == id {
		p.Completed = st.LastSuccessfulSync
	}
	return p, true, nil
}

func (c *Client) pullURL(companyID, pullID string) string {
	return c.opts.BaseURL + companyPath(companyID) + "/data/history/" + url.PathEscape(pullID)
}

// getPull reads a pull operation. A pull Codat does not know is an unknown
// task, unless the data connection itself is gone (Codat removes its pulls
// with it), which ends the consent.
func (c *Client) getPull(ctx context.Context, conn provider.Connection, op string, refs provider.Refs, id string) (pullJSON, error) {
	var p pullJSON
	err := c.sendJSON(ctx, conn, call{op: op, kind: opConnection, method: http.MethodGet,
		endpoint: "/companies/{companyId}/data/history/{datasetId}",
		path:     companyPath(refs.CodatCompanyID) + "/data/history/" + url.PathEscape(id), idempotent: true}, &p)
	if !isNotFound(err) {
		return p, err
	}
	if _, cerr := c.getConnection(ctx, conn, op, refs.CodatCompanyID, refs.CodatConnectionID); cerr != nil {
		return pullJSON{}, cerr
	}
	pe, _ := provider.AsError(err)
	return pullJSON{}, &provider.Error{Class: provider.ClassInvalidRequest, Op: pe.Op, Status: pe.Status,
		Description: "unknown pull operation " + id}
}

// pullError classifies a pull that ended without data.
func (c *Client) pullError(ctx context.Context, conn provider.Connection, op string, refs provider.Refs, p pullJSON) error {
	pe := &provider.Error{Op: op, Code: p.Status, Description: fmt.Sprintf("Codat pull %s of %s ended %s", p.ID, p.DataType, p.Status)}
	if p.ErrorMessage != "" {
		pe.Description += ": " + truncate(p.ErrorMessage)
	}
	switch p.Status {
	case "AuthError":
		// Codat could not use the bank consent. The connection says why.
		cn, err := c.getConnection(ctx, conn, op, refs.CodatCompanyID, refs.CodatConnectionID)
		if err != nil {
			return err
		}
		if cn.Status == statusDeauthorized || cn.Status == statusUnlinked {
			ended := consentEnded(op, cn)
			ended.Description = pe.Description + "; " + ended.Description
			return ended
		}
		pe.Class, pe.Reason = provider.ClassNeedsHuman, provider.ReasonReauthorizationRequired
	case "PermissionsError":
		pe.Class, pe.Reason = provider.ClassNeedsHuman, provider.ReasonAccessDenied
	case "RateLimitError":
		pe.Class = provider.ClassRateLimited
	case "NotSupported":
		pe.Class = provider.ClassInvalidRequest
	default:
		// FetchError, MapError, InternalError, ProcessingError,
		// ValidationError, Cancelled, PrerequisiteNotMet and statuses this
		// client does not know: a new pull may succeed.
		pe.Class = provider.ClassRetryLater
	}
	return pe
}

// reader reads one data type of a data connection after a completed pull.
type reader struct {
	c    *Client
	conn provider.Connection
	op   string
	refs provider.Refs
	f    provider.Fetch
}

func (r reader) list(dataType, query string) list {
	return list{op: r.op, kind: opConnection,
		endpoint: "/companies/{companyId}/connections/{connectionId}/data/" + dataType,
		path:     connectionPath(r.refs.CodatCompanyID, r.refs.CodatConnectionID) + "/data/" + dataType,
		query:    query}
}

func (r reader) malformed(err error) error {
	return &provider.Error{Class: provider.ClassRetryLater, Op: r.op, Code: "malformed_response", Description: truncate(err.Error())}
}

// queryAnd joins Codat query conditions.
func queryAnd(conds ...string) string {
	var out []string
	for _, c := range conds {
		if c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, "&&")
}

func (r reader) accountCond(field string) string {
	if r.f.AccountID == "" {
		return ""
	}
	return field + "=" + r.f.AccountID
}

func (r reader) accounts(ctx context.Context) (*provider.Data, error) {
	now := r.c.opts.HTTP.Now().UTC()
	seen := map[string]bool{}
	data := &provider.Data{}
	err := listAll(ctx, r.c, r.conn, r.list(dataTypeAccounts, r.accountCond("id")), func(a accountJSON) error {
		if seen[a.ID] {
			return nil // paging over a snapshot that changed underneath
		}
		seen[a.ID] = true
		acc, err := mapAccount(a, now)
		if err != nil {
			return r.malformed(err)
		}
		data.Accounts = append(data.Accounts, acc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

// accountInfos reads the accounts' currencies and kinds for balances, which
// carry neither. Without an accounts pull yet (Codat's 409) balances go
// without them.
func (r reader) accountInfos(ctx context.Context) (map[string]accountInfo, error) {
	out := map[string]accountInfo{}
	err := listAll(ctx, r.c, r.conn, r.list(dataTypeAccounts, r.accountCond("id")), func(a accountJSON) error {
		out[a.ID] = accountInfo{currency: a.Currency, card: isCardAccount(a)}
		return nil
	})
	if pe, ok := provider.AsError(err); ok && pe.Status == http.StatusConflict {
		return out, nil
	}
	return out, err
}

func (r reader) balances(ctx context.Context, pulled time.Time) (*provider.Data, error) {
	infos, err := r.accountInfos(ctx)
	if err != nil {
		return nil, err
	}
	var conds []string
	conds = append(conds, r.accountCond("accountId"))
	// A balance dated the day before From may have been observed (at the
	// day's end) inside the window.
	if !r.f.From.IsZero() {
		conds = append(conds, "date>="+queryTime(r.f.From.Add(-24*time.Hour), false))
	}
	if !r.f.To.IsZero() {
		conds = append(conds, "date<"+queryTime(r.f.To, true))
	}
	type key struct {
		account string
		at      time.Time
	}
	seen := map[key]bool{}
	data := &provider.Data{}
	err = listAll(ctx, r.c, r.conn, r.list(dataTypeBalances, queryAnd(conds...)), func(b accountBalanceJSON) error {
		if r.f.AccountID != "" && b.AccountID != r.f.AccountID {
			return nil
		}
		bal, err := mapBalance(b, infos[b.AccountID], pulled)
		if err != nil {
			return r.malformed(err)
		}
		k := key{bal.AccountID, bal.ObservedAt}
		if seen[k] || !inWindow(bal.ObservedAt, r.f.From, r.f.To) {
			return nil
		}
		seen[k] = true
		data.Balances = append(data.Balances, bal)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}

func (r reader) transactions(ctx context.Context) (*provider.Data, error) {
	conds := []string{r.accountCond("accountId")}
	if !r.f.From.IsZero() {
		conds = append(conds, "postedDate>="+queryTime(r.f.From, false))
	}
	if !r.f.To.IsZero() {
		conds = append(conds, "postedDate<"+queryTime(r.f.To, true))
	}
	seen := map[string]bool{}
	data := &provider.Data{}
	err := listAll(ctx, r.c, r.conn, r.list(dataTypeTransactions, queryAnd(conds...)), func(t transactionJSON) error {
		if r.f.AccountID != "" && t.AccountID != r.f.AccountID {
			return nil
		}
		tx, err := mapTransaction(t)
		if err != nil {
			return r.malformed(err)
		}
		if seen[tx.NormalisedProviderTransactionID] || !inWindow(tx.Timestamp, r.f.From, r.f.To) {
			return nil
		}
		seen[tx.NormalisedProviderTransactionID] = true
		data.Transactions = append(data.Transactions, tx)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return data, nil
}
