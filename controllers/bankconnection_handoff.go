package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// stepHandoff redeems the code the gateway handed over (status.handoff) for the
// current journey: it exchanges the code with the journey's PKCE verifier, stores the
// tokens first, and records the outcome the user's browser is waiting for in
// status.lastJourney. A re-consent that came back from another bank is undone at the
// provider and changes nothing here.
func (r *BankConnectionReconciler) stepHandoff(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	h := bc.Status.Handoff
	if h == nil || (bc.Status.LastJourney != nil && bc.Status.LastJourney.Nonce == h.Nonce) {
		return false, nil
	}
	if h.Code == "" {
		return false, r.answerReauthentication(ctx, s, h)
	}
	// The code is redeemed once: decide on the latest object, not a cache that may
	// not show the outcome a previous reconcile recorded.
	if err := r.confirmFresh(ctx, s); err != nil {
		return false, err
	}
	result, msg, err := r.redeem(ctx, s, h) // ctx is user-present (Reconcile)
	if err != nil {
		return false, err
	}
	bc.Status.LastJourney = &bankingv1alpha1.JourneyOutcome{Nonce: h.Nonce, Result: result, Message: msg,
		CompletedAt: metav1.NewTime(s.now.UTC().Truncate(time.Second))}
	s.changed = true
	// The journey is spent whatever its outcome; a new one is published if the
	// user still has to consent.
	clearJourney(bc)
	switch result {
	case bankingv1alpha1.JourneyConnected:
		s.consented = true
		log.FromContext(ctx).Info("Consent journey completed")
		if c := s.condition(bankingv1alpha1.ConditionReady); c != nil && c.Status == metav1.ConditionTrue {
			// Ready stays True, so the transition event does not fire: say it here,
			// once, for this consent.
			r.event(bc, corev1.EventTypeNormal, bankingv1alpha1.ReasonAuthorized, "Authorize", "The user consented again")
		}
	case bankingv1alpha1.JourneyDifferentBank:
		r.event(bc, corev1.EventTypeWarning, bankingv1alpha1.ReasonDifferentBank, "Authorize", msg)
	default:
		r.event(bc, corev1.EventTypeWarning, bankingv1alpha1.ReasonAuthorizationFailed, "Authorize", "The consent journey could not be completed: "+msg)
	}
	return false, nil
}

// redeem turns a handoff into tokens in the Secret. Outcomes the user must hear about
// are results; only apiserver trouble is an error (the handoff is then tried again,
// and the Secret's journey annotation keeps a stored grant from being redeemed twice).
func (r *BankConnectionReconciler) redeem(ctx context.Context, s *connectionScope, h *bankingv1alpha1.HandoffStatus) (bankingv1alpha1.JourneyResult, string, error) {
	bc := s.bc
	if result, msg, decided := handoffVerdict(bc, h, s.snap.HasTokens && s.snap.Journey == h.Nonce, s.now); decided {
		return result, msg, nil
	}
	code, err := r.Journeys.OpenCode(h.Code, journey.Binding{Namespace: bc.Namespace, Name: bc.Name, UID: string(bc.UID), Nonce: h.Nonce})
	if err != nil {
		return bankingv1alpha1.JourneyFailed, "The handed-over code could not be opened with the operator's journey key", nil
	}
	pc, conn, err := r.connection(ctx, s)
	if err != nil {
		if _, failed := r.fail(ctx, s, err); failed != nil {
			return "", "", failed
		}
		return bankingv1alpha1.JourneyFailed, "The connection's client credentials could not be used", nil
	}
	verifier, err := r.Journeys.Verifier(bc.Status.Authorization.KeyID, string(bc.UID), h.Nonce)
	if err != nil {
		return bankingv1alpha1.JourneyFailed, "The journey key this journey started with is no longer accepted", nil
	}
	grant, err := pc.CompleteAuthorization(ctx, conn, provider.Callback{Code: code, CodeVerifier: verifier})
	if err != nil {
		return bankingv1alpha1.JourneyFailed, capitalize(err.Error()), nil
	}
	if grant.Tokens == nil {
		return bankingv1alpha1.JourneyFailed, "The provider returned no tokens", nil
	}
	if prev := previousBank(s); prev != "" {
		return r.redeemReconsent(ctx, s, pc, conn, *grant.Tokens, prev, h.Nonce)
	}
	return bankingv1alpha1.JourneyConnected, "", r.storeGrant(ctx, s, *grant.Tokens, h.Nonce)
}

