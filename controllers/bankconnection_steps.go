package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// The steps both kinds of consent take (consentKind), and what they share.

// stepSuspend stops everything while spec.suspend is true, keeping Ready's status.
func (r *BankConnectionReconciler) stepSuspend(_ context.Context, s *connectionScope) (bool, error) {
	if !s.bc.Spec.Suspend {
		return false, nil
	}
	s.report.suspended("Suspended: no provider calls are made and tokens are not refreshed")
	return true, nil
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

// publishReconsent keeps an authorization link for a new consent journey and points
// status.reconsentURL at the stable connect link (or at link, when the provider gave one).
func (r *BankConnectionReconciler) publishReconsent(ctx context.Context, s *connectionScope, link string) error {
	if link != "" {
		s.bc.Status.ReconsentURL = link
		return nil
	}
	if err := s.kind.authorize(ctx, s); err != nil {
		var nh *connection.NeedsHumanError
		if errors.As(err, &nh) {
			return nil // already stalled for a reason a human must fix first
		}
		return err
	}
	s.bc.Status.ReconsentURL = s.bc.Status.ConnectURL
	return nil
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
