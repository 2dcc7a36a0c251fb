package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/conditions"
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

// phaseSuspend stops everything while spec.suspend is true, keeping Ready's status.
func (r *BankConnectionReconciler) phaseSuspend(_ context.Context, s *connectionScope) (bool, error) {
	if !s.bc.Spec.Suspend {
		return false, nil
	}
	status := metav1.ConditionUnknown
	if c := apimeta.FindStatusCondition(s.bc.Status.Conditions, bankingv1alpha1.ConditionReady); c != nil {
		status = c.Status
	}
	conditions.MarkAbnormal(&s.bc.Status.Conditions, s.bc.Generation, bankingv1alpha1.ConditionReconciling, false, "", "")
	s.setReady(status, bankingv1alpha1.ReasonSuspended, "Suspended: no provider calls are made and tokens are not refreshed")
	return true, nil
}

// phaseTokenSecret loads the token Secret (from the cache) and its encryption key.
func (r *BankConnectionReconciler) phaseTokenSecret(ctx context.Context, s *connectionScope) (bool, error) {
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

// phaseAuthorize publishes the authorization link while the user has not consented.
func (r *BankConnectionReconciler) phaseAuthorize(ctx context.Context, s *connectionScope) (bool, error) {
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
	conditions.MarkAbnormal(&bc.Status.Conditions, bc.Generation, bankingv1alpha1.ConditionStalled, false, "", "")
	conditions.MarkAbnormal(&bc.Status.Conditions, bc.Generation, bankingv1alpha1.ConditionReconciling, false, "", "")
	s.setReady(metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization,
		"Waiting for the user to consent at the link in status.connectURL")
	return true, nil
}

// ensureAuthorization keeps a journey the user can start in status: its link secret,
// the provider's link (with the PKCE challenge, without state: the gateway adds a
// state bound to the browser that opens status.connectURL) and its expiry.
func (r *BankConnectionReconciler) ensureAuthorization(ctx context.Context, s *connectionScope) error {
	bc := s.bc
	if a := bc.Status.Authorization; a != nil && bc.Status.AuthorizationURL != "" && a.ExpiresAt.After(s.now.Add(time.Minute)) && !journeyUsed(bc) {
		s.requeueAt(a.ExpiresAt.Add(-time.Minute))
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

// msgCredentialsRejected starts the Stalled message of credentials the provider
// refused (as opposed to a missing Secret, which is re-checked on every reconcile).
const msgCredentialsRejected = "The provider rejected the client credentials"

// stalledByProvider are the Stalled reasons a provider's answer caused; retrying
// cannot help until something changes.
var stalledByProvider = map[string]bool{
	bankingv1alpha1.ReasonConsentRevoked:          true,
	bankingv1alpha1.ReasonReauthorizationRequired: true,
	bankingv1alpha1.ReasonRefreshInterrupted:      true,
}

// phaseStalled keeps a connection the provider refused stalled, making no provider
// call, until something a human does could have fixed it: a spec change, a new
// consent journey, or a refresh request (the way to retry after fixing credentials).
func (r *BankConnectionReconciler) phaseStalled(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	c := apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != bc.Generation || s.consented {
		return false, nil
	}
	rejected := (c.Reason == bankingv1alpha1.ReasonInvalidClientCredentials && strings.HasPrefix(c.Message, msgCredentialsRejected)) ||
		c.Reason == bankingv1alpha1.ReasonInvalidRequest // both: fixed by a human, then a spec change or a refresh request
	if !stalledByProvider[c.Reason] && !rejected {
		return false, nil
	}
	if openRequest(bc).open() {
		return false, nil
	}
	if cs := bc.Status.Consent; s.snap.HasTokens && cs != nil && !s.snap.GrantedAt.IsZero() && !timeOf(cs.GrantedAt).Equal(s.snap.GrantedAt) {
		return false, nil // the user consented again
	}
	if rejected {
		return true, nil // fixed by editing the Secret, then requesting a refresh
	}
	if err := r.publishReconsent(ctx, s, ""); err != nil {
		return false, err
	}
	return true, nil
}

// phaseRecoverInterruptedRefresh notices a refresh that was cut off between the
// provider's answer and storing the new tokens, and forces a refresh to find out
// whether the stored refresh token still works.
func (r *BankConnectionReconciler) phaseRecoverInterruptedRefresh(ctx context.Context, s *connectionScope) (bool, error) {
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

// phaseRefresh refreshes the tokens when the policy says so.
func (r *BankConnectionReconciler) phaseRefresh(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	if !s.snap.HasTokens {
		return false, nil
	}
	if c := bc.Status.Consent; consentKnown(s) && !s.now.Before(c.ExpiresAt.Time) {
		return false, nil // expired: phaseConsentWindow stalls without calling the provider
	}
	tok := bc.Status.Token
	if tok == nil {
		tok = &bankingv1alpha1.TokenStatus{}
	}
	req := openRequest(bc)
	forced := req.open()
	d := consent.DecideRefresh(s.now, consent.RefreshState{
		Key:             string(bc.UID),
		Policy:          orDefault(refreshPolicy(bc), bankingv1alpha1.RefreshPolicyKeepFresh),
		RenewBefore:     renewBefore(bc),
		TokenExpiresAt:  s.snap.ExpiresAt,
		LastRefreshAt:   lastRefresh(s),
		FailedAttempts:  tok.FailedAttempts,
		LastFailureAt:   timeOf(tok.LastFailureAt),
		Forced:          forced || s.interrupted,
		HasRefreshToken: s.snap.HasRefreshToken,
	})
	if !d.Now {
		s.requeueAt(d.At)
		return false, nil
	}
	done, err := r.refresh(ctx, s)
	if forced && err == nil && (!done || apimeta.IsStatusConditionTrue(bc.Status.Conditions, bankingv1alpha1.ConditionStalled)) {
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
		pe, answered := provider.AsError(err)
		if answered && pe.Status != 0 {
			// The provider answered with an error: the stored refresh token still stands.
			if cerr := r.Tokens.ClearInFlight(ctx, bc); cerr != nil {
				return false, cerr
			}
		}
		r.Metrics.Refreshed(string(bc.Spec.Provider), err, string(provider.ClassOf(err)))
		// A token lost to an interrupted refresh stays the cause when a refresh request
		// retries it: the user must consent again either way.
		stalled := apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionStalled)
		lost := s.interrupted || stalled != nil && stalled.Status == metav1.ConditionTrue && stalled.Reason == bankingv1alpha1.ReasonRefreshInterrupted
		if lost && provider.ClassOf(err) == provider.ClassNeedsHuman {
			s.stall(bankingv1alpha1.ReasonRefreshInterrupted,
				"The refresh token was lost when a refresh was interrupted; the user must consent again at status.reconsentURL")
			return true, r.publishReconsent(ctx, s, "")
		}
		return r.fail(ctx, s, err)
	}
	if tokens.RefreshToken == "" {
		tokens.RefreshToken = held.RefreshToken
	}
	if err := r.Tokens.Save(ctx, bc, tokens, s.sealer, s.now); err != nil {
		// The marker stays: the next reconcile reports the interruption.
		return false, fmt.Errorf("storing refreshed tokens: %w", err)
	}
	r.Metrics.Refreshed(string(bc.Spec.Provider), nil, "")
	s.changed = true
	s.snap, s.interrupted = s.snap.WithTokens(tokens, s.now), false
	resetFailures(bc)
	d := consent.DecideRefresh(s.now, consent.RefreshState{
		Key: string(bc.UID), Policy: orDefault(refreshPolicy(bc), bankingv1alpha1.RefreshPolicyKeepFresh),
		RenewBefore: renewBefore(bc), TokenExpiresAt: tokens.ExpiresAt, LastRefreshAt: s.now,
		HasRefreshToken: tokens.RefreshToken != "",
	})
	s.requeueAt(d.At)
	return false, nil
}

// phaseConsentInfo reads the consent's times from the provider once per consent.
func (r *BankConnectionReconciler) phaseConsentInfo(ctx context.Context, s *connectionScope) (bool, error) {
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

// phaseConsentWindow places the consent in its life: valid, expiring (warn, publish a
// re-consent link, extend where allowed) or expired (stalled until the user consents).
func (r *BankConnectionReconciler) phaseConsentWindow(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	c := bc.Status.Consent
	if !consentKnown(s) {
		return false, nil
	}
	phase, next := consent.Window(s.now, c.ExpiresAt.Time, notifyBefore(bc))
	switch phase {
	case consent.PhaseExpired:
		c.Status = bankingv1alpha1.ConsentExpired
		conditions.Set(&bc.Status.Conditions, bc.Generation, bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionFalse,
			bankingv1alpha1.ReasonConsentExpired, "The consent has expired")
		s.stall(bankingv1alpha1.ReasonConsentExpired, "The consent has expired; the user must consent again at status.reconsentURL")
		return true, r.publishReconsent(ctx, s, "")

	case consent.PhaseExpiring:
		conditions.Set(&bc.Status.Conditions, bc.Generation, bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionTrue,
			bankingv1alpha1.ReasonConsentExpiringSoon, "The consent expires soon; send the user to status.reconsentURL")
		s.requeueAt(next)
		if bc.Spec.Reconsent != nil && bc.Spec.Reconsent.AutoExtend {
			extended, done, err := r.extend(ctx, s)
			if done || err != nil {
				return done, err
			}
			if extended {
				return r.phaseConsentWindow(ctx, s)
			}
		}
		if err := r.publishReconsent(ctx, s, ""); err != nil {
			return r.fail(ctx, s, err)
		}
		return false, nil

	default:
		conditions.Set(&bc.Status.Conditions, bc.Generation, bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionFalse,
			bankingv1alpha1.ReasonConsentValid, "The consent is valid beyond the warning window")
		clearJourney(bc)
		s.requeueAt(next)
		return false, nil
	}
}

// confirmFresh checks, before a provider call that changes state at the provider
// (refresh, extend), that the decision was made on the latest version of the object:
// the cache may not yet show the status a previous reconcile wrote. A stale view asks
// for a requeue instead of a second call.
func (r *BankConnectionReconciler) confirmFresh(ctx context.Context, s *connectionScope) error {
	latest := &bankingv1alpha1.BankConnection{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(s.bc), latest); err != nil {
		return fmt.Errorf("reading the latest BankConnection: %w", err)
	}
	if latest.ResourceVersion != s.bc.ResourceVersion {
		if s.changed {
			return errRequeue
		}
		return errStale // nothing changed yet: drop this reconcile's status too
	}
	return nil
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
	if last := timeOf(c.LastExtendAttemptAt); !last.IsZero() && s.now.Before(last.Add(extendInterval)) {
		s.requeueAt(last.Add(extendInterval))
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

// publishReconsent keeps an authorization link for a new consent journey and points
// status.reconsentURL at the stable connect link (or at link, when the provider gave one).
func (r *BankConnectionReconciler) publishReconsent(ctx context.Context, s *connectionScope, link string) error {
	if link != "" {
		s.bc.Status.ReconsentURL = link
		return nil
	}
	ensure := r.ensureAuthorization
	if keptByProvider(s.bc) {
		ensure = r.renewKeptLink
	}
	if err := ensure(ctx, s); err != nil {
		var nh *connection.NeedsHumanError
		if errors.As(err, &nh) {
			return nil // already stalled for a reason a human must fix first
		}
		return err
	}
	s.bc.Status.ReconsentURL = s.bc.Status.ConnectURL
	return nil
}

// phaseReady reports a usable connection. While a failed provider call is being
// retried with backoff, the failure's conditions stand until a call succeeds.
func (r *BankConnectionReconciler) phaseReady(_ context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	if t := bc.Status.Token; t != nil && t.FailedAttempts > 0 {
		return true, nil
	}
	if bc.Status.Consent != nil {
		bc.Status.Consent.Status = bankingv1alpha1.ConsentActive
	}
	conditions.MarkAbnormal(&bc.Status.Conditions, bc.Generation, bankingv1alpha1.ConditionStalled, false, "", "")
	conditions.MarkAbnormal(&bc.Status.Conditions, bc.Generation, bankingv1alpha1.ConditionReconciling, false, "", "")
	s.setReady(metav1.ConditionTrue, bankingv1alpha1.ReasonAuthorized,
		fmt.Sprintf("Consent active; Secret %s holds a valid access token", tokensecret.Name(bc)))
	return true, nil
}

// fail turns an error into conditions. Problems a human must fix stall the connection;
// provider outages and throttling back off (Ready keeps its status, the message says
// why); anything else (apiserver errors) is returned for controller-runtime's backoff.
func (r *BankConnectionReconciler) fail(ctx context.Context, s *connectionScope, err error) (bool, error) {
	bc := s.bc
	var nh *connection.NeedsHumanError
	if errors.As(err, &nh) {
		s.stall(nh.Reason, nh.Message)
		return true, nil
	}
	var unusable *tokensecret.UnusableError
	if errors.As(err, &unusable) {
		s.stall(bankingv1alpha1.ReasonTokenSecretUnusable, capitalize(unusable.Error()))
		return true, nil
	}
	pe, ok := provider.AsError(err)
	if !ok {
		return false, err
	}
	if pe.Class == provider.ClassNeedsHuman {
		reason := stallReason(pe.Reason)
		if c := bc.Status.Consent; c != nil {
			switch reason {
			case bankingv1alpha1.ReasonConsentExpired:
				c.Status = bankingv1alpha1.ConsentExpired
			case bankingv1alpha1.ReasonConsentRevoked:
				c.Status = bankingv1alpha1.ConsentRevoked
			}
		}
		s.stall(reason, stallMessage(reason, pe))
		if reason != bankingv1alpha1.ReasonInvalidClientCredentials {
			return true, r.publishReconsent(ctx, s, "")
		}
		return true, nil
	}

	if pe.Class == provider.ClassInvalidRequest {
		s.stall(bankingv1alpha1.ReasonInvalidRequest, msgInvalidRequest+pe.Error())
		return true, nil
	}

	tok := tokenStatus(bc)
	tok.FailedAttempts++
	tok.LastFailureAt = timePtr(s.now)
	// From the recorded (second-precision) failure time, as DecideRefresh computes it.
	retry := tok.LastFailureAt.Add(consent.Backoff(string(bc.UID), tok.FailedAttempts))
	if pe.RetryAfter > 0 && s.now.Add(pe.RetryAfter).After(retry) {
		retry = s.now.Add(pe.RetryAfter)
	}
	s.requeueAt(retry)
	reason := bankingv1alpha1.ReasonProviderUnavailable
	if pe.Class == provider.ClassRateLimited {
		reason = bankingv1alpha1.ReasonRateLimited
	}
	msg := fmt.Sprintf("Provider call failed, retrying with backoff: %s", pe.Error())
	status := metav1.ConditionUnknown
	if c := apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionReady); c != nil && c.Status == metav1.ConditionTrue &&
		(keptByProvider(bc) || s.snap.HasTokens && s.snap.ExpiresAt.After(s.now)) {
		status = metav1.ConditionTrue // the current token still works, or the provider keeps the consent
	}
	s.setReady(status, reason, msg)
	conditions.MarkAbnormal(&bc.Status.Conditions, bc.Generation, bankingv1alpha1.ConditionReconciling, true, reason, msg)
	return true, nil
}

// mayCall is false while the backoff after a failed provider call runs, so a status
// write (which triggers another reconcile) never causes an extra provider call.
func (r *BankConnectionReconciler) mayCall(s *connectionScope) bool {
	tok := s.bc.Status.Token
	if tok == nil || tok.FailedAttempts == 0 || tok.LastFailureAt == nil {
		return true
	}
	retry := tok.LastFailureAt.Add(consent.Backoff(string(s.bc.UID), tok.FailedAttempts))
	if s.now.Before(retry) {
		s.requeueAt(retry)
		return false
	}
	return true
}

func stallReason(providerReason string) string {
	switch providerReason {
	case provider.ReasonConsentExpired:
		return bankingv1alpha1.ReasonConsentExpired
	case provider.ReasonConsentRevoked:
		return bankingv1alpha1.ReasonConsentRevoked
	case provider.ReasonInvalidClientCredentials:
		return bankingv1alpha1.ReasonInvalidClientCredentials
	default:
		return bankingv1alpha1.ReasonReauthorizationRequired
	}
}

func stallMessage(reason string, pe *provider.Error) string {
	switch reason {
	case bankingv1alpha1.ReasonInvalidClientCredentials:
		return msgCredentialsRejected + "; fix the client Secret, then set the refresh-requested-at annotation: " + pe.Error()
	case bankingv1alpha1.ReasonConsentExpired:
		return "The consent has expired; the user must consent again at status.reconsentURL"
	case bankingv1alpha1.ReasonConsentRevoked:
		return "The consent was revoked; the user must consent again at status.reconsentURL"
	default:
		return "The provider requires the user to authorize again at status.reconsentURL: " + pe.Error()
	}
}

func tokenStatus(bc *bankingv1alpha1.BankConnection) *bankingv1alpha1.TokenStatus {
	if bc.Status.Token == nil {
		bc.Status.Token = &bankingv1alpha1.TokenStatus{}
	}
	return bc.Status.Token
}

func resetFailures(bc *bankingv1alpha1.BankConnection) {
	if bc.Status.Token != nil {
		bc.Status.Token.FailedAttempts = 0
		bc.Status.Token.LastFailureAt = nil
	}
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

func notifyBefore(bc *bankingv1alpha1.BankConnection) time.Duration {
	if bc.Spec.Reconsent == nil || bc.Spec.Reconsent.NotifyBefore == nil {
		return consent.DefaultNotifyBefore
	}
	return bc.Spec.Reconsent.NotifyBefore.Duration
}

// newNonce returns a journey's link secret.
func newNonce() (string, error) { return journey.NewLinkSecret() }

// clearJourney withdraws the journey and its links: nothing is left for a user to open.
func clearJourney(bc *bankingv1alpha1.BankConnection) {
	bc.Status.Authorization = nil
	bc.Status.AuthorizationURL = ""
	bc.Status.ConnectURL = ""
	bc.Status.ReconsentURL = ""
	bc.Status.Banks = nil
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
