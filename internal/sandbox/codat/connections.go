package codat

import (
	"net/http"
	"time"

	"github.com/google/uuid"
)

// newConnection adds a PendingAuth connection to source src to c. Callers hold
// e.mu.
func (e *Emulator) newConnection(c *company, src Source, now time.Time) *connection {
	id := uuid.NewString()
	conn := &connection{
		id:        id,
		companyID: c.id,
		source:    src,
		status:    StatusPendingAuth,
		created:   now,
		// Every connection reads its own bank user's data, so two companies
		// (or two connections of one company) never share accounts.
		dataUser: "codat-" + id,
	}
	c.connections = append(c.connections, conn)
	return conn
}

type createConnectionRequest struct {
	PlatformKey string `json:"platformKey"`
}

// handleCreateConnection serves POST /companies/{companyId}/connections.
// The operation documents no 400, so an unknown or disabled platformKey is a
// 404, like GET /integrations/{platformKey}.
func (e *Emulator) handleCreateConnection(w http.ResponseWriter, r *http.Request) error {
	var req createConnectionRequest
	if herr := decodeBody(r, &req); herr != nil {
		return herr
	}
	src, ok := e.sourceByKey(req.PlatformKey)
	if !ok {
		return errNotFound("No integration was found with key " + req.PlatformKey)
	}
	if !src.Enabled {
		return errNotFound("Integration " + req.PlatformKey + " is not enabled")
	}
	now := e.clock.Now()
	e.mu.Lock()
	c, herr := e.lookupCompany(r.PathValue("companyId"))
	var view connectionJSON
	if herr == nil {
		conn := e.newConnection(c, src, now)
		view = e.connectionView(r, c, conn, now)
	}
	e.mu.Unlock()
	if herr != nil {
		return herr
	}
	e.log.Info("codat: connection created", "companyId", c.id, "connectionId", view.ID, "platformKey", src.Key)
	writeJSON(w, http.StatusOK, view)
	return nil
}

// handleListConnections serves GET /companies/{companyId}/connections.
func (e *Emulator) handleListConnections(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	e.mu.RLock()
	c, herr := e.lookupCompany(r.PathValue("companyId"))
	var views []connectionJSON
	if herr == nil {
		views = make([]connectionJSON, 0, len(c.connections))
		for _, conn := range c.connections {
			views = append(views, e.connectionView(r, c, conn, now))
		}
	}
	e.mu.RUnlock()
	if herr != nil {
		return herr
	}
	page, herr := paginate(r, servicePublicAPI, "Connection", views, connectionRecord)
	if herr != nil {
		return herr
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// handleGetConnection serves GET /companies/{companyId}/connections/{connectionId}.
func (e *Emulator) handleGetConnection(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	e.mu.RLock()
	c, conn, herr := e.lookupConnection(r.PathValue("companyId"), r.PathValue("connectionId"))
	var view connectionJSON
	if herr == nil {
		view = e.connectionView(r, c, conn, now)
	}
	e.mu.RUnlock()
	if herr != nil {
		return herr
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// handleDeleteConnection serves DELETE on a connection: the connection is
// revoked and removed with its pulls; the answer is 200 without a body, as
// documented.
func (e *Emulator) handleDeleteConnection(w http.ResponseWriter, r *http.Request) error {
	companyID, connectionID := r.PathValue("companyId"), r.PathValue("connectionId")
	e.mu.Lock()
	c, _, herr := e.lookupConnection(companyID, connectionID)
	if herr == nil {
		removeConnection(c, connectionID)
	}
	e.mu.Unlock()
	if herr != nil {
		return herr
	}
	e.log.Info("codat: connection deleted", "companyId", companyID, "connectionId", connectionID)
	w.WriteHeader(http.StatusOK)
	return nil
}

func removeConnection(c *company, connectionID string) {
	conns := c.connections[:0:0]
	for _, conn := range c.connections {
		if conn.id != connectionID {
			conns = append(conns, conn)
		}
	}
	c.connections = conns
	pulls := c.pulls[:0:0]
	for _, p := range c.pulls {
		if p.connectionID != connectionID {
			pulls = append(pulls, p)
		}
	}
	c.pulls = pulls
	if c.legacyConn == connectionID {
		c.legacyConn = ""
	}
}

type updateConnectionRequest struct {
	Status *string `json:"status"`
}

// handleUnlinkConnection serves PATCH on a connection. The only change Codat
// allows is {"status":"Unlinked"}, and only from Linked; unlinking an already
// Unlinked connection is answered as a success so that retries are safe.
// Previously pulled data stays readable.
func (e *Emulator) handleUnlinkConnection(w http.ResponseWriter, r *http.Request) error {
	var req updateConnectionRequest
	if herr := decodeBody(r, &req); herr != nil {
		return herr
	}
	if req.Status == nil || *req.Status != StatusUnlinked {
		return errBadRequest("Error processing request - not valid.", `status: the only supported value is "Unlinked"`)
	}
	now := e.clock.Now()
	e.mu.Lock()
	c, conn, herr := e.lookupConnection(r.PathValue("companyId"), r.PathValue("connectionId"))
	var view connectionJSON
	if herr == nil {
		switch st := conn.effectiveStatus(now, e.consentTTL); st {
		case StatusLinked:
			conn.status = StatusUnlinked
		case StatusUnlinked:
		default:
			herr = errBadRequest("Only a Linked connection can be unlinked; this connection is " + st)
		}
	}
	if herr == nil {
		view = e.connectionView(r, c, conn, now)
	}
	e.mu.Unlock()
	if herr != nil {
		return herr
	}
	e.log.Info("codat: connection unlinked", "companyId", c.id, "connectionId", conn.id)
	writeJSON(w, http.StatusOK, view)
	return nil
}
