package controllers

// Consents the provider keeps server-side: TrueLayer Data API v3 (a data connection
// used with the client's shared client-credentials token and its Connection-Id) and
// Codat (a company holding a data connection to the bank). There are no per-user
// tokens, so there is no token Secret and nothing to refresh or extend: "authorised"
// is what the provider answers when asked (Client.Consent), and the reconciler asks
//
//   - while the user has not authorised yet, or must authorise again: on a schedule
//     that starts at every 30 s and slows down the longer the link goes unused
//     (consent.NextCheck), and at once when the gateway reports that the user came
//     back from the provider (the gateway's status.checkRequest);
//   - while the consent is active: hourly for Codat, to notice a revocation at the
//     bank; daily for v3, whose only check is a data call the bank may count
//     (probeDataConnection: the v3 document has no status endpoint), and at once when
//     a SyncJob meets the consent's end (it sets refresh-requested-at).
//
// SyncJobs of a v3 connection call the Data API with the TrueLayer client's shared
// client-credentials token (kept by the TrueLayer client, keyed by client id and
// secret) and status.providerRefs.dataConnectionID as Connection-Id; those of a Codat
// connection use the client Secret's api_key with the company and connection ids.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/budget"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// keptLinkTTL is how long the signed state in a kept consent's link stays valid. It
// is longer than authorizationTTL because the link itself does not change (Codat
// re-authorises through the same linkUrl; a v3 hosted page stays with its data
// connection): renewing it only re-signs the state Codat's redirect carries back.
const keptLinkTTL = 7 * 24 * time.Hour

// Stable messages of kept consents.
const (
	msgKeptAwaiting = "Waiting for the user to authorise at the link in status.connectURL; the operator confirms with the provider"
	msgKeptRevoked  = "The consent was revoked at the provider; the user must authorise again at status.reconsentURL"
	msgKeptExpired  = "The consent has expired; the user must authorise again at status.reconsentURL"
	msgV3Ended      = "The data connection is no longer authorised (Data API v3 does not say whether it expired or was revoked); the user must authorise a new one at status.reconsentURL"
	msgKeptV3Ready  = "Data connection authorised at TrueLayer; SyncJobs use the client's shared token with its Connection-Id (no token Secret)"
	msgCodatReady   = "Codat data connection Linked; SyncJobs read through Codat with the client Secret's api_key (no token Secret)"
	msgV3Expiring   = "The consent expires soon; Data API v3 has no extension, so the user authorises a new connection once it ends"
)

func isV3(bc *bankingv1alpha1.BankConnection) bool {
	return bc.Spec.Provider == bankingv1alpha1.ProviderTrueLayer && bc.Spec.DataAPI == bankingv1alpha1.DataAPIV3
}

// stepKeptByProvider runs the whole life of a consent the provider keeps: start the
// journey once, check with the provider when the schedule (or a request) says so,
// and map its answer to conditions.
func (r *BankConnectionReconciler) stepKeptByProvider(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	req := openRequest(bc)
	started := journeyStarted(bc)
	state := keptStateOf(s)
	var due time.Time
	if started {
		due = consent.NextCheck(checkState(bc, state, r.lastCheck(s, state), s.now))
	}
	step := nextKeptStep(keptFacts{stalled: s.condition(bankingv1alpha1.ConditionStalled), generation: bc.Generation,
		requested: req.open(), started: started, due: due, windowEnded: keptWindowEnded(s), now: s.now})
	switch step {
	case keptAwaitFix:
		return true, nil // fixed by a human, then a spec change or the refresh-requested-at annotation
	case keptStartJourney:
		return r.startKeptJourney(ctx, s, req)
	case keptWait:
		s.requeueAt(due)
		return true, r.restateKeptCheck(ctx, s, state)
	}
	if !r.mayCall(s) {
		return true, nil
	}
	return r.checkKeptConsent(ctx, s, state, req)
}

// lastCheck is when this process last asked the provider about the consent. After a
// restart the checks of active consents are spread over one interval instead of
// asking the provider about all of them at once.
func (r *BankConnectionReconciler) lastCheck(s *connectionScope, state consent.KeptState) time.Time {
	key := client.ObjectKeyFromObject(s.bc)
	last, seen := r.checks.get(key)
	if !seen && state == consent.KeptActive {
		last = s.now.Add(-consent.Jitter(string(s.bc.UID), consent.ActiveCheckInterval))
		r.checks.set(key, last)
	}
	return last
}

