package codat

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The link journey: a connection's linkUrl (…/link/companies/{c}/connections/{x}/start)
// shows a consent page; "Authorise" posts to …/authorize, which makes the
// connection Linked and redirects (303) to the configured redirect URL with
// statusCode=200; "Cancel" redirects with statusCode=403 and
// errorMessage=User cancelled and leaves the connection as it was. A company's
// redirect (…/link/company/{c}) lets the user pick a bank first, which creates
// the connection. Following the link of an Unlinked or Deauthorized
// connection authorises it again.

// emulatorClientID is what the {clientId} redirect parameter becomes.
const emulatorClientID = "00000000-0000-4000-8000-000000000001"

// defaultRedirectPath is the emulator's own completion page, used when no
// redirect URL is configured.
const defaultRedirectQuery = "?companyId={companyId}&connectionId={connectionId}&statusCode={statusCode}&errorMessage={errorMessage}"

// SetRedirectURL replaces Options.RedirectURL, e.g. once a test's callback
// server has an address.
func (e *Emulator) SetRedirectURL(template string) {
	e.mu.Lock()
	e.redirectTmpl = template
	e.mu.Unlock()
}

// redirectTarget fills the redirect template's reserved parameters and the
// custom parameters carried in the link URL's query. Callers hold e.mu.
func (e *Emulator) redirectTarget(r *http.Request, conn *connection, statusCode int, errorMessage string) string {
	tmpl := e.redirectTmpl
	if tmpl == "" {
		tmpl = e.baseURL(r) + linkPrefix + "/complete" + defaultRedirectQuery
	}
	values := map[string]string{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			values[k] = vs[0]
		}
	}
	for k, v := range map[string]string{
		"clientId":      emulatorClientID,
		"companyId":     conn.companyID,
		"connectionId":  conn.id,
		"integrationId": conn.source.IntegrationID,
		"sourceId":      conn.source.SourceID,
		"platformName":  conn.source.Name,
		"sourceType":    "banking",
		"statusCode":    fmt.Sprint(statusCode),
		"errorMessage":  errorMessage,
	} {
		values[k] = v
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(tmpl[open:], '}')
		if end < 0 {
			break
		}
		name := tmpl[open+1 : open+end]
		b.WriteString(tmpl[:open])
		if v, ok := values[name]; ok {
			b.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		} else {
			b.WriteString(tmpl[open : open+end+1]) // unknown parameters stay as written
		}
		tmpl = tmpl[open+end+1:]
	}
	b.WriteString(tmpl)
	return b.String()
}

// withQuery appends r's query (the link's custom parameters) to target.
func withQuery(target string, r *http.Request) string {
	if r.URL.RawQuery == "" {
		return target
	}
	return target + "?" + r.URL.RawQuery
}

type sourceChoice struct{ Key, Name string }

type connectionChoice struct{ Name, Status, StartURL string }

// handleLinkCompany serves a company's redirect page: its connections and the
// banks it can connect.
func (e *Emulator) handleLinkCompany(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	id := r.PathValue("companyId")
	e.mu.RLock()
	c, herr := e.lookupCompany(id)
	data := map[string]any{}
	if herr == nil {
		var conns []connectionChoice
		for _, conn := range c.connections {
			conns = append(conns, connectionChoice{Name: conn.source.Name,
				Status: conn.effectiveStatus(now, e.consentTTL), StartURL: withQuery(e.linkURL(r, c.id, conn.id), r)})
		}
		data = map[string]any{"Title": "Connect your bank", "CompanyName": c.name, "Connections": conns,
			"SelectURL": withQuery(linkPrefix+"/company/"+c.id+"/select", r)}
	}
	e.mu.RUnlock()
	if herr != nil {
		return herr
	}
	var sources []sourceChoice
	for _, s := range e.sources {
		if s.Enabled {
			sources = append(sources, sourceChoice{Key: s.Key, Name: s.Name})
		}
	}
	data["Sources"] = sources
	renderPage(w, http.StatusOK, companyPage, data)
	return nil
}

