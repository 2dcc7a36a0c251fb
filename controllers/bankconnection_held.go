package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// authorizationTTL is how long an authorization link stays valid. Users get the
// stable connect URL; the link behind it is renewed when it expires.
const authorizationTTL = 24 * time.Hour

// extendInterval is how often autoExtend asks the provider while inside the window.
const extendInterval = 24 * time.Hour

// stepTokenSecret loads the token Secret (from the cache) and its encryption key.
func (r *BankConnectionReconciler) stepTokenSecret(ctx context.Context, s *connectionScope) (bool, error) {
	sealer, err := r.Tokens.Sealer(ctx, s.bc)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	snap, err := r.Tokens.Load(ctx, s.bc, sealer, false)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	s.sealer, s.snap = sealer, snap
	return false, nil
}

// stepAuthorize publishes the authorization link while the user has not consented.
func (r *BankConnectionReconciler) stepAuthorize(ctx context.Context, s *connectionScope) (bool, error) {
	if s.snap.HasTokens {
		return false, nil
	}
	if err := r.ensureAuthorization(ctx, s); err != nil {
		return r.fail(ctx, s, err)
	}
	bc := s.bc
	if bc.Status.Consent == nil {
		bc.Status.Consent = &bankingv1alpha1.ConsentStatus{}
	}
	bc.Status.Consent.Status = bankingv1alpha1.ConsentPending
	s.report.awaitingUser("Waiting for the user to consent at the link in status.connectURL")
	return true, nil
}

// ensureAuthorization keeps a journey the user can start in status: its link secret,
// the provider's link (with the PKCE challenge, without state: the gateway adds a
// state bound to the browser that opens status.connectURL) and its expiry.
func (r *BankConnectionReconciler) ensureAuthorization(ctx context.Context, s *connectionScope) error {
	bc := s.bc
	if current, renewAt := journeyLinkCurrent(bc, s.now); current {
		s.requeueAt(renewAt)
		return nil
	}
	if !r.mayCall(s) {
		return nil
	}
	// A new secret invalidates the link a user may already have opened: only issue one
	// when this reconcile saw the latest status (a lagging cache may just not show the
	// current link, or a handoff the gateway just wrote).
	if err := r.confirmFresh(ctx, s); err != nil {
		return err // errRequeue: look again at once, on the latest version
	}
	pc, conn, err := r.connection(ctx, s)
	if err != nil {
		return err
	}
	nonce, err := newNonce()
	if err != nil {
		return err
	}
	keyID := r.Journeys.ID()
	verifier, err := r.Journeys.Verifier(keyID, string(bc.UID), nonce)
	if err != nil {
		return fmt.Errorf("deriving the PKCE verifier: %w", err)
	}
	conn.CodeChallenge = journey.Challenge(verifier)
	expires := s.now.Add(authorizationTTL).UTC().Truncate(time.Second)
	auth, err := r.beginJourney(ctx, s, pc, conn)
	if err != nil {
		return err
	}
	banks, err := r.banksFor(ctx, s, pc, conn)
	if err != nil {
		return err
	}
	s.changed = true
	resetFailures(bc)
	bc.Status.Authorization = &bankingv1alpha1.AuthorizationStatus{Nonce: nonce, ExpiresAt: metav1.NewTime(expires), KeyID: keyID,
		Reauthentication: canReauthenticate(s, pc)}
	bc.Status.AuthorizationURL = auth.URL
	bc.Status.ConnectURL = r.Links.ConnectURL(nonce)
	bc.Status.Banks = banks
	connection.MergeRefs(bc, auth.Refs)
	s.requeueAt(expires.Add(-time.Minute))
	return nil
}

// beginJourney gets the provider's link for a journey; a user who already connected
// finds their bank preselected.
func (r *BankConnectionReconciler) beginJourney(ctx context.Context, s *connectionScope, pc provider.Client, conn provider.Connection) (provider.Authorization, error) {
	if conn.ProviderID == "" {
		conn.ProviderID = previousBank(s)
	}
	return pc.BeginAuthorization(ctx, conn, "")
}

// maxBanks bounds the bank list published in status (TrueLayer lists some hundreds).
const maxBanks = 500

// banksFor is the bank list of an application's own selection screen
// (spec.bankSelection Application), published with the journey; nil otherwise. A
// preselected bank (spec.providerID) needs no list.
func (r *BankConnectionReconciler) banksFor(ctx context.Context, s *connectionScope, pc provider.Client, conn provider.Connection) ([]bankingv1alpha1.Bank, error) {
	if s.bc.Spec.BankSelection != bankingv1alpha1.BankSelectionApplication || s.bc.Spec.ProviderID != "" {
		return nil, nil
	}
	lister, ok := pc.(provider.BankLister)
	if !ok {
		return nil, &provider.Error{Class: provider.ClassInvalidRequest, Op: "list banks",
			Description: "this provider offers no bank list for an application's own selection screen; use bankSelection Provider"}
	}
	list, err := lister.Banks(ctx, conn)
	if err != nil {
		return nil, err
	}
	out := make([]bankingv1alpha1.Bank, 0, min(len(list), maxBanks))
	for _, b := range list[:min(len(list), maxBanks)] {
		out = append(out, bankingv1alpha1.Bank{ID: b.ID, Name: b.Name, LogoURL: b.LogoURL, Country: b.Country})
	}
	return out, nil
}

