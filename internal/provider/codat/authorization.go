package codat

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// BeginAuthorization starts (or resumes) the consent journey: it makes sure
// the BankConnection has a Codat company with a data connection to the bank
// named by ProviderID and returns the connection's linkUrl. See doc.go for
// the reuse rules that make it idempotent.
func (c *Client) BeginAuthorization(ctx context.Context, conn provider.Connection, state string) (provider.Authorization, error) {
	const op = "begin authorization"
	if conn.Refs.CodatCompanyID != "" {
		co, err := c.getCompany(ctx, conn, op, conn.Refs.CodatCompanyID)
		switch {
		case isNotFound(err):
			// The company was deleted at Codat: start again with a new one.
		case err != nil:
			return provider.Authorization{}, err
		default:
			return c.resumeCompany(ctx, conn, op, co, state)
		}
	}
	var platformKey string
	if conn.ProviderID != "" {
		src, err := c.checkSource(ctx, conn, op, conn.ProviderID)
		if err != nil {
			return provider.Authorization{}, err
		}
		platformKey = src.Key
	}
	co, err := c.createCompany(ctx, conn, op, platformKey)
	if err != nil {
		return provider.Authorization{}, err
	}
	refs := provider.Refs{DataConnectionID: conn.Refs.DataConnectionID, CodatCompanyID: co.ID}
	if platformKey == "" {
		// No bank chosen: Codat Link lets the user pick one, and
		// CompleteAuthorization finds the connection it created.
		return authorization(op, co.Redirect, state, refs)
	}
	cn, ok := connectionFor(co.DataConnections, "", platformKey)
	if !ok {
		// A Codat that ignored platformType: add the connection explicitly.
		if cn, err = c.createConnection(ctx, conn, op, co.ID, platformKey); err != nil {
			return provider.Authorization{}, err
		}
	}
	refs.CodatConnectionID = cn.ID
	return authorization(op, cn.LinkURL, state, refs)
}

// resumeCompany continues a journey in an existing company: the recorded
// data connection when it still exists (and is to the requested bank), else
// another connection of the company to that bank, else a new one.
func (c *Client) resumeCompany(ctx context.Context, conn provider.Connection, op string, co companyJSON, state string) (provider.Authorization, error) {
	refs := provider.Refs{DataConnectionID: conn.Refs.DataConnectionID, CodatCompanyID: co.ID}
	if cn, ok := connectionFor(co.DataConnections, conn.Refs.CodatConnectionID, conn.ProviderID); ok {
		refs.CodatConnectionID = cn.ID
		return authorization(op, cn.LinkURL, state, refs)
	}
	if conn.ProviderID == "" {
		return authorization(op, co.Redirect, state, refs)
	}
	src, err := c.checkSource(ctx, conn, op, conn.ProviderID)
	if err != nil {
		return provider.Authorization{}, err
	}
	cn, err := c.createConnection(ctx, conn, op, co.ID, src.Key)
	if err != nil {
		return provider.Authorization{}, err
	}
	refs.CodatConnectionID = cn.ID
	return authorization(op, cn.LinkURL, state, refs)
}

// connectionFor picks the connection to reuse: the one with id when it is
// there (and to platformKey, when set), otherwise the newest one to
// platformKey. With neither an id match nor a platformKey there is none.
func connectionFor(conns []connectionJSON, id, platformKey string) (connectionJSON, bool) {
	for _, cn := range conns {
		if id != "" && cn.ID == id && (platformKey == "" || cn.IntegrationKey == platformKey) {
			return cn, true
		}
	}
	if platformKey == "" {
		return connectionJSON{}, false
	}
	for i := len(conns) - 1; i >= 0; i-- { // Codat lists connections oldest first
		if conns[i].IntegrationKey == platformKey {
			return conns[i], true
		}
	}
	return connectionJSON{}, false
}

// authorization returns link with the gateway's state added as a custom
// query parameter: Codat Link passes custom parameters on to the redirect
// URL, where a {state} placeholder receives it.
func authorization(op, link, state string, refs provider.Refs) (provider.Authorization, error) {
	u, err := url.Parse(link)
	if err != nil || !u.IsAbs() {
		return provider.Authorization{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "malformed_response",
			Description: "Codat returned no usable link URL for the user"}
	}
	if state != "" {
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
	}
	return provider.Authorization{URL: u.String(), Refs: refs}, nil
}

type createCompanyRequest struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	// PlatformType creates the company with a data connection to that
	// source in one call, as Codat's TrueLayer testing guide does.
	PlatformType string `json:"platformType,omitempty"`
}

