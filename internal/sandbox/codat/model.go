package codat

import (
	"time"
)

// Connection statuses (schema dataConnectionStatus).
const (
	StatusPendingAuth  = "PendingAuth"
	StatusLinked       = "Linked"
	StatusUnlinked     = "Unlinked"
	StatusDeauthorized = "Deauthorized"
)

// company is the emulator's state for one Codat company. All fields are
// guarded by Emulator.mu.
type company struct {
	id          string
	name        string
	description string
	tags        map[string]string
	created     time.Time
	// platform and redirect differ for companies created the legacy way, with
	// platformType: they name that connection's platform and link straight to
	// its start page.
	platform    string
	legacyConn  string
	connections []*connection // in creation order
	pulls       []*pull       // in request order
}

// connection is one data connection of a company.
type connection struct {
	id        string
	companyID string
	source    Source
	status    string
	created   time.Time
	linkedAt  time.Time // when the link journey last completed
	dataUser  string    // bankdata user whose data the connection reads
	// errs are the connection's dataConnectionErrors: why it stopped being
	// Linked, resolved when it is authorised again.
	errs []connectionError
}

type connectionError struct {
	statusCode, statusText, message string
	erroredOn, resolvedOn           time.Time
}

// expiryError is the error a connection whose consent ran out reports.
func (c *connection) expiryError(consentTTL time.Duration) connectionError {
	at := c.linkedAt.Add(consentTTL)
	return connectionError{statusCode: "403", statusText: "Forbidden", erroredOn: at,
		message: "The bank consent expired on " + formatTime(at) + "; the company must authorize the connection again"}
}

// effectiveStatus applies consent expiry: a Linked connection whose consent
// has run out is Deauthorized, as Codat reports connections whose bank consent
// expired.
func (c *connection) effectiveStatus(now time.Time, consentTTL time.Duration) string {
	if c.status == StatusLinked && consentTTL > 0 && !now.Before(c.linkedAt.Add(consentTTL)) {
		return StatusDeauthorized
	}
	return c.status
}

// Pull operation (dataset) statuses the emulator uses; the schema lists more.
const (
	pullInitial      = "Initial"
	pullQueued       = "Queued"
	pullFetching     = "Fetching"
	pullComplete     = "Complete"
	pullAuthError    = "AuthError"
	pullNotSupported = "NotSupported"
)

// pull is one pull operation (dataset). Its status is a function of the clock:
// a successful pull moves Initial -> Queued -> Fetching -> Complete over
// duration, so a test advancing a manual clock decides when it completes.
type pull struct {
	id           string
	companyID    string
	connectionID string
	dataType     string
	requested    time.Time
	duration     time.Duration
	// failure is a terminal status set when the pull was queued (AuthError,
	// NotSupported); empty for a pull that will succeed.
	failure  string
	errorMsg string
}

// statusAt returns the pull's status and progress (0-100) at now.
func (p *pull) statusAt(now time.Time) (string, int) {
	if p.failure != "" {
		return p.failure, 100
	}
	elapsed := now.Sub(p.requested)
	switch {
	case elapsed >= p.duration:
		return pullComplete, 100
	case elapsed < p.duration/4:
		return pullInitial, 0
	case elapsed < p.duration/2:
		return pullQueued, 25
	default:
		half := p.duration - p.duration/2
		return pullFetching, 50 + int(50*int64(elapsed-p.duration/2)/int64(half))
	}
}

// completedAt is when a successful pull completes; the data it serves is the
// bank's data as of this instant.
func (p *pull) completedAt() time.Time { return p.requested.Add(p.duration) }

func (p *pull) isSuccessfulAt(now time.Time) bool {
	return p.failure == "" && !now.Before(p.completedAt())
}

func (p *pull) inProgressAt(now time.Time) bool {
	return p.failure == "" && now.Before(p.completedAt())
}
