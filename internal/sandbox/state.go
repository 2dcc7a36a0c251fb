package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// Consent statuses reported by /data/v1/me and the admin API.
const (
	ConsentAuthorised = "Authorised"
	ConsentRevoked    = "Revoked"
	ConsentExpired    = "Expired"
)

// connection is a TrueLayer "credentials": one user's consent at one bank for
// one client. Its fields are guarded by mu.
type connection struct {
	id        string // credentials_id
	label     string // the test's name for it (AuthorizeRequest.Label); not part of any API
	clientID  string
	consentID string
	provider  *provider
	user      mockUser
	// dataset is swapped by a re-consent that issues new account ids (see
	// renewConsent) while requests read it, hence atomic; use data().
	dataset atomic.Pointer[bankdata.Dataset]

	mu              sync.Mutex
	scopes          []string
	createdAt       time.Time // consent_created_at
	expiresAt       time.Time // consent_expires_at
	statusUpdatedAt time.Time
	authTime        time.Time // last time the user authenticated (SCA window)
	revoked         bool
	extendOutcome   string
	// newAccountIDs makes a re-consent issue new account ids (Options.NewAccountIDsOnReconsent
	// for this connection); accountIDGeneration counts the re-consents that did.
	newAccountIDs       bool
	accountIDGeneration int
	refreshToken        string   // current refresh token ("" without offline_access)
	retired             []string // recently rotated-out refresh tokens, oldest first
	latestJTI           string
	sessionID           string
	// unattended holds the times of unattended calls per "account|endpoint".
	unattended map[string][]time.Time
}

// data returns the mock bank data the connection serves.
func (c *connection) data() *bankdata.Dataset { return c.dataset.Load() }

// status returns the consent status at now. Caller holds c.mu.
func (c *connection) statusLocked(now time.Time) string {
	switch {
	case c.revoked:
		return ConsentRevoked
	case !now.Before(c.expiresAt):
		return ConsentExpired
	}
	return ConsentAuthorised
}

// refreshEntry maps a refresh token to its connection. A retired entry
// belongs to a rotated-out token: usable until graceUntil, then invalid_grant.
type refreshEntry struct {
	conn       *connection
	retired    bool
	graceUntil time.Time
}

// maxRetiredPerConnection bounds the memory of rotated-out refresh tokens;
// older ones are forgotten (and then answer 401 invalid_request, as an
// unknown token does, instead of 400 invalid_grant).
const maxRetiredPerConnection = 16

// authCode is an issued authorization code.
type authCode struct {
	clientID      string
	redirectURI   string
	scopes        []string
	provider      *provider
	user          mockUser
	codeChallenge string
	expiresAt     time.Time
	authTime      time.Time
	// reauthConn is set when the code re-authorises an existing connection.
	reauthConn *connection
	// label is the test's name for the journey (AuthorizeRequest.Label).
	label string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func newCredentialsID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.URLEncoding.EncodeToString(b)
}

func newRefreshToken() string { return strings.ToUpper(randomHex(32)) }

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