// redeemReconsent keeps a re-consent only when it comes from the bank the connection
// already holds: the new tokens are checked (TrueLayer /me) before they replace the
// old ones, and revoked at the provider otherwise. A crash between the exchange and
// this check loses only the new, unchecked grant: the old consent still works.
func (r *BankConnectionReconciler) redeemReconsent(ctx context.Context, s *connectionScope, pc provider.Client, conn provider.Connection,
	tokens provider.Tokens, prevBank, nonce string) (bankingv1alpha1.JourneyResult, string, error) {
	info, err := pc.Consent(ctx, conn, provider.Session{Tokens: &tokens, Refs: conn.Refs})
	if err == nil && info.ProviderID == prevBank {
		if err := r.storeGrant(ctx, s, tokens, nonce); err != nil {
			return "", "", err
		}
		// What /me said is the new consent: the later steps need not ask again.
		s.bc.Status.Consent = &bankingv1alpha1.ConsentStatus{
			CreatedAt: timePtr(info.CreatedAt), GrantedAt: timePtr(s.snap.GrantedAt), ExpiresAt: timePtr(info.ExpiresAt),
			Status: bankingv1alpha1.ConsentActive, ProviderID: info.ProviderID, ProviderName: info.ProviderName,
		}
		return bankingv1alpha1.JourneyConnected, "", nil
	}
	if rerr := pc.Revoke(ctx, conn, provider.Session{Tokens: &tokens, Refs: conn.Refs}); rerr != nil {
		log.FromContext(ctx).Error(rerr, "Revoking the tokens of a re-consent that could not be kept")
	}
	if err != nil {
		return bankingv1alpha1.JourneyFailed, "The bank of the new consent could not be checked: " + err.Error(), nil
	}
	return bankingv1alpha1.JourneyDifferentBank, fmt.Sprintf(
		"The user consented at %s but this connection is for %s; the new consent was revoked and the existing one kept", info.ProviderID, prevBank), nil
}

// storeGrant writes the tokens to the Secret (before anything else happens to them)
// and reloads the snapshot the later steps work from.
func (r *BankConnectionReconciler) storeGrant(ctx context.Context, s *connectionScope, t provider.Tokens, nonce string) error {
	bc := s.bc
	snap, err := r.Tokens.SaveGrant(ctx, bc, t, s.sealer, s.now, nonce, s.snap)
	if err != nil {
		return fmt.Errorf("storing the tokens of a consent: %w", err)
	}
	s.snap = snap
	return nil
}

// previousBank is the bank of the consent the connection holds, "" for a first consent.
func previousBank(s *connectionScope) string {
	if c := s.bc.Status.Consent; s.snap.HasTokens && c != nil {
		return c.ProviderID
	}
	return ""
}

// answerReauthentication makes the provider's re-authentication link for the browser
// that just opened the journey's link (h.Reauthenticate): the state the provider will
// keep is sealed for that browser, so only it can complete the journey. When the
// provider cannot re-authenticate the connection, the answer carries no link and the
// gateway sends the user through a full journey.
func (r *BankConnectionReconciler) answerReauthentication(ctx context.Context, s *connectionScope, h *bankingv1alpha1.HandoffStatus) error {
	bc := s.bc
	a, req := bc.Status.Authorization, h.Reauthenticate
	if !reauthenticationWanted(bc, h, s.now) {
		return nil // answered already, or no longer wanted
	}
	// Each answer opens a session at the provider: answer on the latest object only.
	if err := r.confirmFresh(ctx, s); err != nil {
		return err
	}
	link := ""
	pc, conn, err := r.connection(ctx, s)
	if err == nil {
		link, err = r.reauthenticationLink(ctx, s, pc, conn, req)
	}
	if err != nil {
		log.FromContext(ctx).V(1).Info("Re-authentication unavailable, the user gets a full journey", "reason", err.Error())
	}
	a.ReauthenticationLink = &bankingv1alpha1.ReauthenticationLink{RequestID: req.ID, URL: link}
	s.changed = true
	return nil
}

func (r *BankConnectionReconciler) reauthenticationLink(ctx context.Context, s *connectionScope, pc provider.Client, conn provider.Connection,
	req *bankingv1alpha1.ReauthenticationRequest) (string, error) {
	bc, a := s.bc, s.bc.Status.Authorization
	ra, ok := pc.(provider.Reauthorizer)
	if !ok {
		return "", fmt.Errorf("the provider has no re-authentication journey")
	}
	verifier, err := r.Journeys.Verifier(a.KeyID, string(bc.UID), a.Nonce)
	if err != nil {
		return "", err
	}
	conn.CodeChallenge = journey.Challenge(verifier)
	state, err := r.Journeys.SealState(journey.State{Namespace: bc.Namespace, Name: bc.Name, UID: string(bc.UID), Nonce: a.Nonce,
		Browser: req.Browser, Expiry: a.ExpiresAt.Time})
	if err != nil {
		return "", err
	}
	sess, err := r.session(ctx, s)
	if err != nil {
		return "", err
	}
	auth, err := ra.Reauthorize(ctx, conn, sess, state)
	if err != nil {
		return "", err
	}
	return auth.URL, nil
}

// canReauthenticate is true when a new journey of bc can be the provider's
// re-authentication: a provider that has one, and a consent whose refresh token and
// bank the connection still holds.
func canReauthenticate(s *connectionScope, pc provider.Client) bool {
	_, ok := pc.(provider.Reauthorizer)
	api := s.bc.Spec.DataAPI
	return ok && (api == "" || api == bankingv1alpha1.DataAPIV1) && previousBank(s) != "" && s.snap.HasRefreshToken
}
