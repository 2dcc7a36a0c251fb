package controllers

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
)

// The decisions of the BankConnection reconciler that depend only on what it
// observed (the status, the token Secret's facts, the spec and the time), as pure
// functions the steps call and the tests table (cert-manager's policy functions).
// The steps around them do the I/O.

// stallHold is whether a stall found in status still holds.
type stallHold int

const (
	// stallLifted: nothing stalls the connection, or something a human did may have
	// fixed it; the reconcile goes on.
	stallLifted stallHold = iota
	// stallAwaitsFix: a Secret or the spec must be fixed first; no provider call.
	stallAwaitsFix
	// stallAwaitsReconsent: the provider refused the consent; only the re-consent
	// link is kept.
	stallAwaitsReconsent
)

// stalledByProvider are the Stalled reasons a provider's answer caused; retrying
// cannot help until the user consents again.
var stalledByProvider = map[string]bool{
	bankingv1alpha1.ReasonConsentRevoked:          true,
	bankingv1alpha1.ReasonReauthorizationRequired: true,
	bankingv1alpha1.ReasonRefreshInterrupted:      true,
}

// awaitsFix is true for a stall a human fixes by editing a Secret or the spec, then
// changing the spec or setting the refresh-requested-at annotation: credentials the
// provider rejected (a missing Secret is re-checked on every reconcile instead) and a
// request the provider refused as invalid.
func awaitsFix(stalled *metav1.Condition) bool {
	return stalled.Reason == bankingv1alpha1.ReasonInvalidClientCredentials && strings.HasPrefix(stalled.Message, msgCredentialsRejected) ||
		stalled.Reason == bankingv1alpha1.ReasonInvalidRequest
}

// stallFacts is what heldStallHolds looks at.
type stallFacts struct {
	stalled    *metav1.Condition // the Stalled condition, nil when absent
	generation int64
	// consented: this reconcile redeemed a new consent.
	consented bool
	// requested: a refresh or check request is open.
	requested bool
	// reconsented: the token Secret holds a newer grant than the consent in status.
	reconsented bool
}

// heldStallHolds decides whether the stall of a consent whose tokens the operator
// holds stands: until the spec changes, a new consent arrives, or a request asks to
// try again.
func heldStallHolds(f stallFacts) stallHold {
	c := f.stalled
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != f.generation || f.consented {
		return stallLifted
	}
	fix := awaitsFix(c)
	if !stalledByProvider[c.Reason] && !fix || f.requested || f.reconsented {
		return stallLifted
	}
	if fix {
		return stallAwaitsFix
	}
	return stallAwaitsReconsent
}

// reconsented is true when the token Secret holds the grant of a newer consent than
// the one status describes: the user consented again.
func reconsented(c *bankingv1alpha1.ConsentStatus, hasTokens bool, grantedAt time.Time) bool {
	return hasTokens && c != nil && !grantedAt.IsZero() && !timeOf(c.GrantedAt).Equal(grantedAt)
}

// keptStep is what a consent the provider keeps needs next.
type keptStep int

const (
	// keptAwaitFix: stalled until a human fixes a Secret or the spec; no call.
	keptAwaitFix keptStep = iota
	// keptStartJourney: the provider has not assigned the connection its ids yet.
	keptStartJourney
	// keptWait: the next check is not due; what the last one found stands.
	keptWait
	// keptCheck: ask the provider where the consent stands.
	keptCheck
)

// keptFacts is what nextKeptStep looks at.
type keptFacts struct {
	stalled    *metav1.Condition
	generation int64
	// requested: a refresh or check request is open (a user came back, a webhook).
	requested bool
	// started: the provider assigned the connection its ids (consent journey begun).
	started bool
	// due is when the check schedule next allows a check (zero before the journey).
	due time.Time
	// windowEnded: an active consent's recorded end has passed.
	windowEnded bool
	now         time.Time
}

// nextKeptStep decides the step of a consent the provider keeps.
func nextKeptStep(f keptFacts) keptStep {
	if c := f.stalled; c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == f.generation && !f.requested && awaitsFix(c) {
		return keptAwaitFix
	}
	switch {
	case !f.started:
		return keptStartJourney
	case !f.requested && f.now.Before(f.due) && !f.windowEnded:
		return keptWait
	default:
		return keptCheck
	}
}

// linkValidFor is how long before its expiry a journey's link is renewed.
const linkValidFor = time.Minute

