package codat

import (
	"context"
	"net/http"
	"strings"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// CompleteAuthorization confirms that the user linked the data connection:
// Linked is a Grant (no tokens: Codat keeps the consent); PendingAuth is a
// RetryLater error (code PendingAuth) for the caller to poll; Deauthorized and
// Unlinked need the user again. The callback carries nothing Codat needs.
func (c *Client) CompleteAuthorization(ctx context.Context, conn provider.Connection, _ provider.Callback) (provider.Grant, error) {
	const op = "complete authorization"
	cn, refs, err := c.currentConnection(ctx, conn, op)
	if err != nil {
		return provider.Grant{}, err
	}
	switch cn.Status {
	case statusLinked:
		return provider.Grant{Refs: refs}, nil
	case "", statusPendingAuth:
		return provider.Grant{}, awaitingAuthorization(op, cn)
	case statusDeauthorized, statusUnlinked:
		return provider.Grant{}, consentEnded(op, cn)
	}
	return provider.Grant{}, unknownStatus(op, cn.Status)
}

// Refresh is not supported: Codat has no user tokens.
func (c *Client) Refresh(context.Context, provider.Connection, string) (provider.Tokens, error) {
	return provider.Tokens{}, invalidRequest("refresh", "not supported: Codat connections have no user tokens to refresh")
}

// Extend is not supported: Codat has no consent extension; the user links
// the connection again through its linkUrl (BeginAuthorization).
func (c *Client) Extend(context.Context, provider.Connection, provider.Session) (provider.Extension, error) {
	return provider.Extension{}, invalidRequest("extend",
		"not supported: Codat has no consent extension; the user authorises the data connection again through its link")
}

// Consent reads the data connection: PendingAuth is Pending, Linked is
// Active, Deauthorized is Expired when Codat says the bank consent expired
// and Revoked otherwise, Unlinked is Revoked. Codat exposes no consent end,
// so ExpiresAt stays zero.
func (c *Client) Consent(ctx context.Context, conn provider.Connection, s provider.Session) (provider.Consent, error) {
	const op = "consent"
	conn.Refs = sessionRefs(conn, s)
	cn, _, err := c.currentConnection(ctx, conn, op)
	if err != nil {
		return provider.Consent{}, err
	}
	created, err := parseTime(cn.Created)
	if err != nil {
		return provider.Consent{}, &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "malformed_response",
			Description: "connection created: " + err.Error()}
	}
	out := provider.Consent{CreatedAt: created, ProviderID: cn.IntegrationKey, ProviderName: cn.PlatformName}
	switch cn.Status {
	case "", statusPendingAuth:
		out.Status = "Pending"
	case statusLinked:
		out.Status = "Active"
	case statusDeauthorized:
		out.Status = "Revoked"
		if deauthorizedReason(cn) == provider.ReasonConsentExpired {
			out.Status = "Expired"
		}
	case statusUnlinked:
		out.Status = "Revoked"
	default:
		return provider.Consent{}, unknownStatus(op, cn.Status)
	}
	return out, nil
}