// journeyUsed is true when the gateway handed off the current journey: its link is
// spent, and a new one is needed if the user must consent again.
func journeyUsed(bc *bankingv1alpha1.BankConnection) bool {
	a, h := bc.Status.Authorization, bc.Status.Handoff
	return a != nil && h != nil && h.Nonce == a.Nonce && h.Code != ""
}

// stepStalled keeps a connection the provider refused stalled, making no provider
// call, until something a human does could have fixed it: a spec change, a new
// consent journey, or a refresh request (the way to retry after fixing credentials).
func (r *BankConnectionReconciler) stepStalled(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	switch heldStallHolds(stallFacts{
		stalled: s.condition(bankingv1alpha1.ConditionStalled), generation: bc.Generation, consented: s.consented,
		requested: openRequest(bc).open(), reconsented: reconsented(bc.Status.Consent, s.snap.HasTokens, s.snap.GrantedAt),
	}) {
	case stallAwaitsFix:
		return true, nil // fixed by editing the Secret or the spec, then a spec change or a refresh request
	case stallAwaitsReconsent:
		return true, r.publishReconsent(ctx, s, "")
	}
	return false, nil
}

// stepRecoverInterruptedRefresh notices a refresh that was cut off between the
// provider's answer and storing the new tokens, and forces a refresh to find out
// whether the stored refresh token still works.
func (r *BankConnectionReconciler) stepRecoverInterruptedRefresh(ctx context.Context, s *connectionScope) (bool, error) {
	if !s.snap.InFlight {
		return false, nil
	}
	// The cache may lag behind the write that cleared the marker: confirm.
	fresh, err := r.Tokens.Load(ctx, s.bc, s.sealer, true)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	s.snap = fresh
	if fresh.InFlight {
		s.interrupted = true
		r.event(s.bc, "Warning", bankingv1alpha1.ReasonRefreshInterrupted, "Recover",
			"A token refresh was interrupted before its result was stored; refreshing again to check the stored refresh token")
	}
	return false, nil
}

// stepRefresh refreshes the tokens when the policy says so.
func (r *BankConnectionReconciler) stepRefresh(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	if !s.snap.HasTokens {
		return false, nil
	}
	if refreshSkipped(consentKnown(s), bc.Status.Consent, s.now) {
		return false, nil // ended: stepConsentWindow stalls without calling the provider
	}
	req := openRequest(bc)
	forced := req.open()
	d := consent.DecideRefresh(s.now, refreshState(bc, s.snap.ExpiresAt, lastRefresh(s), s.snap.HasRefreshToken, forced || s.interrupted))
	if !d.Now {
		s.requeueAt(d.At)
		return false, nil
	}
	done, err := r.refresh(ctx, s)
	if forced && err == nil && (!done || s.stalledNow()) {
		// Handled: refreshed, or failed in a way only a human can fix. A transient
		// failure keeps the request open, so it is retried with backoff.
		req.handled(bc)
	}
	return done, err
}

// refresh performs one refresh. The new refresh token is stored before anything else
// happens; the in-flight marker brackets the provider call.
func (r *BankConnectionReconciler) refresh(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	pc, conn, err := r.connection(ctx, s)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	if err := r.confirmFresh(ctx, s); err != nil {
		return false, err
	}
	fresh, err := r.Tokens.Load(ctx, bc, s.sealer, true)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	if !fresh.HasTokens || !s.interrupted && !fresh.ExpiresAt.Equal(s.snap.ExpiresAt) {
		return false, errRequeue // the cache lags behind a refresh that already happened
	}
	held, err := fresh.Tokens() // read whole just above
	if err != nil {
		return false, err
	}
	if err := r.Tokens.MarkInFlight(ctx, fresh, s.now); err != nil {
		if errors.Is(err, tokensecret.ErrChanged) {
			return false, errRequeue
		}
		return false, err
	}
	s.changed = true // whatever the provider answers, this reconcile's status must be written
	tokens, err := pc.Refresh(ctx, conn, held.RefreshToken)
	if err != nil {
		return r.refreshFailed(ctx, s, err)
	}
	if tokens.RefreshToken == "" {
		tokens.RefreshToken = held.RefreshToken
	}
	if err := r.Tokens.SaveRefreshed(ctx, bc, tokens, s.sealer, s.now, fresh); err != nil {
		// The marker stays: the next reconcile reports the interruption.
		return false, fmt.Errorf("storing refreshed tokens: %w", err)
	}
	r.Metrics.Refreshed(string(bc.Spec.Provider), nil, "")
	s.changed = true
	s.snap, s.interrupted = s.snap.WithTokens(tokens, s.now), false
	resetFailures(bc)
	s.requeueAt(consent.DecideRefresh(s.now, refreshState(bc, tokens.ExpiresAt, s.now, tokens.RefreshToken != "", false)).At)
	return false, nil
}