// startKeptJourney starts the journey at the provider: it assigns the connection its
// ids and the user's link.
func (r *BankConnectionReconciler) startKeptJourney(ctx context.Context, s *connectionScope, req checkRequest) (bool, error) {
	if !r.mayCall(s) {
		return true, nil
	}
	if req.open() {
		// Answered by this attempt; a transient failure's backoff retries it.
		req.handled(s.bc)
	}
	if err := r.ensureKeptLink(ctx, s, true); err != nil {
		return r.fail(ctx, s, err)
	}
	// Creating the journey is what a first check would learn (pending): the schedule
	// starts from it rather than asking again at once.
	r.checks.set(client.ObjectKeyFromObject(s.bc), s.now)
	awaitUser(s)
	r.scheduleCheck(s)
	return true, nil
}

// restateKeptCheck reports what the last check found while the next is not due (a
// failure's conditions stand until a call succeeds), and makes the re-consent link of
// a stall whose link could not be made yet.
func (r *BankConnectionReconciler) restateKeptCheck(ctx context.Context, s *connectionScope, state consent.KeptState) error {
	bc := s.bc
	if t := bc.Status.Token; t == nil || t.FailedAttempts == 0 {
		switch state {
		case consent.KeptPending:
			awaitUser(s)
		case consent.KeptActive:
			markKeptReady(s)
			applyKeptWindow(s)
		}
	}
	if state == consent.KeptStalled && bc.Status.AuthorizationURL == "" && r.mayCall(s) {
		return r.publishReconsent(ctx, s, "")
	}
	return nil
}

// checkKeptConsent asks the provider where the consent stands.
func (r *BankConnectionReconciler) checkKeptConsent(ctx context.Context, s *connectionScope, state consent.KeptState, req checkRequest) (bool, error) {
	bc := s.bc
	pc, conn, err := r.connection(ctx, s)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	key := client.ObjectKeyFromObject(bc)
	r.checks.set(key, s.now)
	done, err := r.applyKeptCheck(ctx, s, pc, conn, state, req)
	if errors.Is(err, errStale) {
		// What this check found is not written: check again on the latest object.
		r.checks.set(key, time.Time{})
	}
	return done, err
}

// applyKeptCheck asks the provider and maps its answer to status.
func (r *BankConnectionReconciler) applyKeptCheck(ctx context.Context, s *connectionScope, pc provider.Client, conn provider.Connection,
	state consent.KeptState, req checkRequest) (bool, error) {
	bc := s.bc
	if state == consent.KeptActive && isV3(bc) {
		// The check of an authorised v3 connection is a data call the bank counts.
		if fits, err := r.reserveV3Probe(ctx, s); err != nil || !fits {
			return true, err
		}
	}
	info, err := pc.Consent(ctx, conn, provider.Session{Refs: conn.Refs})
	forced := req.open()
	if forced && (err == nil || provider.ClassOf(err) == provider.ClassNeedsHuman) {
		// Handled; a transient failure keeps the request open for the backoff's retry.
		req.handled(bc)
	}
	if err != nil {
		return r.fail(ctx, s, err)
	}
	resetKeptFailures(bc)
	switch info.Status {
	case "Active":
		return r.keptConsentActive(ctx, s, pc, conn, info)
	case "Pending":
		if state == consent.KeptActive && isV3(bc) {
			// Not authorised any more: the probe cannot tell an expired consent from a
			// revoked one (probeDataConnection); either way the user authorises a new
			// connection.
			return r.stallKept(ctx, s, bankingv1alpha1.ReasonConsentExpired)
		}
		if reason, failed := req.failureReason(); forced && failed && isV3(bc) {
			return r.restartFailedV3(ctx, s, state, reason)
		}
		if state != consent.KeptStalled {
			awaitUser(s)
		} // else the re-consent link waits for the user and the stall stands
		r.scheduleCheck(s)
		return true, nil
	case "Expired":
		if state == consent.KeptPending && isV3(bc) {
			// The link lapsed before the user used it: a new journey, still pending.
			if err := r.ensureKeptLink(ctx, s, true); err != nil {
				return r.fail(ctx, s, err)
			}
			awaitUser(s)
			r.scheduleCheck(s)
			return true, nil
		}
		return r.stallKept(ctx, s, bankingv1alpha1.ReasonConsentExpired)
	case "Revoked":
		return r.stallKept(ctx, s, bankingv1alpha1.ReasonConsentRevoked)
	}
	return r.fail(ctx, s, &provider.Error{Class: provider.ClassRetryLater, Op: "consent", Code: "malformed_response",
		Description: "unknown consent status " + info.Status})
}

