package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// consentKind is what differs between the two kinds of consent a BankConnection can
// hold: tokens the operator keeps in a Secret (TrueLayer Data API v1 and Signup+;
// heldConsent, bankconnection_held.go) and a consent the provider keeps server-side
// (TrueLayer Data API v3 and Codat; keptConsent, bankconnection_kept.go). The
// reconciler asks the kind; it never tells them apart itself.
type consentKind interface {
	// steps are a reconcile's steps, in order.
	steps() []connectionStep
	// authorize keeps a link in status for the user to consent at again.
	authorize(ctx context.Context, s *connectionScope) error
	// usable is true while the connection works without a new answer from the provider
	// (Ready stays True while a failed call is retried).
	usable(s *connectionScope) bool
	// session is what a call on the user's behalf carries; false before the user consented.
	session(ctx context.Context, s *connectionScope) (provider.Session, bool, error)
	// revoke ends the consent at the provider on deletion. attempted is false when
	// there is nothing to end.
	revoke(ctx context.Context, s *connectionScope) (attempted bool, err error)
}

// kindOf returns the kind of bc's consent.
func (r *BankConnectionReconciler) kindOf(bc *bankingv1alpha1.BankConnection) consentKind {
	if consent.KeptByProvider(bc.Spec.Provider, bc.Spec.DataAPI) {
		return keptConsent{r}
	}
	return heldConsent{r}
}

// heldConsent is a consent whose tokens the operator holds in the token Secret.
type heldConsent struct{ r *BankConnectionReconciler }

func (k heldConsent) steps() []connectionStep {
	r := k.r
	return []connectionStep{
		r.stepSuspend,
		r.stepTokenSecret,
		r.stepHandoff,
		r.stepDebugID,
		r.stepStalled,
		r.stepAuthorize,
		r.stepRecoverInterruptedRefresh,
		r.stepConsentInfo,
		r.stepConsentWindow,
		r.stepRefresh,
		r.stepReady,
	}
}

func (k heldConsent) authorize(ctx context.Context, s *connectionScope) error {
	return k.r.ensureAuthorization(ctx, s)
}

func (heldConsent) usable(s *connectionScope) bool {
	return s.snap.HasTokens && s.snap.ExpiresAt.After(s.now)
}

// session reads the access token from the apiserver (the cache holds the token
// Secret's metadata only), at most once per reconcile.
func (k heldConsent) session(ctx context.Context, s *connectionScope) (provider.Session, bool, error) {
	if !s.snap.HasTokens {
		return provider.Session{}, false, nil
	}
	sess, err := k.r.session(ctx, s)
	return sess, err == nil, err
}

// revoke revokes with the stored tokens, read from the apiserver: a consent that
// ended or was never given has nothing to revoke.
func (k heldConsent) revoke(ctx context.Context, s *connectionScope) (bool, error) {
	r, bc := k.r, s.bc
	if c := bc.Status.Consent; c != nil && (c.Status == bankingv1alpha1.ConsentExpired || c.Status == bankingv1alpha1.ConsentRevoked) {
		return false, nil
	}
	sealer, err := r.Tokens.Sealer(ctx, bc)
	if err != nil {
		r.event(bc, corev1.EventTypeWarning, bankingv1alpha1.ReasonRevokeFailed, "Revoke", "Cannot read the token Secret to revoke the consent: "+err.Error())
		return false, nil
	}
	snap, err := r.Tokens.Load(ctx, bc, sealer, true)
	if err != nil || !snap.HasTokens {
		return false, nil // never authorized, or tokens unreadable: nothing to revoke with
	}
	s.sealer, s.snap = sealer, snap
	pc, conn, err := r.connection(ctx, s)
	if err != nil {
		return true, err
	}
	sess, err := r.session(ctx, s) // read whole above: no second read
	if err != nil {
		return true, err
	}
	return true, pc.Revoke(ctx, conn, sess)
}

// keptConsent is a consent the provider keeps: no tokens, the provider's ids in
// status.providerRefs.
type keptConsent struct{ r *BankConnectionReconciler }

func (k keptConsent) steps() []connectionStep {
	return []connectionStep{k.r.stepSuspend, k.r.stepDebugID, k.r.stepKeptByProvider}
}

func (k keptConsent) authorize(ctx context.Context, s *connectionScope) error {
	return k.r.renewKeptLink(ctx, s)
}

func (keptConsent) usable(*connectionScope) bool { return true }

func (keptConsent) session(_ context.Context, s *connectionScope) (provider.Session, bool, error) {
	return provider.Session{Refs: connection.Refs(s.bc)}, true, nil
}

// revoke deletes what the provider keeps, even when the consent ended (a Codat
// company or connection outlives a deauthorisation; an unauthorised v3 connection is
// deleted too).
func (k keptConsent) revoke(ctx context.Context, s *connectionScope) (bool, error) {
	bc := s.bc
	if !journeyStarted(bc) {
		return false, nil // no journey was started: nothing at the provider
	}
	pc, conn, err := k.r.connection(ctx, s)
	if err != nil {
		return true, err
	}
	conn.CodatDeleteCompany = bc.Annotations[bankingv1alpha1.AnnotationCodatDeleteCompany] == "true"
	return true, pc.Revoke(ctx, conn, provider.Session{Refs: conn.Refs})
}