func (c *Client) createCompany(ctx context.Context, conn provider.Connection, op, platformKey string) (companyJSON, error) {
	body := createCompanyRequest{
		Name:         companyName(conn),
		Description:  companyDescription(conn),
		Tags:         companyTags(conn),
		PlatformType: platformKey,
	}
	var co companyJSON
	// Not idempotent: a repeated POST would create a second company.
	err := c.sendJSON(ctx, conn, call{op: op, kind: opAccount, method: http.MethodPost, endpoint: "/companies",
		path: "/companies", body: body}, &co)
	if err != nil {
		return companyJSON{}, err
	}
	if co.ID == "" {
		return companyJSON{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "malformed_response",
			Description: "the created company has no id"}
	}
	return co, nil
}

func (c *Client) createConnection(ctx context.Context, conn provider.Connection, op, companyID, platformKey string) (connectionJSON, error) {
	var cn connectionJSON
	err := c.sendJSON(ctx, conn, call{op: op, kind: opConnection, method: http.MethodPost,
		endpoint: "/companies/{companyId}/connections", path: companyPath(companyID) + "/connections",
		body: map[string]string{"platformKey": platformKey}}, &cn)
	if err != nil {
		return connectionJSON{}, err
	}
	if cn.ID == "" {
		return connectionJSON{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "malformed_response",
			Description: "the created data connection has no id"}
	}
	return cn, nil
}

func (c *Client) getCompany(ctx context.Context, conn provider.Connection, op, companyID string) (companyJSON, error) {
	var co companyJSON
	err := c.sendJSON(ctx, conn, call{op: op, kind: opConnection, method: http.MethodGet,
		endpoint: "/companies/{companyId}", path: companyPath(companyID), idempotent: true}, &co)
	return co, err
}

func (c *Client) getConnection(ctx context.Context, conn provider.Connection, op, companyID, connectionID string) (connectionJSON, error) {
	var cn connectionJSON
	err := c.sendJSON(ctx, conn, call{op: op, kind: opConnection, method: http.MethodGet,
		endpoint: "/companies/{companyId}/connections/{connectionId}", path: connectionPath(companyID, connectionID),
		idempotent: true}, &cn)
	return cn, err
}

func (c *Client) listConnections(ctx context.Context, conn provider.Connection, op, companyID string) ([]connectionJSON, error) {
	var out []connectionJSON
	err := listAll(ctx, c, conn, list{op: op, kind: opConnection, endpoint: "/companies/{companyId}/connections",
		path: companyPath(companyID) + "/connections"}, func(cn connectionJSON) error {
		out = append(out, cn)
		return nil
	})
	return out, err
}

// isNotFound reports a 404 from Codat.
func isNotFound(err error) bool {
	pe, ok := provider.AsError(err)
	return ok && pe.Status == http.StatusNotFound
}

// companyNameAllowed is CompanyRequestBody.name's character class; Codat
// strips anything else.
func companyNameAllowed(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune(" -',&@.?!", r)
}

// maxCompanyName keeps names readable in Codat's portal.
const maxCompanyName = 100

// companyName is spec.companyName, the business's name as the user gave it (a
// Codat company stands for the end customer, Codat recommends capturing its name,
// and Codat Link shows it to the user), else the BankConnection's namespace and
// name; never userRef, which is an id and goes into the description and tags.
// Characters Codat does not allow become '-'.
func companyName(conn provider.Connection) string {
	raw := conn.CompanyName
	if strings.TrimSpace(raw) == "" {
		raw = conn.Namespace + "-" + conn.Name
	}
	var b strings.Builder
	for _, r := range raw {
		if b.Len() >= maxCompanyName {
			break
		}
		if companyNameAllowed(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), " -")
	if name == "" {
		name = "consent-operator connection"
	}
	return name
}

func companyDescription(conn provider.Connection) string {
	d := fmt.Sprintf("consent-operator BankConnection %s/%s", conn.Namespace, conn.Name)
	if conn.UID != "" {
		d += " (uid " + conn.UID + ")"
	}
	if conn.UserRef != "" {
		d += ", user " + conn.UserRef
	}
	return d
}

// companyTags lets an operator find the company of a BankConnection in
// Codat's portal. Codat allows tag values of at most 100 characters; longer
// ones are left out rather than refused.
func companyTags(conn provider.Connection) map[string]string {
	tags := map[string]string{}
	for k, v := range map[string]string{"namespace": conn.Namespace, "bankConnection": conn.Name, "uid": conn.UID} {
		if v != "" && len(v) <= 100 {
			tags[k] = v
		}
	}
	if len(tags) == 0 {
		return nil
	}
	return tags
}
