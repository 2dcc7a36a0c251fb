package controllers

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

func TestClassifyFailure(t *testing.T) {
	needsHuman := func(reason string) error {
		return fmt.Errorf("refresh: %w", &provider.Error{Class: provider.ClassNeedsHuman, Reason: reason, Op: "refresh", Status: 400, Code: "invalid_grant"})
	}
	// A Secret of the token Secret's name that the connection does not own.
	unusable := tokensecret.CheckOwned(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bank-tokens"}},
		&bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{Name: "bank", UID: "u1"}})
	tests := []struct {
		name      string
		err       error
		kind      failureKind
		reason    string
		reconsent bool
		consent   bankingv1alpha1.ConsentState
		message   string // a part of the message
	}{
		{"apiserver trouble is not the connection's", errors.New("etcdserver: request timed out"), failureInternal, "", false, "", ""},
		{"a missing client Secret stalls without a link", &connection.NeedsHumanError{Reason: bankingv1alpha1.ReasonInvalidClientCredentials, Message: "Client credentials Secret c not found"},
			failureStall, bankingv1alpha1.ReasonInvalidClientCredentials, false, "", "Secret c not found"},
		{"an unusable token Secret stalls", unusable, failureStall, bankingv1alpha1.ReasonTokenSecretUnusable, false, "", "Secret bank-tokens exists and is not this connection's"},
		{"an expired consent stalls with a link", needsHuman(provider.ReasonConsentExpired), failureStall, bankingv1alpha1.ReasonConsentExpired, true, bankingv1alpha1.ConsentExpired, "has expired"},
		{"a revoked consent stalls with a link", needsHuman(provider.ReasonConsentRevoked), failureStall, bankingv1alpha1.ReasonConsentRevoked, true, bankingv1alpha1.ConsentRevoked, "was revoked"},
		{"rejected credentials stall without a link", needsHuman(provider.ReasonInvalidClientCredentials), failureStall, bankingv1alpha1.ReasonInvalidClientCredentials, false, "", msgCredentialsRejected},
		{"a refusal at the bank asks for a new consent", needsHuman(provider.ReasonAccessDenied), failureStall, bankingv1alpha1.ReasonReauthorizationRequired, true, "", "authorize again"},
		{"an unexplained needs-a-human asks for a new consent", needsHuman(""), failureStall, bankingv1alpha1.ReasonReauthorizationRequired, true, "", "authorize again"},
		{"an invalid request stalls until the spec changes", &provider.Error{Class: provider.ClassInvalidRequest, Op: "GET /data/v1/me", Status: 400},
			failureStall, bankingv1alpha1.ReasonInvalidRequest, false, "", msgInvalidRequest},
		{"an outage is retried", &provider.Error{Class: provider.ClassRetryLater, Op: "refresh", Status: 503}, failureRetry, bankingv1alpha1.ReasonProviderUnavailable, false, "", "retrying with backoff"},
		{"throttling is retried", &provider.Error{Class: provider.ClassRateLimited, Op: "refresh", Status: 429, RetryAfter: time.Minute}, failureRetry, bankingv1alpha1.ReasonRateLimited, false, "", "HTTP 429"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := classifyFailure(tc.err)
			if f.kind != tc.kind || f.reason != tc.reason || f.reconsent != tc.reconsent || f.consent != tc.consent {
				t.Fatalf("classifyFailure = kind %d reason %q reconsent %v consent %q, want %d %q %v %q",
					f.kind, f.reason, f.reconsent, f.consent, tc.kind, tc.reason, tc.reconsent, tc.consent)
			}
			if !strings.Contains(f.message, tc.message) {
				t.Errorf("message %q does not contain %q", f.message, tc.message)
			}
			if tc.kind == failureRetry && f.provider == nil {
				t.Error("a retried failure carries no provider error (its Retry-After is lost)")
			}
		})
	}
}
