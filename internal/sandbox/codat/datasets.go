package codat

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
)

// allDataTypes is the DataType enum of the Platform document. Any of them may
// be queued; a banking source supports only the banking ones, the others end
// NotSupported.
var allDataTypes = []string{
	"accountTransactions", "balanceSheet", "bankAccounts", "bankTransactions", "billCreditNotes",
	"billPayments", "bills", "cashFlowStatement", "chartOfAccounts", "company", "creditNotes",
	"customers", "directCosts", "directIncomes", "invoices", "itemReceipts", "items",
	"journalEntries", "journals", "paymentMethods", "payments", "profitAndLoss", "purchaseOrders",
	"salesOrders", "suppliers", "taxRates", "trackingCategories", "transfers",
	"banking-accountBalances", "banking-accounts", "banking-transactionCategories", "banking-transactions",
	"commerce-companyInfo", "commerce-customers", "commerce-disputes", "commerce-locations",
	"commerce-orders", "commerce-paymentMethods", "commerce-payments", "commerce-productCategories",
	"commerce-products", "commerce-taxComponents", "commerce-transactions",
}

// pullJSON is the PullOperation schema.
type pullJSON struct {
	ID           string `json:"id"`
	CompanyID    string `json:"companyId"`
	ConnectionID string `json:"connectionId"`
	DataType     string `json:"dataType"`
	Status       string `json:"status"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Requested    string `json:"requested"`
	Completed    string `json:"completed,omitempty"`
	Progress     int    `json:"progress"`
	IsCompleted  bool   `json:"isCompleted"`
	IsErrored    bool   `json:"isErrored"`
}

func pullView(p *pull, now time.Time) pullJSON {
	status, progress := p.statusAt(now)
	v := pullJSON{
		ID: p.id, CompanyID: p.companyID, ConnectionID: p.connectionID, DataType: p.dataType,
		Status: status, ErrorMessage: p.errorMsg, Requested: formatTime(p.requested), Progress: progress,
		IsCompleted: status == pullComplete,
		IsErrored:   status == pullAuthError,
	}
	switch {
	case status == pullComplete:
		v.Completed = formatTime(p.completedAt())
	case p.failure != "":
		v.Completed = formatTime(p.requested)
	}
	return v
}

// pullRecord leaves out isCompleted: Codat documents that it is not queryable
// (the Malformed-Query example "Could not resolve property isCompleted on
// Dataset").
func pullRecord(v pullJSON) record {
	return record{"id": v.ID, "companyId": v.CompanyID, "connectionId": v.ConnectionID,
		"dataType": v.DataType, "status": v.Status, "requested": parsedTime(v.Requested),
		"completed": parsedTime(v.Completed), "progress": float64(v.Progress), "isErrored": v.IsErrored}
}

// queuePull creates a pull of dataType on conn. Callers hold e.mu and have
// checked that none is in progress.
func (e *Emulator) queuePull(c *company, conn *connection, dataType string, now time.Time) *pull {
	p := &pull{
		id: uuid.NewString(), companyID: c.id, connectionID: conn.id, dataType: dataType,
		requested: now, duration: e.pullDuration,
	}
	switch st := conn.effectiveStatus(now, e.consentTTL); {
	case !isBankingDataType(dataType):
		p.failure = pullNotSupported
		p.errorMsg = fmt.Sprintf("The data type %s is not supported by %s", dataType, conn.source.Name)
	case st != StatusLinked:
		p.failure = pullAuthError
		p.errorMsg = fmt.Sprintf("Data connection %s is %s; the company must authorize it again", conn.id, st)
	}
	c.pulls = append(c.pulls, p)
	return p
}

// inProgressPull returns the pull of dataType on conn still running at now.
func inProgressPull(c *company, connectionID, dataType string, now time.Time) *pull {
	for _, p := range c.pulls {
		if p.connectionID == connectionID && p.dataType == dataType && p.inProgressAt(now) {
			return p
		}
	}
	return nil
}

// handleQueueDataType serves POST /companies/{companyId}/data/queue/{dataType}.
// Without connectionId it queues a pull on every connection and answers with
// the first; a pull still in progress is refused with Codat's
// DatasetAlreadyInProgress message.
func (e *Emulator) handleQueueDataType(w http.ResponseWriter, r *http.Request) error {
	dataType := r.PathValue("dataType")
	if !slices.Contains(allDataTypes, dataType) {
		return errBadRequest("Error processing request - not valid.", "dataType: "+dataType+" is not a known data type")
	}
	companyID, connectionID := r.PathValue("companyId"), r.URL.Query().Get("connectionId")
	now := e.clock.Now()
	e.mu.Lock()
	view, herr := e.queueLocked(companyID, connectionID, dataType, now)
	e.mu.Unlock()
	if herr != nil {
		return herr
	}
	e.log.Info("codat: pull queued", "companyId", companyID, "connectionId", view.ConnectionID,
		"dataType", dataType, "datasetId", view.ID, "status", view.Status)
	writeJSON(w, http.StatusOK, view)
	return nil
}

func (e *Emulator) queueLocked(companyID, connectionID, dataType string, now time.Time) (pullJSON, *httpError) {
	c, herr := e.lookupCompany(companyID)
	if herr != nil {
		return pullJSON{}, herr
	}
	targets := c.connections
	if connectionID != "" {
		conn := c.connection(connectionID)
		if conn == nil {
			return pullJSON{}, errConnectionNotFound(connectionID)
		}
		targets = []*connection{conn}
	}
	if len(targets) == 0 {
		return pullJSON{}, errBadRequest(fmt.Sprintf("Company %s has no data connections to queue %s for", companyID, dataType))
	}
	for _, conn := range targets {
		if p := inProgressPull(c, conn.id, dataType, now); p != nil {
			return pullJSON{}, errBadRequest(fmt.Sprintf(
				"Cannot queue %s sync for %s as previous sync %s is still in progress", dataType, companyID, p.id))
		}
	}
	var first *pull
	for _, conn := range targets {
		p := e.queuePull(c, conn, dataType, now)
		if first == nil {
			first = p
		}
	}
	return pullView(first, now), nil
}

// handleQueueAll serves POST /companies/{companyId}/data/all: every banking
// data type on every connection, skipping pulls already running.
func (e *Emulator) handleQueueAll(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	e.mu.Lock()
	c, herr := e.lookupCompany(r.PathValue("companyId"))
	if herr == nil {
		for _, conn := range c.connections {
			e.queueIdle(c, conn, bankingDataTypes, now)
		}
	}
	e.mu.Unlock()
	if herr != nil {
		return herr
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// queueIdle queues each data type not already being pulled on conn. Callers
// hold e.mu.
func (e *Emulator) queueIdle(c *company, conn *connection, dataTypes []string, now time.Time) {
	for _, dt := range dataTypes {
		if inProgressPull(c, conn.id, dt, now) == nil {
			e.queuePull(c, conn, dt, now)
		}
	}
}

// dataStatusJSON is the DataStatus schema.
type dataStatusJSON struct {
	DataType               string `json:"dataType"`
	LastSuccessfulSync     string `json:"lastSuccessfulSync,omitempty"`
	CurrentStatus          string `json:"currentStatus"`
	LatestSyncID           string `json:"latestSyncId,omitempty"`
	LatestSuccessfulSyncID string `json:"latestSuccessfulSyncId,omitempty"`
}

// handleDataStatus serves GET /companies/{companyId}/dataStatus: one entry per
// data type ever queued, describing the company's latest pull of it and its
// latest successful one (across connections).
func (e *Emulator) handleDataStatus(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	out := map[string]dataStatusJSON{}
	e.mu.RLock()
	c, herr := e.lookupCompany(r.PathValue("companyId"))
	if herr == nil {
		for _, p := range c.pulls { // request order: later pulls overwrite
			st := out[p.dataType]
			st.DataType = p.dataType
			st.CurrentStatus, _ = p.statusAt(now)
			st.LatestSyncID = p.id
			if p.isSuccessfulAt(now) {
				st.LastSuccessfulSync = formatTime(p.completedAt())
				st.LatestSuccessfulSyncID = p.id
			}
			out[p.dataType] = st
		}
	}
	e.mu.RUnlock()
	if herr != nil {
		return herr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleListPulls serves GET /companies/{companyId}/data/history.
func (e *Emulator) handleListPulls(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	e.mu.RLock()
	c, herr := e.lookupCompany(r.PathValue("companyId"))
	var views []pullJSON
	if herr == nil {
		views = make([]pullJSON, 0, len(c.pulls))
		for _, p := range c.pulls {
			views = append(views, pullView(p, now))
		}
	}
	e.mu.RUnlock()
	if herr != nil {
		return herr
	}
	page, herr := paginate(r, servicePullAPI, "Dataset", views, pullRecord)
	if herr != nil {
		return herr
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// handleGetPull serves GET /companies/{companyId}/data/history/{datasetId}.
func (e *Emulator) handleGetPull(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	id := r.PathValue("datasetId")
	e.mu.RLock()
	c, herr := e.lookupCompany(r.PathValue("companyId"))
	var view *pullJSON
	if herr == nil {
		for _, p := range c.pulls {
			if p.id == id {
				v := pullView(p, now)
				view = &v
				break
			}
		}
	}
	e.mu.RUnlock()
	if herr != nil {
		return herr
	}
	if view == nil {
		return &httpError{status: http.StatusNotFound, service: servicePullAPI, message: "Dataset " + id + " not found"}
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}
