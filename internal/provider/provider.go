// Package provider is the boundary between the controllers and the open-banking
// providers. Controllers see only the Client interface and the typed errors of
// errors.go; internal/provider/truelayer and internal/provider/codat implement it over
// HTTP. Clients are built once per provider and reused across reconciles.
package provider

import (
	"context"
	"time"
)

// Credentials are a provider application's credentials, read from the Secret named by
// spec.clientSecretRef.
type Credentials struct {
	ClientID     string
	ClientSecret string
	// APIKey is Codat's API key.
	APIKey string
}

// Connection is what a provider client needs to know about one BankConnection.
type Connection struct {
	// Namespace/Name/UID identify the BankConnection (for rate limiting, logs, ids).
	Namespace, Name, UID string
	Credentials          Credentials
	// Environment is "Sandbox" or "Live".
	Environment string
	// DataAPI is "V1", "V3" or "SignupPlus" (TrueLayer); empty for Codat.
	DataAPI string
	// Scopes requested; for V1 offline_access is added when DataAccess is Recurring.
	Scopes []string
	// ProviderID preselects a bank; Providers filters bank selection.
	ProviderID string
	Providers  []string
	// DataAccess is "OneTime" or "Recurring".
	DataAccess string
	// UserRef is the application's user id.
	UserRef string
	// CompanyName names the Codat company (spec.companyName); other providers
	// ignore it.
	CompanyName string
	// RedirectURI is the operator gateway's OAuth callback URL.
	RedirectURI string
	// Refs are ids the provider assigned earlier (V3 data connection, Codat company).
	Refs Refs

	// User describes the end user where the provider requires it (TrueLayer
	// /connections/extend and v3 data connections for unregulated clients:
	// a name and an email or phone). Optional; UserRef is always sent as the id.
	User EndUser
	// ConsentExpiresAt is the consent end last read from the provider (zero
	// when unknown). It lets a client tell ConsentExpired from
	// ReauthorizationRequired when the provider's error does not say which
	// (TrueLayer answers a refresh after the consent ended with a bare
	// invalid_grant).
	ConsentExpiresAt time.Time
	// CodeChallenge is the PKCE (S256) challenge of the journey being started;
	// providers that support PKCE put it on the authorization link.
	CodeChallenge string
	// CodatDeleteCompany asks Revoke to delete the whole Codat company rather
	// than only its data connection (the codat-delete-company annotation).
	// Other providers ignore it.
	CodatDeleteCompany bool
}

// EndUser is what a provider may need to know about the end user.
type EndUser struct {
	Name, Email, Phone string
}

// Refs are the provider's ids for a connection, kept in the BankConnection's status.
type Refs struct {
	DataConnectionID  string
	CodatCompanyID    string
	CodatConnectionID string
}

// Tokens are an OAuth token set. Values must never be logged or put in errors.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	Scope        string
	ExpiresAt    time.Time
}

// Authorization is the start of a consent journey.
type Authorization struct {
	// URL is where the user goes to consent (auth dialog, hosted page, Codat link).
	URL string
	// Refs are ids created by starting the journey (V3 connection, Codat company).
	Refs Refs
}

// Callback is what the provider sent back to the gateway's callback.
type Callback struct {
	Code  string
	Scope string
	// CodeVerifier is the PKCE verifier of the journey's CodeChallenge.
	CodeVerifier string
}

// Grant is the result of a completed consent journey.
type Grant struct {
	// Tokens are nil where the provider keeps the consent server-side (V3, Codat).
	Tokens *Tokens
	Refs   Refs
}

// Consent describes the consent at the provider.
type Consent struct {
	CreatedAt    time.Time
	ExpiresAt    time.Time
	ProviderID   string
	ProviderName string
	// Status is "Pending", "Active", "Expired" or "Revoked".
	Status string
}

// ExtendOutcome is the provider's answer to a consent extension.
type ExtendOutcome string

const (
	// ExtendNoActionNeeded: the consent was extended; Tokens holds fresh tokens.
	ExtendNoActionNeeded ExtendOutcome = "no_action_needed"
	// ExtendReconfirmationNeeded: the user must reconfirm at UserInputLink.
	ExtendReconfirmationNeeded ExtendOutcome = "reconfirmation_of_consent_needed"
	// ExtendAuthenticationNeeded: the user must authenticate at UserInputLink.
	ExtendAuthenticationNeeded ExtendOutcome = "authentication_needed"
)

// Extension is the outcome of extending a consent.
type Extension struct {
	Outcome       ExtendOutcome
	Tokens        *Tokens
	UserInputLink string
	// ExpiresAt is the new consent end when Outcome is ExtendNoActionNeeded.
	ExpiresAt time.Time
}

// Session is what calls on behalf of a connected user carry: the user's tokens (V1,
// SignupPlus) or the provider refs (V3, Codat).
type Session struct {
	Tokens *Tokens
	Refs   Refs
}

// Client is what a BankConnection needs from a provider.
//
// Every method returns *Error (see errors.go) on failure, so callers decide by Class.
type Client interface {
	// BeginAuthorization starts a consent journey. state is the gateway's signed state
	// echoed to the callback.
	BeginAuthorization(ctx context.Context, c Connection, state string) (Authorization, error)
	// CompleteAuthorization exchanges the callback's code (or confirms the V3/Codat
	// connection) for a Grant.
	CompleteAuthorization(ctx context.Context, c Connection, cb Callback) (Grant, error)
	// Refresh exchanges a refresh token for a new token set. The caller must persist the
	// returned refresh token before doing anything else: with rotating refresh tokens the
	// old one is already invalid.
	Refresh(ctx context.Context, c Connection, refreshToken string) (Tokens, error)
	// Consent reads the consent's times and status (TrueLayer /data/v1/me).
	Consent(ctx context.Context, c Connection, s Session) (Consent, error)
	// Extend asks the provider to extend the consent (TrueLayer /connections/extend).
	Extend(ctx context.Context, c Connection, s Session) (Extension, error)
	// Revoke ends the consent at the provider (TrueLayer DELETE /api/delete).
	Revoke(ctx context.Context, c Connection, s Session) error
}

// DebugID is what a provider's support needs to find a connection's failing data
// access (TrueLayer's debug_id). It names no credential.
type DebugID struct {
	ID         string
	ProviderID string
}

// Debugger is implemented by clients whose provider issues debug ids for its support
// (TrueLayer POST /api/debug, for connections with user tokens).
type Debugger interface {
	// DebugID asks the provider for a debug id of the session's connection. A
	// ClassInvalidRequest error says the connection's data API has none.
	DebugID(ctx context.Context, c Connection, s Session) (DebugID, error)
}

// Bank is one bank the provider offers a connection.
type Bank struct {
	ID, Name, LogoURL, Country string
}

// BankLister is implemented by providers whose bank list an application's own
// selection screen can be fed from (TrueLayer GET /api/providers).
type BankLister interface {
	Banks(ctx context.Context, c Connection) ([]Bank, error)
}

// Reauthorizer is implemented by providers with a re-authentication journey for a
// user who already connected (TrueLayer POST /v1/reauthuri): shorter, and to the same
// bank. The provider keeps the state given here, so the caller seals it for the
// browser that will use the link.
type Reauthorizer interface {
	Reauthorize(ctx context.Context, c Connection, s Session, state string) (Authorization, error)
}
