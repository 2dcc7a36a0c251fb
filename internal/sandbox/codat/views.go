package codat

import (
	"net/http"
	"time"
)

// companyJSON is the Company schema. platform is deprecated and absent from
// the 3.0 schema, but Codat still returns it (every example has it) and it
// names the platform of a company created with platformType.
type companyJSON struct {
	ID                           string            `json:"id"`
	Name                         string            `json:"name"`
	Description                  string            `json:"description"`
	Platform                     string            `json:"platform"`
	Redirect                     string            `json:"redirect"`
	LastSync                     string            `json:"lastSync,omitempty"`
	Created                      string            `json:"created"`
	CreatedByUserName            string            `json:"createdByUserName"`
	Products                     []string          `json:"products"`
	Tags                         map[string]string `json:"tags,omitempty"`
	ReferenceSubsidiaryCompanies []struct{}        `json:"referenceSubsidiaryCompanies"`
	DataConnections              []connectionJSON  `json:"dataConnections"`
}

// connectionJSON is the Connection schema, which forbids additional
// properties: only these fields may ever be written.
type connectionJSON struct {
	ID             string `json:"id"`
	IntegrationID  string `json:"integrationId"`
	IntegrationKey string `json:"integrationKey"`
	SourceID       string `json:"sourceId"`
	PlatformName   string `json:"platformName"`
	LinkURL        string `json:"linkUrl"`
	Status         string `json:"status"`
	LastSync       string `json:"lastSync,omitempty"`
	Created        string `json:"created"`
	SourceType     string `json:"sourceType"`

	DataConnectionErrors []dataConnectionError `json:"dataConnectionErrors,omitempty"`
}

// dataConnectionError is the Connection schema's dataConnectionError.
type dataConnectionError struct {
	StatusCode    string `json:"statusCode,omitempty"`
	StatusText    string `json:"statusText,omitempty"`
	ErrorMessage  string `json:"errorMessage,omitempty"`
	ErroredOnUtc  string `json:"erroredOnUtc,omitempty"`
	Status        string `json:"status,omitempty"`
	ResolvedOnUtc string `json:"resolvedOnUtc,omitempty"`
}

func errorView(ce connectionError) dataConnectionError {
	v := dataConnectionError{StatusCode: ce.statusCode, StatusText: ce.statusText, ErrorMessage: ce.message,
		ErroredOnUtc: formatTime(ce.erroredOn), Status: "Active"}
	if !ce.resolvedOn.IsZero() {
		v.Status, v.ResolvedOnUtc = "Resolved", formatTime(ce.resolvedOn)
	}
	return v
}

// createdByUserName is who the emulator says created companies.
const createdByUserName = "Bank Sandbox"

func (e *Emulator) linkURL(r *http.Request, companyID, connectionID string) string {
	return e.baseURL(r) + linkPrefix + "/companies/" + companyID + "/connections/" + connectionID + "/start"
}

// connectionView renders conn. Callers hold e.mu.
func (e *Emulator) connectionView(r *http.Request, c *company, conn *connection, now time.Time) connectionJSON {
	v := connectionJSON{
		ID:             conn.id,
		IntegrationID:  conn.source.IntegrationID,
		IntegrationKey: conn.source.Key,
		SourceID:       conn.source.SourceID,
		PlatformName:   conn.source.Name,
		LinkURL:        e.linkURL(r, c.id, conn.id),
		Status:         conn.effectiveStatus(now, e.consentTTL),
		Created:        formatTime(conn.created),
		SourceType:     "Banking",
	}
	if t := lastSyncOf(c, conn.id, now); !t.IsZero() {
		v.LastSync = formatTime(t)
	}
	for _, ce := range conn.errs {
		v.DataConnectionErrors = append(v.DataConnectionErrors, errorView(ce))
	}
	if conn.status == StatusLinked && v.Status == StatusDeauthorized {
		v.DataConnectionErrors = append(v.DataConnectionErrors, errorView(conn.expiryError(e.consentTTL)))
	}
	return v
}

// companyView renders c. Callers hold e.mu.
func (e *Emulator) companyView(r *http.Request, c *company, now time.Time) companyJSON {
	v := companyJSON{
		ID:                           c.id,
		Name:                         c.name,
		Description:                  c.description,
		Platform:                     c.platform,
		Redirect:                     e.baseURL(r) + linkPrefix + "/company/" + c.id,
		Created:                      formatTime(c.created),
		CreatedByUserName:            createdByUserName,
		Products:                     []string{},
		Tags:                         c.tags,
		ReferenceSubsidiaryCompanies: []struct{}{},
		DataConnections:              make([]connectionJSON, 0, len(c.connections)),
	}
	if c.legacyConn != "" && c.connection(c.legacyConn) != nil {
		v.Redirect = e.linkURL(r, c.id, c.legacyConn)
	}
	if t := lastSyncOf(c, "", now); !t.IsZero() {
		v.LastSync = formatTime(t)
	}
	for _, conn := range c.connections {
		v.DataConnections = append(v.DataConnections, e.connectionView(r, c, conn, now))
	}
	return v
}

// lastSyncOf is when the latest successful pull of the company (or of one of
// its connections when connectionID is set) completed; zero if none has.
func lastSyncOf(c *company, connectionID string, now time.Time) time.Time {
	var last time.Time
	for _, p := range c.pulls {
		if connectionID != "" && p.connectionID != connectionID {
			continue
		}
		if p.isSuccessfulAt(now) && p.completedAt().After(last) {
			last = p.completedAt()
		}
	}
	return last
}

func (c *company) connection(id string) *connection {
	for _, conn := range c.connections {
		if conn.id == id {
			return conn
		}
	}
	return nil
}

func companyRecord(v companyJSON) record {
	return record{"id": v.ID, "name": v.Name, "description": v.Description, "platform": v.Platform,
		"redirect": v.Redirect, "created": parsedTime(v.Created), "lastSync": parsedTime(v.LastSync),
		"createdByUserName": v.CreatedByUserName}
}

func connectionRecord(v connectionJSON) record {
	return record{"id": v.ID, "integrationId": v.IntegrationID, "integrationKey": v.IntegrationKey,
		"sourceId": v.SourceID, "platformName": v.PlatformName, "linkUrl": v.LinkURL, "status": v.Status,
		"created": parsedTime(v.Created), "lastSync": parsedTime(v.LastSync), "sourceType": v.SourceType}
}

// parsedTime turns a rendered DateTime back into a query value; empty (field
// absent) becomes nil.
func parsedTime(s string) any {
	if s == "" {
		return nil
	}
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return nil
	}
	return t
}
