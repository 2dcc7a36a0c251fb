package controllers

import (
	"context"
	"errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// failureKind is what an error means for a connection.
type failureKind int

const (
	// failureInternal: not the connection's (the apiserver, a bug); returned for
	// controller-runtime's backoff, the conditions unchanged.
	failureInternal failureKind = iota
	// failureStall: only a human can fix it; the connection stalls.
	failureStall
	// failureRetry: the provider failed or throttled; retried with the connection's backoff.
	failureRetry
)

// failure is the one classification of every error a connection's reconcile meets:
// missing or incomplete Secrets (connection.NeedsHumanError), an unusable token
// Secret (tokensecret.UnusableError) and the provider's classified errors, each with
// the condition reason it shows.
type failure struct {
	kind            failureKind
	reason, message string
	// reconsent is true when the user must consent again: a link is published.
	reconsent bool
	// consent is what the consent became at the provider ("" when unchanged).
	consent bankingv1alpha1.ConsentState
	// provider is the provider's error of a retried failure.
	provider *provider.Error
}

// msgCredentialsRejected starts the Stalled message of credentials the provider
// refused (as opposed to a missing Secret, which is re-checked on every reconcile).
const msgCredentialsRejected = "The provider rejected the client credentials"

// msgInvalidRequest starts the message of a connection Stalled with
// ReasonInvalidRequest; the provider's error (with its trace id) follows.
const msgInvalidRequest = "The provider refused a request as invalid: retrying cannot help; fix the spec (e.g. providerID) or the provider account, then change the spec or set the refresh-requested-at annotation: "

// classifyFailure says what err means for the connection.
func classifyFailure(err error) failure {
	var nh *connection.NeedsHumanError
	if errors.As(err, &nh) {
		return failure{kind: failureStall, reason: nh.Reason, message: nh.Message}
	}
	var unusable *tokensecret.UnusableError
	if errors.As(err, &unusable) {
		return failure{kind: failureStall, reason: bankingv1alpha1.ReasonTokenSecretUnusable, message: capitalize(unusable.Error())}
	}
	pe, ok := provider.AsError(err)
	switch {
	case !ok:
		return failure{kind: failureInternal}
	case pe.Class == provider.ClassNeedsHuman:
		reason := stallReason(pe.Reason)
		f := failure{kind: failureStall, reason: reason, message: stallMessage(reason, pe),
			reconsent: reason != bankingv1alpha1.ReasonInvalidClientCredentials}
		switch reason {
		case bankingv1alpha1.ReasonConsentExpired:
			f.consent = bankingv1alpha1.ConsentExpired
		case bankingv1alpha1.ReasonConsentRevoked:
			f.consent = bankingv1alpha1.ConsentRevoked
		}
		return f
	case pe.Class == provider.ClassInvalidRequest:
		return failure{kind: failureStall, reason: bankingv1alpha1.ReasonInvalidRequest, message: msgInvalidRequest + pe.Error()}
	}
	reason := bankingv1alpha1.ReasonProviderUnavailable
	if pe.Class == provider.ClassRateLimited {
		reason = bankingv1alpha1.ReasonRateLimited
	}
	return failure{kind: failureRetry, reason: reason, message: "Provider call failed, retrying with backoff: " + pe.Error(), provider: pe}
}

// stallReason is the condition reason of a provider's needs-a-human error.
func stallReason(providerReason string) string {
	switch providerReason {
	case provider.ReasonConsentExpired, provider.ReasonConsentRevoked, provider.ReasonInvalidClientCredentials:
		return providerReason // the API's own reasons
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

// fail records what err means for the connection: a stall (with a re-consent link
// where the user must consent again), or a retry with backoff (Ready keeps its status
// while the connection still works, the message says why). Anything else is returned
// for controller-runtime's backoff.
func (r *BankConnectionReconciler) fail(ctx context.Context, s *connectionScope, err error) (bool, error) {
	f := classifyFailure(err)
	bc := s.bc
	switch f.kind {
	case failureInternal:
		return false, err
	case failureStall:
		if c := bc.Status.Consent; c != nil && f.consent != "" {
			c.Status = f.consent
		}
		s.report.stalled(f.reason, f.message)
		if f.reconsent {
			return true, r.publishReconsent(ctx, s, "")
		}
		return true, nil
	}
	recordFailure(s, f.provider)
	usable := readyStatus(derivedConditions(bc, s.report)) == metav1.ConditionTrue && s.kind.usable(s)
	s.report.retrying(f.reason, f.message, usable)
	return true, nil
}