// journeyLinkCurrent is true while the published journey can still be used: a link
// exists, outlives the next minute and has not been handed off already. renewAt is
// when it must be renewed.
func journeyLinkCurrent(bc *bankingv1alpha1.BankConnection, now time.Time) (current bool, renewAt time.Time) {
	a := bc.Status.Authorization
	if a == nil || bc.Status.AuthorizationURL == "" || !a.ExpiresAt.After(now.Add(linkValidFor)) || journeyUsed(bc) {
		return false, time.Time{}
	}
	return true, a.ExpiresAt.Add(-linkValidFor)
}

// extendDue says whether autoExtend may ask the provider now (at most once per
// extendInterval), else when it may next.
func extendDue(lastAttempt, now time.Time) (bool, time.Time) {
	if !lastAttempt.IsZero() && now.Before(lastAttempt.Add(extendInterval)) {
		return false, lastAttempt.Add(extendInterval)
	}
	return true, time.Time{}
}

// refreshSkipped is true when a refresh cannot help: the consent behind the tokens
// has ended (stepConsentWindow stalls without calling the provider).
func refreshSkipped(known bool, c *bankingv1alpha1.ConsentStatus, now time.Time) bool {
	return known && c != nil && c.ExpiresAt != nil && !now.Before(c.ExpiresAt.Time)
}

// refreshState is what DecideRefresh looks at for a connection.
func refreshState(bc *bankingv1alpha1.BankConnection, expiresAt, lastRefresh time.Time, hasRefreshToken, forced bool) consent.RefreshState {
	st := consent.RefreshState{
		Key:             string(bc.UID),
		Policy:          orDefault(refreshPolicy(bc), bankingv1alpha1.RefreshPolicyKeepFresh),
		RenewBefore:     renewBefore(bc),
		TokenExpiresAt:  expiresAt,
		LastRefreshAt:   lastRefresh,
		Forced:          forced,
		HasRefreshToken: hasRefreshToken,
	}
	if tok := bc.Status.Token; tok != nil {
		st.FailedAttempts, st.LastFailureAt = tok.FailedAttempts, timeOf(tok.LastFailureAt)
	}
	return st
}

// revokeVerdict is what deletion does after a revocation attempt.
type revokeVerdict int

const (
	revokeDone      revokeVerdict = iota // revoked, or nothing left to revoke
	revokeRetry                          // the provider is unavailable: try again shortly
	revokeAbandoned                      // give up with a Warning: it may still be active
)

// revokeOutcome decides what follows a revocation attempt's err for a connection
// deleted at deletedAt: a consent the provider already ended needs nothing more; an
// outage is retried within revokeDeadline; anything else is given up with a Warning
// event, so a dead provider or missing credentials never block deletion.
func revokeOutcome(err error, deletedAt, now time.Time) revokeVerdict {
	if err == nil {
		return revokeDone
	}
	f := classifyFailure(err)
	switch {
	case f.kind == failureStall && f.reconsent:
		return revokeDone // the consent already ended at the provider
	case f.kind == failureStall:
		return revokeAbandoned // credentials missing or refused, or the request: waiting cannot help
	case now.Before(deletedAt.Add(revokeDeadline)):
		return revokeRetry // the provider or the apiserver is unavailable
	}
	return revokeAbandoned
}

// handoffVerdict decides a handed-over code's outcome before any provider call, when
// it can: a grant of this journey already stored (before a crash or a lost status
// write) is connected; a code of a replaced journey, or one that lapsed, fails.
// decided is false when the code must be redeemed at the provider.
func handoffVerdict(bc *bankingv1alpha1.BankConnection, h *bankingv1alpha1.HandoffStatus, storedThisJourney bool, now time.Time) (
	result bankingv1alpha1.JourneyResult, message string, decided bool) {
	switch a := bc.Status.Authorization; {
	case storedThisJourney:
		return bankingv1alpha1.JourneyConnected, "", true
	case a == nil || a.Nonce != h.Nonce:
		return bankingv1alpha1.JourneyFailed, "The journey was replaced by a newer one", true
	case !now.Before(h.ExpiresAt.Time):
		return bankingv1alpha1.JourneyFailed, "The authorization code expired before it could be redeemed", true
	}
	return "", "", false
}

// reauthenticationWanted is true when a browser that opened the current journey's
// link waits for the provider's re-authentication link and none was made for its
// request yet.
func reauthenticationWanted(bc *bankingv1alpha1.BankConnection, h *bankingv1alpha1.HandoffStatus, now time.Time) bool {
	a, req := bc.Status.Authorization, h.Reauthenticate
	return req != nil && a != nil && a.Nonce == h.Nonce && a.Reauthentication &&
		(a.ReauthenticationLink == nil || a.ReauthenticationLink.RequestID != req.ID) && now.Before(h.ExpiresAt.Time)
}
