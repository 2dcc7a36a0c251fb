package sandbox

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// This file is the in-process control surface; the admin API (admin.go)
// exposes the same operations over HTTP.

// ErrNotFound is returned for an unknown connection.
var ErrNotFound = errors.New("not found")

// ConnectionInfo describes a connection (v1 credentials or v3 data connection).
type ConnectionInfo struct {
	ID string `json:"id"`
	// Label is the name the test gave the journey that created it (AuthorizeRequest.Label).
	Label         string    `json:"label,omitempty"`
	API           string    `json:"api"` // "v1" or "v3"
	ClientID      string    `json:"client_id"`
	ConsentID     string    `json:"consent_id"`
	User          string    `json:"user"`
	ProviderID    string    `json:"provider_id"`
	Scopes        []string  `json:"scopes"`
	Status        string    `json:"status"` // Authorised, Expired, Revoked
	CreatedAt     time.Time `json:"consent_created_at"`
	ExpiresAt     time.Time `json:"consent_expires_at"`
	AuthTime      time.Time `json:"auth_time"`
	ExtendOutcome string    `json:"extend_outcome"`
	ErrorCode     string    `json:"error_code,omitempty"`
}

func (s *Server) info(c *connection, now time.Time) ConnectionInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	api := "v1"
	if s.isV3(c.id) {
		api = "v3"
	}
	return ConnectionInfo{
		ID: c.id, Label: c.label, API: api, ClientID: c.clientID, ConsentID: c.consentID, User: c.user.username,
		ProviderID: c.provider.ID, Scopes: append([]string(nil), c.scopes...), Status: c.statusLocked(now),
		CreatedAt: c.createdAt, ExpiresAt: c.expiresAt, AuthTime: c.authTime, ExtendOutcome: c.extendOutcome,
		ErrorCode: c.user.errorCode,
	}
}

func (s *Server) isV3(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.v3conns[id]
	return ok
}