// restartFailedV3 answers a connection_failed webhook that the probe did not
// contradict (the connection is not authorised): a failed data connection cannot be
// authorised any more, so the user gets a new one's link, and an event says why.
func (r *BankConnectionReconciler) restartFailedV3(ctx context.Context, s *connectionScope, state consent.KeptState, reason string) (bool, error) {
	bc := s.bc
	if err := r.ensureKeptLink(ctx, s, true); err != nil {
		return r.fail(ctx, s, err)
	}
	msg := "The authorisation at the bank failed (" + reason + "); a new link is ready at status.connectURL"
	r.event(bc, corev1.EventTypeWarning, "AuthorizationFailed", "Authorize", msg)
	if state == consent.KeptStalled {
		r.scheduleCheck(s) // the stall stands; the re-consent link is the new one
		return true, nil
	}
	awaitUser(s)
	r.scheduleCheck(s)
	return true, nil
}

// reserveV3Probe records the check of an active v3 connection (probeDataConnection's
// data call) in the unattended-call ledger before it is sent, with the optimistic
// lock the SyncJob controller's reservations use, so the two never overspend the
// bank's four calls. When the endpoint's budget is spent the check waits for it.
func (r *BankConnectionReconciler) reserveV3Probe(ctx context.Context, s *connectionScope) (bool, error) {
	endpoint := string(provider.ResourceInfo)
	if !slices.Contains(s.bc.Spec.Scopes, bankingv1alpha1.ScopeInfo) {
		endpoint = string(provider.ResourceAccounts)
	}
	plan := budget.Plan{{Endpoint: endpoint}: 1}
	fits, freeAt := true, time.Time{}
	latest, err := patchConnectionStatus(ctx, r.Client, r.APIReader, client.ObjectKeyFromObject(s.bc), lockOnce,
		func(cur *bankingv1alpha1.BankConnection) (bool, error) {
			if cur.ResourceVersion != s.bc.ResourceVersion {
				return false, errStale // decided on an old copy: look again
			}
			if fits, freeAt = budget.Check(cur.Status.UnattendedCalls, plan, s.now); !fits {
				return false, nil
			}
			cur.Status.UnattendedCalls = budget.Reserve(cur.Status.UnattendedCalls, plan, s.now)
			return true, nil
		})
	switch {
	case errors.Is(err, errStale) || apierrors.IsConflict(err):
		return false, errStale // nothing was sent: look again on the latest object
	case err != nil:
		return false, fmt.Errorf("reserving the check's call: %w", err)
	case !fits:
		s.requeueAt(freeAt)
		return false, nil
	}
	// This reconcile's status patch must not write the ledger again: it was written
	// here, and a reservation after this one must not be undone.
	s.ledgerWritten = true
	s.changed = true
	s.bc.Status.UnattendedCalls = latest.Status.UnattendedCalls
	// The object differs from the one this reconcile read only by that write.
	s.bc.ResourceVersion = latest.ResourceVersion
	return true, nil
}

// keptConsentActive records an active consent and reports the connection Ready.
func (r *BankConnectionReconciler) keptConsentActive(ctx context.Context, s *connectionScope, pc provider.Client, conn provider.Connection, info provider.Consent) (bool, error) {
	bc := s.bc
	if bc.Spec.Provider == bankingv1alpha1.ProviderCodat && conn.Refs.CodatConnectionID == "" {
		// The user chose the bank in Codat Link: learn the connection it created.
		grant, err := pc.CompleteAuthorization(ctx, conn, provider.Callback{})
		if err != nil {
			return r.fail(ctx, s, err)
		}
		connection.MergeRefs(bc, grant.Refs)
	}
	bc.Status.Consent = &bankingv1alpha1.ConsentStatus{
		CreatedAt:    timePtr(info.CreatedAt),
		ExpiresAt:    timePtr(info.ExpiresAt),
		Status:       bankingv1alpha1.ConsentActive,
		ProviderID:   info.ProviderID,
		ProviderName: info.ProviderName,
	}
	clearJourney(bc)
	markKeptReady(s)
	if applyKeptWindow(s) == consent.WindowExpired {
		return r.stallKept(ctx, s, bankingv1alpha1.ReasonConsentExpired)
	}
	r.scheduleCheck(s)
	return true, nil
}

// markKeptReady reports an active consent kept by the provider.
func markKeptReady(s *connectionScope) {
	msg := msgCodatReady
	if isV3(s.bc) {
		msg = msgKeptV3Ready
	}
	s.report.ready(msg)
}