// refreshFailed handles a refresh the provider did not answer with tokens. An answer
// (an error status) means the stored refresh token still stands, so the in-flight
// marker goes; no answer leaves it, and the next reconcile finds the interruption.
func (r *BankConnectionReconciler) refreshFailed(ctx context.Context, s *connectionScope, err error) (bool, error) {
	bc := s.bc
	if pe, answered := provider.AsError(err); answered && pe.Status != 0 {
		if cerr := r.Tokens.ClearInFlight(ctx, bc); cerr != nil {
			return false, cerr
		}
	}
	r.Metrics.Refreshed(string(bc.Spec.Provider), err, string(provider.ClassOf(err)))
	// A token lost to an interrupted refresh stays the cause when a refresh request
	// retries it: the user must consent again either way.
	stalled := s.condition(bankingv1alpha1.ConditionStalled)
	lost := s.interrupted || stalled != nil && stalled.Status == metav1.ConditionTrue && stalled.Reason == bankingv1alpha1.ReasonRefreshInterrupted
	if lost && provider.ClassOf(err) == provider.ClassNeedsHuman {
		s.report.stalled(bankingv1alpha1.ReasonRefreshInterrupted,
			"The refresh token was lost when a refresh was interrupted; the user must consent again at status.reconsentURL")
		return true, r.publishReconsent(ctx, s, "")
	}
	return r.fail(ctx, s, err)
}

// stepConsentInfo reads the consent's times from the provider once per consent.
func (r *BankConnectionReconciler) stepConsentInfo(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	if consentKnown(s) {
		return false, nil
	}
	if !r.mayCall(s) {
		return true, nil
	}
	pc, conn, err := r.connection(ctx, s)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	sess, err := r.session(ctx, s)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	info, err := pc.Consent(ctx, conn, sess)
	if err != nil {
		return r.fail(ctx, s, err)
	}
	resetFailures(bc)
	prev := bc.Status.Consent
	bc.Status.Consent = &bankingv1alpha1.ConsentStatus{
		CreatedAt:    timePtr(info.CreatedAt),
		GrantedAt:    timePtr(s.snap.GrantedAt),
		ExpiresAt:    timePtr(info.ExpiresAt),
		Status:       bankingv1alpha1.ConsentActive,
		ProviderID:   info.ProviderID,
		ProviderName: info.ProviderName,
	}
	if prev != nil {
		bc.Status.Consent.LastExtendAttemptAt = prev.LastExtendAttemptAt
	}
	return false, nil
}

// stepConsentWindow places the consent in its life: valid, expiring (warn, publish a
// re-consent link, extend where allowed) or expired (stalled until the user consents).
func (r *BankConnectionReconciler) stepConsentWindow(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	c := bc.Status.Consent
	if !consentKnown(s) {
		return false, nil
	}
	state, next := consent.Window(s.now, c.ExpiresAt.Time, notifyBefore(bc))
	if state == consent.WindowExpiring && bc.Spec.Reconsent != nil && bc.Spec.Reconsent.AutoExtend {
		s.requeueAt(next)
		extended, done, err := r.extend(ctx, s)
		if done || err != nil {
			return done, err
		}
		if extended {
			state, next = consent.Window(s.now, c.ExpiresAt.Time, notifyBefore(bc)) // the extension's new end
		}
	}
	switch state {
	case consent.WindowExpired:
		c.Status = bankingv1alpha1.ConsentExpired
		s.report.placeWindow(consent.WindowExpired, "")
		s.report.stalled(bankingv1alpha1.ReasonConsentExpired, "The consent has expired; the user must consent again at status.reconsentURL")
		return true, r.publishReconsent(ctx, s, "")
	case consent.WindowExpiring:
		s.report.placeWindow(consent.WindowExpiring, "The consent expires soon; send the user to status.reconsentURL")
		s.requeueAt(next)
		if err := r.publishReconsent(ctx, s, ""); err != nil {
			return r.fail(ctx, s, err)
		}
		return false, nil
	default:
		s.report.placeWindow(consent.WindowValid, "")
		clearJourney(bc)
		s.requeueAt(next)
		return false, nil
	}
}