// Connections lists all connections, oldest consent first.
func (s *Server) Connections() []ConnectionInfo {
	now := s.clock.Now()
	var conns []*connection
	s.connections.each(func(_ string, c *connection) { conns = append(conns, c) })
	out := make([]ConnectionInfo, 0, len(conns))
	for _, c := range conns {
		out = append(out, s.info(c, now))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Connection describes one connection.
func (s *Server) Connection(id string) (ConnectionInfo, bool) {
	c, ok := s.connections.get(id)
	if !ok {
		return ConnectionInfo{}, false
	}
	return s.info(c, s.clock.Now()), true
}

// ConnectionByRefreshToken returns the connection a refresh token belongs
// to (current or rotated-out); for tests that hold only tokens.
func (s *Server) ConnectionByRefreshToken(rt string) (ConnectionInfo, bool) {
	e, ok := s.refresh.get(rt)
	if !ok {
		return ConnectionInfo{}, false
	}
	return s.info(e.conn, s.clock.Now()), true
}

// RevokeConnection revokes a connection, as the user or DELETE /api/delete would.
func (s *Server) RevokeConnection(id string) error {
	c, ok := s.connections.get(id)
	if !ok {
		return fmt.Errorf("revoke connection %q: %w", id, ErrNotFound)
	}
	s.revoke(c)
	return nil
}

// ExpireConsent ends a connection's consent now.
func (s *Server) ExpireConsent(id string) error {
	return s.SetConsentExpiry(id, s.clock.Now())
}

// SetConsentExpiry moves a connection's consent_expires_at.
func (s *Server) SetConsentExpiry(id string, t time.Time) error {
	c, ok := s.connections.get(id)
	if !ok {
		return fmt.Errorf("set consent expiry of %q: %w", id, ErrNotFound)
	}
	c.mu.Lock()
	c.expiresAt = t
	c.statusUpdatedAt = s.clock.Now()
	c.mu.Unlock()
	return nil
}

// SetExtendOutcome chooses what /connections/extend answers for a connection.
func (s *Server) SetExtendOutcome(id, outcome string) error {
	switch outcome {
	case ExtendNoActionNeeded, ExtendAuthenticationNeeded, ExtendReconfirmationOfConsent:
	default:
		return fmt.Errorf("unknown extend outcome %q", outcome)
	}
	return s.updateConnection(id, "set extend outcome", func(c *connection) { c.extendOutcome = outcome })
}

// SetNewAccountIDsOnReconsent chooses whether the connection's next re-consents
// issue new account ids (Options.NewAccountIDsOnReconsent for one connection).
func (s *Server) SetNewAccountIDsOnReconsent(id string, on bool) error {
	return s.updateConnection(id, "set new account ids on re-consent", func(c *connection) { c.newAccountIDs = on })
}

// updateConnection runs set on a connection under its lock; what names the
// operation in the error of an unknown id.
func (s *Server) updateConnection(id, what string, set func(*connection)) error {
	c, ok := s.connections.get(id)
	if !ok {
		return fmt.Errorf("%s of %q: %w", what, id, ErrNotFound)
	}
	c.mu.Lock()
	set(c)
	c.mu.Unlock()
	return nil
}

// InjectFault adds a fault and returns its id.
func (s *Server) InjectFault(f Fault) (string, error) { return s.faults.add(f) }

// RemoveFault removes a fault; it reports whether it existed.
func (s *Server) RemoveFault(id string) bool { return s.faults.remove(id) }

// ClearFaults removes all faults.
func (s *Server) ClearFaults() { s.faults.clear() }

// Faults lists the active faults.
func (s *Server) Faults() []Fault { return s.faults.list() }

// Calls returns the call counts matching f.
func (s *Server) Calls(f CallFilter) []CallCount { return s.calls.list(f) }

// CallTotal returns the number of calls matching f.
func (s *Server) CallTotal(f CallFilter) int64 {
	var n int64
	for _, c := range s.calls.list(f) {
		n += c.Count
	}
	return n
}

// Errors returns the error-response counts matching f.
func (s *Server) Errors(f CallFilter) []ErrorCount { return s.calls.listErrors(f) }

// ErrorTotal returns the number of error responses matching f (e.g.
// CallFilter{Error: "invalid_grant"}).
func (s *Server) ErrorTotal(f CallFilter) int64 {
	var n int64
	for _, c := range s.calls.listErrors(f) {
		n += c.Count
	}
	return n
}

// ResetCalls zeroes all call and error counts.
func (s *Server) ResetCalls() { s.calls.reset() }

// SetTime sets the sandbox clock.
func (s *Server) SetTime(t time.Time) { s.clock.Set(t) }

// Advance moves the sandbox clock forward by d.
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }

// AuthorizeRequest completes the auth dialog programmatically (what a user
// would do in the browser), for tests and scale runs that need many consents.
type AuthorizeRequest struct {
	ClientID    string   `json:"client_id"`
	RedirectURI string   `json:"redirect_uri"`
	Scopes      []string `json:"scopes"`
	// ProviderID defaults to "mock".
	ProviderID string `json:"provider_id"`
	// Username and Password default to john / doe.
	Username      string `json:"username"`
	Password      string `json:"password"`
	CodeChallenge string `json:"code_challenge"`
	// Label names the journey for the test (for instance its BankConnection), so a
	// harness can tell which of its connections an error counted against
	// (ConnectionInfo.Label); no provider API shows it.
	Label string `json:"label,omitempty"`
}

// Authorize returns an authorization code as the dialog would have issued it.
func (s *Server) Authorize(req AuthorizeRequest) (string, error) {
	if _, ok := s.lookupRedirect(req.ClientID, req.RedirectURI); !ok {
		return "", fmt.Errorf("authorize: unknown client %q or unregistered redirect URI", req.ClientID)
	}
	if msg := checkScopes(req.Scopes); msg != "" {
		return "", fmt.Errorf("authorize: %s", msg)
	}
	if req.ProviderID == "" {
		req.ProviderID = "mock"
	}
	p := providerByID(req.ProviderID)
	if p == nil {
		return "", fmt.Errorf("authorize: unknown provider %q", req.ProviderID)
	}
	if req.Username == "" && req.Password == "" {
		req.Username, req.Password = "john", "doe"
	}
	user, ok := mockLogin(req.Username, req.Password)
	if !ok {
		return "", fmt.Errorf("authorize: wrong mock bank credentials for %q", req.Username)
	}
	c := s.issueCode(&authCode{
		clientID: req.ClientID, redirectURI: req.RedirectURI, scopes: req.Scopes, provider: p, user: user,
		codeChallenge: req.CodeChallenge, authTime: s.clock.Now(), label: req.Label,
	})
	return c.value, nil
}

// AuthorizeV3 completes a v3 data connection's authorisation as the user
// would on the hosted page.
func (s *Server) AuthorizeV3(connectionID, username, password string) error {
	c, ok := s.v3Lookup(connectionID)
	if !ok {
		return fmt.Errorf("authorize v3 connection %q: %w", connectionID, ErrNotFound)
	}
	if username == "" && password == "" {
		username, password = "john", "doe"
	}
	user, ok := mockLogin(username, password)
	if !ok {
		return fmt.Errorf("authorize v3 connection: wrong mock bank credentials for %q", username)
	}
	s.mu.Lock()
	pending := c.status == "authorization_required" || c.status == "authorizing"
	s.mu.Unlock()
	if !pending {
		return fmt.Errorf("authorize v3 connection %q: not awaiting authorisation", connectionID)
	}
	s.authorizeV3(c, user, s.clock.Now())
	return nil
}

// Dataset returns the mock bank data of a user (e.g. "john"), the single
// source of truth the served data derives from.
func (s *Server) Dataset(user string) *bankdata.Dataset {
	return s.datasetFor(strings.TrimSpace(user))
}

// ConnectionDataset returns the dataset behind a connection.
func (s *Server) ConnectionDataset(id string) (*bankdata.Dataset, bool) {
	c, ok := s.connections.get(id)
	if !ok {
		return nil, false
	}
	return c.data(), true
}

// V3ConnectionsFor counts the Data API v3 connections created with the metadata
// namespace and name (what the operator sets on each), so a test counts its own
// connection's journeys and not those of objects other tests left running.
func (s *Server) V3ConnectionsFor(namespace, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.v3conns {
		if c.metadata["namespace"] == namespace && c.metadata["name"] == name {
			n++
		}
	}
	return n
}