// applyKeptWindow sets ConsentExpiring from the consent's end, when the provider
// tells one (v3; Codat does not), and requeues at the window's next change.
func applyKeptWindow(s *connectionScope) consent.WindowState {
	bc := s.bc
	c := bc.Status.Consent
	if c == nil || c.ExpiresAt == nil {
		return consent.WindowUnknown
	}
	state, next := consent.Window(s.now, c.ExpiresAt.Time, notifyBefore(bc))
	switch state {
	case consent.WindowExpiring:
		s.report.placeWindow(consent.WindowExpiring, msgV3Expiring)
	case consent.WindowValid:
		s.report.placeWindow(consent.WindowValid, "")
	}
	s.requeueAt(next)
	return state
}

// keptWindowEnded is true when an active consent's recorded end has passed, so the
// provider is asked at once rather than at the next hourly check.
func keptWindowEnded(s *connectionScope) bool {
	c := s.bc.Status.Consent
	return c != nil && c.Status == bankingv1alpha1.ConsentActive && c.ExpiresAt != nil && !s.now.Before(c.ExpiresAt.Time)
}

// stallKept records a consent that ended at the provider and publishes a re-consent
// link: for Codat the same data connection's linkUrl, for v3 a new data connection
// (an ended one cannot be authorised again).
func (r *BankConnectionReconciler) stallKept(ctx context.Context, s *connectionScope, reason string) (bool, error) {
	bc := s.bc
	state, msg := bankingv1alpha1.ConsentRevoked, msgKeptRevoked
	if reason == bankingv1alpha1.ReasonConsentExpired {
		state, msg = bankingv1alpha1.ConsentExpired, msgKeptExpired
		if isV3(bc) {
			msg = msgV3Ended
		}
		s.report.placeWindow(consent.WindowExpired, "")
	}
	if bc.Status.Consent == nil {
		bc.Status.Consent = &bankingv1alpha1.ConsentStatus{}
	}
	bc.Status.Consent.Status = state
	s.report.stalled(reason, msg)
	if err := r.publishReconsent(ctx, s, ""); err != nil {
		return false, err
	}
	r.scheduleCheck(s)
	return true, nil
}

// renewKeptLink is publishReconsent's link for a consent the provider keeps. It is
// called when the provider said the consent ended: a v3 data connection that ended
// cannot be authorised again, so the user gets a new one; Codat re-authorises the
// same data connection through its linkUrl.
func (r *BankConnectionReconciler) renewKeptLink(ctx context.Context, s *connectionScope) error {
	return r.ensureKeptLink(ctx, s, isV3(s.bc))
}

// ensureKeptLink keeps the provider's link for the user in status. fresh starts a new
// journey at the provider (the first one, or a v3 connection replacing one that
// ended); otherwise the current link stands and only its signed state is renewed when
// it expires. Providers refs are recorded once: every call that may create something
// at the provider first confirms that the cached object is the latest, so a stale
// cache cannot create a second data connection or company.
func (r *BankConnectionReconciler) ensureKeptLink(ctx context.Context, s *connectionScope, fresh bool) error {
	bc := s.bc
	if !fresh && bc.Status.AuthorizationURL != "" {
		if a := bc.Status.Authorization; a != nil && a.ExpiresAt.After(s.now.Add(time.Minute)) {
			s.requeueAt(a.ExpiresAt.Add(-time.Minute))
			return nil
		}
		if isV3(bc) {
			// TrueLayer's v3 return carries no state: only the schedule's anchor moves.
			next, err := newKeptAuthorization(s.now)
			if err != nil {
				return err
			}
			bc.Status.Authorization = next
			bc.Status.ConnectURL = r.Links.ConnectURL(next.Nonce)
			if bc.Status.ReconsentURL != "" {
				bc.Status.ReconsentURL = bc.Status.ConnectURL
			}
			s.requeueAt(next.ExpiresAt.Add(-time.Minute))
			return nil
		}
	}
	pc, conn, err := r.connection(ctx, s)
	if err != nil {
		return err
	}
	if err := r.confirmFresh(ctx, s); err != nil {
		if errors.Is(err, errRequeue) {
			// Nothing this reconcile found has changed anything at the provider, so
			// its status is dropped rather than written over a newer one.
			return errStale
		}
		return err
	}
	next, err := newKeptAuthorization(s.now)
	if err != nil {
		return err
	}
	if fresh && isV3(bc) {
		conn.Refs.DataConnectionID = ""
	}
	// No state here: the gateway adds one (for Codat) when the user opens the link.
	auth, err := pc.BeginAuthorization(ctx, conn, "")
	if err != nil {
		return r.keptLinkFailed(s, err)
	}
	resetKeptFailures(bc)
	bc.Status.Authorization = next
	bc.Status.AuthorizationURL = auth.URL
	bc.Status.ConnectURL = r.Links.ConnectURL(next.Nonce)
	if bc.Status.ReconsentURL != "" {
		bc.Status.ReconsentURL = bc.Status.ConnectURL
	}
	connection.MergeRefs(bc, auth.Refs)
	s.requeueAt(next.ExpiresAt.Add(-time.Minute))
	return nil
}

