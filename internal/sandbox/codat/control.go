package codat

import (
	"errors"
	"fmt"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// In-process control of the emulator, for the sandbox's admin API and tests.

var (
	// ErrNotFound reports an unknown company or connection.
	ErrNotFound = errors.New("not found")
	// ErrWrongStatus reports a connection whose status does not allow the
	// requested change.
	ErrWrongStatus = errors.New("connection status does not allow this")
)

// CompanyInfo is a snapshot of a company's state.
type CompanyInfo struct {
	ID          string
	Name        string
	Description string
	Created     time.Time
	Connections []ConnectionInfo
}

// ConnectionInfo is a snapshot of a data connection's state.
type ConnectionInfo struct {
	ID           string
	CompanyID    string
	PlatformKey  string
	PlatformName string
	// Status is the status clients see now (consent expiry applied).
	Status   string
	LinkURL  string // relative to the public base URL when none is configured
	Created  time.Time
	LinkedAt time.Time // zero until the link journey first completes
	// DataUser is the bankdata user whose data the connection serves, so a
	// test can regenerate the expected data with bankdata.Generate.
	DataUser string
}

// Companies lists all companies in creation order.
func (e *Emulator) Companies() []CompanyInfo {
	now := e.clock.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]CompanyInfo, 0, len(e.order))
	for _, id := range e.order {
		out = append(out, e.companyInfo(e.companies[id], now))
	}
	return out
}

// Company returns one company's state.
func (e *Emulator) Company(id string) (CompanyInfo, error) {
	now := e.clock.Now()
	e.mu.RLock()
	defer e.mu.RUnlock()
	c, ok := e.companies[id]
	if !ok {
		return CompanyInfo{}, fmt.Errorf("company %s: %w", id, ErrNotFound)
	}
	return e.companyInfo(c, now), nil
}

func (e *Emulator) companyInfo(c *company, now time.Time) CompanyInfo {
	info := CompanyInfo{ID: c.id, Name: c.name, Description: c.description, Created: c.created}
	for _, conn := range c.connections {
		info.Connections = append(info.Connections, ConnectionInfo{
			ID: conn.id, CompanyID: c.id, PlatformKey: conn.source.Key, PlatformName: conn.source.Name,
			Status: conn.effectiveStatus(now, e.consentTTL), LinkURL: e.linkURL(nil, c.id, conn.id),
			Created: conn.created, LinkedAt: conn.linkedAt, DataUser: conn.dataUser,
		})
	}
	return info
}

// CompleteLink completes the link journey of a connection as if the user had
// authorised it in the browser: it becomes Linked (from PendingAuth, or again
// from Unlinked or Deauthorized).
func (e *Emulator) CompleteLink(companyID, connectionID string) error {
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	conn, err := e.controlLookup(companyID, connectionID)
	if err != nil {
		return err
	}
	e.linkLocked(conn, now)
	e.log.Info("codat: link completed by control call", "companyId", companyID, "connectionId", connectionID)
	return nil
}

// Deauthorize revokes a Linked connection at the bank, as when the user
// withdraws consent: the connection becomes Deauthorized, new pulls end in
// AuthError, and data already pulled stays readable.
func (e *Emulator) Deauthorize(companyID, connectionID string) error {
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	conn, err := e.controlLookup(companyID, connectionID)
	if err != nil {
		return err
	}
	if st := conn.effectiveStatus(now, e.consentTTL); st != StatusLinked {
		return fmt.Errorf("deauthorize connection %s (status %s): %w", connectionID, st, ErrWrongStatus)
	}
	conn.status = StatusDeauthorized
	conn.errs = append(conn.errs, connectionError{statusCode: "401", statusText: "Unauthorized", erroredOn: now,
		message: "Access was revoked at the bank; the company must authorize the connection again"})
	e.log.Info("codat: connection deauthorized by control call", "companyId", companyID, "connectionId", connectionID)
	return nil
}

// Dataset returns the bankdata dataset a connection serves.
func (e *Emulator) Dataset(companyID, connectionID string) (*bankdata.Dataset, error) {
	e.mu.RLock()
	conn, err := e.controlLookup(companyID, connectionID)
	user := ""
	if err == nil {
		user = conn.dataUser
	}
	e.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	ds, err := e.dataset(user)
	if err != nil {
		return nil, fmt.Errorf("dataset of connection %s: %w", connectionID, err)
	}
	return ds, nil
}

// controlLookup finds a connection for a control call. Callers hold e.mu.
func (e *Emulator) controlLookup(companyID, connectionID string) (*connection, error) {
	c, ok := e.companies[companyID]
	if !ok {
		return nil, fmt.Errorf("company %s: %w", companyID, ErrNotFound)
	}
	conn := c.connection(connectionID)
	if conn == nil {
		return nil, fmt.Errorf("connection %s of company %s: %w", connectionID, companyID, ErrNotFound)
	}
	return conn, nil
}
