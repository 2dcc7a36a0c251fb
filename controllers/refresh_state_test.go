package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
)

// TestRefreshState: what DecideRefresh sees is the spec's policy and lead time, or
// their defaults, the tokens' times, and the backoff recorded in status.token.
func TestRefreshState(t *testing.T) {
	expires := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	last := expires.Add(-time.Hour)
	failedAt := last.Add(time.Minute)
	cases := []struct {
		name   string
		spec   *bankingv1alpha1.RefreshSpec
		token  *bankingv1alpha1.TokenStatus
		forced bool
		want   consent.RefreshState
	}{
		{name: "defaults", want: consent.RefreshState{
			Policy: bankingv1alpha1.RefreshPolicyKeepFresh, RenewBefore: consent.DefaultRenewBefore}},
		{name: "policy without lead time", spec: &bankingv1alpha1.RefreshSpec{Policy: bankingv1alpha1.RefreshPolicyOnDemand},
			want: consent.RefreshState{Policy: bankingv1alpha1.RefreshPolicyOnDemand, RenewBefore: consent.DefaultRenewBefore}},
		{name: "lead time without policy", spec: &bankingv1alpha1.RefreshSpec{RenewBefore: &metav1.Duration{Duration: 7 * time.Minute}},
			want: consent.RefreshState{Policy: bankingv1alpha1.RefreshPolicyKeepFresh, RenewBefore: 7 * time.Minute}},
		{name: "failures and a forced refresh", forced: true,
			token: &bankingv1alpha1.TokenStatus{FailedAttempts: 3, LastFailureAt: timePtr(failedAt)},
			want: consent.RefreshState{Policy: bankingv1alpha1.RefreshPolicyKeepFresh, RenewBefore: consent.DefaultRenewBefore,
				Forced: true, FailedAttempts: 3, LastFailureAt: failedAt}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bc := &bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{UID: "uid-refresh"}}
			bc.Spec.Refresh = tc.spec
			bc.Status.Token = tc.token
			want := tc.want
			want.Key, want.TokenExpiresAt, want.LastRefreshAt, want.HasRefreshToken = "uid-refresh", expires, last, true
			if got := refreshState(bc, expires, last, true, tc.forced); got != want {
				t.Fatalf("refreshState =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}