// consentKnown is true when status holds the times of the consent behind the current
// tokens: read, and not superseded by a newer consent journey.
func consentKnown(s *connectionScope) bool {
	c := s.bc.Status.Consent
	if c == nil || c.ExpiresAt == nil {
		return false
	}
	return s.snap.GrantedAt.IsZero() || timeOf(c.GrantedAt).Equal(s.snap.GrantedAt)
}

// extend asks the provider to extend the consent, at most once per extendInterval.
func (r *BankConnectionReconciler) extend(ctx context.Context, s *connectionScope) (extended, done bool, err error) {
	bc := s.bc
	c := bc.Status.Consent
	if due, at := extendDue(timeOf(c.LastExtendAttemptAt), s.now); !due {
		s.requeueAt(at)
		return false, false, nil
	}
	if !r.mayCall(s) {
		return false, true, nil
	}
	pc, conn, err := r.connection(ctx, s)
	if err == nil {
		conn.User, err = connection.EndUser(ctx, r.APIReader, bc)
	}
	if err != nil {
		done, err := r.fail(ctx, s, err)
		return false, done, err
	}
	if err := r.confirmFresh(ctx, s); err != nil {
		return false, false, err
	}
	c.LastExtendAttemptAt = timePtr(s.now)
	s.requeueAt(s.now.Add(extendInterval))
	s.changed = true
	sess, err := r.session(ctx, s)
	if err != nil {
		done, err := r.fail(ctx, s, err)
		return false, done, err
	}
	ext, err := pc.Extend(ctx, conn, sess)
	if err != nil {
		done, err := r.fail(ctx, s, err)
		return false, done, err
	}
	resetFailures(bc)
	if ext.Outcome != provider.ExtendNoActionNeeded {
		// The user must act. The provider's user_input_link would bring back a state
		// bound to no browser, so the user goes through a journey of the gateway's.
		return false, false, nil
	}
	if ext.Tokens != nil {
		if err := r.Tokens.Save(ctx, bc, *ext.Tokens, s.sealer, s.now); err != nil {
			return false, false, fmt.Errorf("storing tokens from the extension: %w", err)
		}
		s.snap = s.snap.WithTokens(*ext.Tokens, s.now)
	}
	if !ext.ExpiresAt.IsZero() {
		c.ExpiresAt = timePtr(ext.ExpiresAt)
	} else {
		c.ExpiresAt = nil // read the new end from the provider
		return false, false, errRequeue
	}
	bc.Status.ReconsentURL = ""
	r.event(bc, "Normal", bankingv1alpha1.ReasonConsentExtended, "Extend", "The consent was extended at the provider")
	return true, false, nil
}

// stepReady reports a usable connection. While a failed provider call is being
// retried with backoff, the failure's conditions stand until a call succeeds.
func (r *BankConnectionReconciler) stepReady(_ context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	if t := bc.Status.Token; t != nil && t.FailedAttempts > 0 {
		return true, nil
	}
	if bc.Status.Consent != nil {
		bc.Status.Consent.Status = bankingv1alpha1.ConsentActive
	}
	s.report.ready(fmt.Sprintf("Consent active; Secret %s holds a valid access token", tokensecret.Name(bc)))
	return true, nil
}

// session is what a provider call that needs the access token sends: the token Secret
// is read from the apiserver for it, at most once per reconcile (the cache holds the
// Secret's metadata only).
func (r *BankConnectionReconciler) session(ctx context.Context, s *connectionScope) (provider.Session, error) {
	t, err := r.Tokens.LoadTokens(ctx, s.bc, s.sealer, &s.snap)
	if err != nil {
		return provider.Session{}, err
	}
	return provider.Session{Tokens: &t, Refs: connection.Refs(s.bc)}, nil
}

// lastRefresh is when the refresh token was last used or issued.
func lastRefresh(s *connectionScope) time.Time {
	if !s.snap.RefreshedAt.IsZero() {
		return s.snap.RefreshedAt
	}
	if c := s.bc.Status.Consent; c != nil && c.CreatedAt != nil {
		return c.CreatedAt.Time
	}
	if s.snap.Meta != nil {
		return s.snap.Meta.CreationTimestamp.Time
	}
	return s.now
}

func refreshPolicy(bc *bankingv1alpha1.BankConnection) bankingv1alpha1.RefreshPolicy {
	if bc.Spec.Refresh == nil {
		return ""
	}
	return bc.Spec.Refresh.Policy
}

func renewBefore(bc *bankingv1alpha1.BankConnection) time.Duration {
	if bc.Spec.Refresh == nil || bc.Spec.Refresh.RenewBefore == nil {
		return consent.DefaultRenewBefore
	}
	return bc.Spec.Refresh.RenewBefore.Duration
}