// Revoke deletes the data connection, or the whole company when
// Options.DeleteCompany or Connection.CodatDeleteCompany says so. What is
// already gone counts as deleted; a connection that never got a company has
// nothing to revoke.
func (c *Client) Revoke(ctx context.Context, conn provider.Connection, s provider.Session) error {
	const op = "revoke"
	refs := sessionRefs(conn, s)
	if refs.CodatCompanyID == "" {
		return nil
	}
	if c.opts.DeleteCompany || conn.CodatDeleteCompany {
		return ignoreNotFound(c.deleteCompany(ctx, conn, op, refs.CodatCompanyID))
	}
	if refs.CodatConnectionID != "" {
		return ignoreNotFound(c.deleteConnection(ctx, conn, op, refs.CodatCompanyID, refs.CodatConnectionID))
	}
	// The user never chose a bank we know of: every connection of the
	// BankConnection's own company goes.
	conns, err := c.listConnections(ctx, conn, op, refs.CodatCompanyID)
	if err != nil {
		return ignoreNotFound(err)
	}
	for _, cn := range conns {
		if err := ignoreNotFound(c.deleteConnection(ctx, conn, op, refs.CodatCompanyID, cn.ID)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) deleteCompany(ctx context.Context, conn provider.Connection, op, companyID string) error {
	_, err := c.send(ctx, conn, call{op: op, kind: opConnection, method: http.MethodDelete,
		endpoint: "/companies/{companyId}", path: companyPath(companyID), idempotent: true})
	return err
}

func (c *Client) deleteConnection(ctx context.Context, conn provider.Connection, op, companyID, connectionID string) error {
	_, err := c.send(ctx, conn, call{op: op, kind: opConnection, method: http.MethodDelete,
		endpoint: "/companies/{companyId}/connections/{connectionId}", path: connectionPath(companyID, connectionID),
		idempotent: true})
	return err
}

func ignoreNotFound(err error) error {
	if isNotFound(err) {
		return nil
	}
	return err
}

// sessionRefs are the session's refs, completed from the connection's.
func sessionRefs(conn provider.Connection, s provider.Session) provider.Refs {
	r := s.Refs
	if r.CodatCompanyID == "" {
		r.CodatCompanyID = conn.Refs.CodatCompanyID
		if r.CodatConnectionID == "" {
			r.CodatConnectionID = conn.Refs.CodatConnectionID
		}
	}
	if r.DataConnectionID == "" {
		r.DataConnectionID = conn.Refs.DataConnectionID
	}
	return r
}

// currentConnection reads the BankConnection's data connection. Without a
// recorded connection id (the user picks the bank in Codat Link) it is the
// company's best connection: Linked before PendingAuth before the others,
// newest first; the zero connection (status "") when there is none yet. The
// refs returned carry the connection's id.
func (c *Client) currentConnection(ctx context.Context, conn provider.Connection, op string) (connectionJSON, provider.Refs, error) {
	refs := conn.Refs
	if refs.CodatCompanyID == "" {
		return connectionJSON{}, refs, invalidRequest(op, "the connection has no Codat company: the journey has not started")
	}
	if refs.CodatConnectionID != "" {
		cn, err := c.getConnection(ctx, conn, op, refs.CodatCompanyID, refs.CodatConnectionID)
		return cn, refs, err
	}
	conns, err := c.listConnections(ctx, conn, op, refs.CodatCompanyID)
	if err != nil {
		return connectionJSON{}, refs, err
	}
	best, bestRank := connectionJSON{}, 0
	for i := len(conns) - 1; i >= 0; i-- {
		if r := statusRank(conns[i].Status); r > bestRank {
			best, bestRank = conns[i], r
		}
	}
	refs.CodatConnectionID = best.ID
	return best, refs, nil
}

func statusRank(status string) int {
	switch status {
	case statusLinked:
		return 4
	case statusPendingAuth:
		return 3
	case statusDeauthorized:
		return 2
	case statusUnlinked:
		return 1
	}
	return 0
}

func awaitingAuthorization(op string, cn connectionJSON) *provider.Error {
	desc := "awaiting authorization: the user has not completed Codat Link yet"
	if cn.ID == "" {
		desc = "awaiting authorization: the user has not chosen a bank in Codat Link yet"
	}
	return &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: statusPendingAuth, Description: desc}
}

// consentEnded is the error for a Deauthorized or Unlinked connection.
func consentEnded(op string, cn connectionJSON) *provider.Error {
	pe := &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonConsentRevoked, Op: op, Code: cn.Status}
	switch cn.Status {
	case statusUnlinked:
		pe.Description = "the Codat data connection was unlinked"
	default:
		pe.Reason = deauthorizedReason(cn)
		pe.Description = "the Codat data connection is deauthorized"
		if msg := activeError(cn); msg != "" {
			pe.Description += ": " + truncate(msg)
		}
	}
	return pe
}

// deauthorizedReason tells an expired bank consent from a revoked one by the
// connection's unresolved error, which is all Codat says about it.
func deauthorizedReason(cn connectionJSON) string {
	if strings.Contains(strings.ToLower(activeError(cn)), "expired") {
		return provider.ReasonConsentExpired
	}
	return provider.ReasonConsentRevoked
}

// activeError is the message of the connection's latest unresolved error.
func activeError(cn connectionJSON) string {
	for i := len(cn.DataConnectionErrors) - 1; i >= 0; i-- {
		if e := cn.DataConnectionErrors[i]; !strings.EqualFold(e.Status, "Resolved") {
			return e.ErrorMessage
		}
	}
	return ""
}

func unknownStatus(op, status string) *provider.Error {
	return &provider.Error{Class: provider.ClassRetryLater, Op: op, Code: "malformed_response",
		Description: "unknown data connection status " + truncate(status)}
}

func truncate(s string) string {
	if len(s) > maxDescription {
		return s[:maxDescription] + "…"
	}
	return s
}