// keptLinkFailed turns a transient failure to get a link into the connection's
// backoff (so the retry costs one provider call per step) while the conditions of
// the moment stand; other errors go to the caller.
func (r *BankConnectionReconciler) keptLinkFailed(s *connectionScope, err error) error {
	f := classifyFailure(err)
	if f.kind != failureRetry {
		return err // fail() stalls: a human must act
	}
	recordFailure(s, f.provider)
	s.report.linkRetry = &cause{f.reason, "Getting the link for the user failed, retrying with backoff: " + f.provider.Error()}
	return nil
}

func newKeptAuthorization(now time.Time) (*bankingv1alpha1.AuthorizationStatus, error) {
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	return &bankingv1alpha1.AuthorizationStatus{Nonce: nonce, ExpiresAt: metav1.NewTime(now.Add(keptLinkTTL).UTC().Truncate(time.Second))}, nil
}

// awaitUser reports a connection waiting for the user's first authorisation.
func awaitUser(s *connectionScope) {
	bc := s.bc
	bc.Status.Consent = &bankingv1alpha1.ConsentStatus{Status: bankingv1alpha1.ConsentPending}
	s.report.awaitingUser(msgKeptAwaiting)
}

// scheduleCheck requeues at the next check the schedule allows.
func (r *BankConnectionReconciler) scheduleCheck(s *connectionScope) {
	last, _ := r.checks.get(client.ObjectKeyFromObject(s.bc))
	s.requeueAt(consent.NextCheck(checkState(s.bc, keptStateOf(s), last, s.now)))
}

// checkState is what the check schedule looks at for bc. An active v3 connection is
// checked daily: its only check is a data call the bank may count.
func checkState(bc *bankingv1alpha1.BankConnection, state consent.KeptState, last, now time.Time) consent.CheckState {
	st := consent.CheckState{State: state, Since: linkIssuedAt(bc, now), Last: last}
	if isV3(bc) {
		st.ActiveInterval = consent.V3ActiveCheckInterval
	}
	return st
}

// journeyStarted is true once the provider assigned the connection its ids.
func journeyStarted(bc *bankingv1alpha1.BankConnection) bool {
	refs := connection.Refs(bc)
	if bc.Spec.Provider == bankingv1alpha1.ProviderCodat {
		return refs.CodatCompanyID != ""
	}
	return refs.DataConnectionID != ""
}

// keptStateOf is where a kept consent stands as this reconcile leaves it so far.
func keptStateOf(s *connectionScope) consent.KeptState {
	bc := s.bc
	switch {
	case s.stalledNow():
		return consent.KeptStalled
	case bc.Status.Consent != nil && bc.Status.Consent.Status == bankingv1alpha1.ConsentActive:
		return consent.KeptActive
	default:
		return consent.KeptPending
	}
}

// linkIssuedAt is when the user was given the current link: the anchor of the check
// schedule, kept in status (on the injected clock) so a restart does not reset it.
func linkIssuedAt(bc *bankingv1alpha1.BankConnection, now time.Time) time.Time {
	if a := bc.Status.Authorization; a != nil {
		return a.ExpiresAt.Add(-keptLinkTTL)
	}
	return now
}

// checkLedger remembers when this process last asked the provider about each kept
// consent. It lives in memory on purpose: writing the time of every check to status
// would make each poll an API write (and another reconcile); losing it on restart
// costs at most one early check per connection.
type checkLedger struct {
	mu   sync.Mutex
	last map[types.NamespacedName]time.Time
}

func (l *checkLedger) get(key types.NamespacedName) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.last[key]
	return t, ok
}

func (l *checkLedger) set(key types.NamespacedName, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = map[types.NamespacedName]time.Time{}
	}
	l.last[key] = t
}

func (l *checkLedger) forget(key types.NamespacedName) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.last, key)
}