// handleLinkSelect creates (or reuses a pending) connection to the chosen bank
// and sends the browser to its consent page.
func (e *Emulator) handleLinkSelect(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errBadRequest("The form could not be read.")
	}
	key := r.PostForm.Get("platformKey")
	src, ok := e.sourceByKey(key)
	if !ok || !src.Enabled {
		return errNotFound("No integration was found with key " + key)
	}
	now := e.clock.Now()
	e.mu.Lock()
	c, herr := e.lookupCompany(r.PathValue("companyId"))
	var conn *connection
	if herr == nil {
		for _, existing := range c.connections {
			if existing.source.Key == key && existing.status == StatusPendingAuth {
				conn = existing
				break
			}
		}
		if conn == nil {
			conn = e.newConnection(c, src, now)
		}
	}
	e.mu.Unlock()
	if herr != nil {
		return herr
	}
	http.Redirect(w, r, withQuery(e.linkURL(r, conn.companyID, conn.id), r), http.StatusSeeOther)
	return nil
}

// handleLinkStart serves a connection's linkUrl: the consent page.
func (e *Emulator) handleLinkStart(w http.ResponseWriter, r *http.Request) error {
	now := e.clock.Now()
	e.mu.RLock()
	c, conn, herr := e.lookupConnection(r.PathValue("companyId"), r.PathValue("connectionId"))
	var data map[string]any
	if herr == nil {
		data = map[string]any{
			"Title": "Share your bank data", "CompanyName": c.name, "BankName": conn.source.Name,
			"Status":       conn.effectiveStatus(now, e.consentTTL),
			"AuthorizeURL": withQuery(linkPrefix+"/companies/"+c.id+"/connections/"+conn.id+"/authorize", r),
		}
	}
	e.mu.RUnlock()
	if herr != nil {
		return herr
	}
	renderPage(w, http.StatusOK, consentPage, data)
	return nil
}

// handleLinkAuthorize receives the consent page's decision.
func (e *Emulator) handleLinkAuthorize(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errBadRequest("The form could not be read.")
	}
	decision := r.PostForm.Get("decision")
	if decision != "authorize" && decision != "cancel" {
		return errBadRequest("Choose Authorise or Cancel.")
	}
	companyID, connectionID := r.PathValue("companyId"), r.PathValue("connectionId")
	now := e.clock.Now()
	e.mu.Lock()
	_, conn, herr := e.lookupConnection(companyID, connectionID)
	target := ""
	if herr == nil {
		if decision == "authorize" {
			e.linkLocked(conn, now)
			target = e.redirectTarget(r, conn, http.StatusOK, "")
		} else {
			target = e.redirectTarget(r, conn, http.StatusForbidden, "User cancelled")
		}
	}
	e.mu.Unlock()
	if herr != nil {
		return herr
	}
	e.log.Info("codat: link journey ended", "companyId", companyID, "connectionId", connectionID, "decision", decision)
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// linkLocked makes conn Linked as of now and queues the fetch-on-first-link
// data types. Callers hold e.mu.
func (e *Emulator) linkLocked(conn *connection, now time.Time) {
	if conn.status == StatusLinked && conn.effectiveStatus(now, e.consentTTL) == StatusDeauthorized {
		conn.errs = append(conn.errs, conn.expiryError(e.consentTTL))
	}
	for i := range conn.errs {
		if conn.errs[i].resolvedOn.IsZero() {
			conn.errs[i].resolvedOn = now
		}
	}
	conn.status = StatusLinked
	conn.linkedAt = now
	if len(e.fetchOnLink) > 0 {
		if c := e.companies[conn.companyID]; c != nil {
			e.queueIdle(c, conn, e.fetchOnLink, now)
		}
	}
}

// handleLinkComplete is the default end of the journey.
func (e *Emulator) handleLinkComplete(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	msg := "Your bank is connected. You can close this window."
	if q.Get("statusCode") != "200" {
		msg = "The connection was not completed: " + q.Get("errorMessage")
	}
	renderPage(w, http.StatusOK, completePage, map[string]string{"Title": "Codat Link", "Message": msg,
		"CompanyID": q.Get("companyId"), "ConnectionID": q.Get("connectionId"), "StatusCode": q.Get("statusCode")})
	return nil
}
