package codat

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// createCompanyRequest is CompanyRequestBody plus platformType, which the 3.0
// document no longer lists but Codat still accepts (its TrueLayer testing
// guide creates a company with it): the company is created with a data
// connection to that platform, and its redirect links straight to it.
type createCompanyRequest struct {
	Name         *string           `json:"name"`
	Description  string            `json:"description"`
	Tags         map[string]string `json:"tags"`
	PlatformType string            `json:"platformType"`
}

// companyNameForbidden matches the characters the name pattern of
// CompanyRequestBody does not allow; Codat strips them rather than refusing.
var companyNameForbidden = regexp.MustCompile(`[^A-Za-z0-9\s\-',&@.?!]`)

func validateTags(tags map[string]string) []string {
	var reasons []string
	if len(tags) > 10 {
		reasons = append(reasons, "tags: at most 10 tags are allowed")
	}
	for k, v := range tags {
		if n := len([]rune(k)); n < 1 || n > 27 {
			reasons = append(reasons, "tags: key "+k+" must be 1 to 27 characters long")
		}
		if len([]rune(v)) > 100 {
			reasons = append(reasons, "tags: value of "+k+" must be at most 100 characters long")
		}
	}
	return reasons
}

// handleCreateCompany serves POST /companies.
func (e *Emulator) handleCreateCompany(w http.ResponseWriter, r *http.Request) error {
	var req createCompanyRequest
	if herr := decodeBody(r, &req); herr != nil {
		return herr
	}
	var reasons []string
	name := ""
	if req.Name != nil {
		name = strings.TrimSpace(companyNameForbidden.ReplaceAllString(*req.Name, ""))
	}
	if name == "" {
		reasons = append(reasons, "name: a company name of at least one allowed character is required")
	}
	reasons = append(reasons, validateTags(req.Tags)...)
	var src Source
	if req.PlatformType != "" {
		s, ok := e.sourceByKey(req.PlatformType)
		switch {
		case !ok:
			return errBadRequest("The specified PlatformKey (" + req.PlatformType + ") is not valid")
		case !s.Enabled:
			return errBadRequest("Integration " + req.PlatformType + " is not enabled")
		}
		src = s
	}
	if len(reasons) > 0 {
		return errBadRequest("Error processing request - not valid.", reasons...)
	}

	now := e.clock.Now()
	c := &company{
		id:          uuid.NewString(),
		name:        name,
		description: req.Description,
		tags:        req.Tags,
		created:     now,
	}
	e.mu.Lock()
	if e.maxCompanies > 0 && len(e.companies) >= e.maxCompanies {
		e.mu.Unlock()
		return errCompanyLimit(e.maxCompanies)
	}
	if req.PlatformType != "" {
		conn := e.newConnection(c, src, now)
		c.platform = src.Name
		c.legacyConn = conn.id
	}
	e.companies[c.id] = c
	e.order = append(e.order, c.id)
	view := e.companyView(r, c, now)
	e.mu.Unlock()

	e.log.Info("codat: company created", "companyId", c.id, "platformType", req.PlatformType)
	writeJSON(w, http.StatusOK, view)
	return nil
}

// handleListCompanies serves GET /companies.
func (e *Emulator) handleListCompanies(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	e.mu.RLock()
	views := make([]companyJSON, 0, len(e.order))
	for _, id := range e.order {
		views = append(views, e.companyView(r, e.companies[id], now))
	}
	e.mu.RUnlock()
	page, herr := paginate(r, serviceClientsAPI, "Company", views, companyRecord)
	if herr != nil {
		return herr
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// handleGetCompany serves GET /companies/{companyId}.
func (e *Emulator) handleGetCompany(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	e.mu.RLock()
	c, herr := e.lookupCompany(r.PathValue("companyId"))
	var view companyJSON
	if herr == nil {
		view = e.companyView(r, c, now)
	}
	e.mu.RUnlock()
	if herr != nil {
		return herr
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// handleDeleteCompany serves DELETE /companies/{companyId}: the company, its
// connections and its pulled data go.
func (e *Emulator) handleDeleteCompany(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("companyId")
	e.mu.Lock()
	_, herr := e.lookupCompany(id)
	if herr == nil {
		delete(e.companies, id)
		for i, cid := range e.order {
			if cid == id {
				e.order = append(e.order[:i:i], e.order[i+1:]...)
				break
			}
		}
	}
	e.mu.Unlock()
	if herr != nil {
		return herr
	}
	e.log.Info("codat: company deleted", "companyId", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// lookupCompany finds a company. Callers hold e.mu.
func (e *Emulator) lookupCompany(id string) (*company, *httpError) {
	c, ok := e.companies[id]
	if !ok {
		return nil, errCompanyNotFound(id)
	}
	return c, nil
}

// lookupConnection finds a company's connection. Callers hold e.mu.
func (e *Emulator) lookupConnection(companyID, connectionID string) (*company, *connection, *httpError) {
	c, herr := e.lookupCompany(companyID)
	if herr != nil {
		return nil, nil, herr
	}
	conn := c.connection(connectionID)
	if conn == nil {
		return nil, nil, errConnectionNotFound(connectionID)
	}
	return c, conn, nil
}
