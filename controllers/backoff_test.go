package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// TestMayCall: a provider call waits out the backoff after a failure, and the
// reconcile then asks to look again when the backoff ends, not before.
func TestMayCall(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const uid = "uid-may-call"
	retry := consent.RetryAt(uid, 2, now.Add(-time.Second), 0)
	cases := []struct {
		name     string
		token    *bankingv1alpha1.TokenStatus
		want     bool
		deadline time.Time // zero: no requeue asked for
	}{
		{name: "no token status", want: true},
		{name: "no failures", token: &bankingv1alpha1.TokenStatus{}, want: true},
		{name: "failures without a time", token: &bankingv1alpha1.TokenStatus{FailedAttempts: 2}, want: true},
		{name: "inside the backoff", want: false, deadline: retry,
			token: &bankingv1alpha1.TokenStatus{FailedAttempts: 2, LastFailureAt: timePtr(now.Add(-time.Second))}},
		{name: "backoff over", want: true,
			token: &bankingv1alpha1.TokenStatus{FailedAttempts: 2, LastFailureAt: timePtr(now.Add(-24 * time.Hour))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bc := &bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{UID: uid}}
			bc.Status.Token = tc.token
			s := &connectionScope{bc: bc, now: now}
			if got := (&BankConnectionReconciler{}).mayCall(s); got != tc.want {
				t.Fatalf("mayCall = %v, want %v", got, tc.want)
			}
			switch {
			case tc.deadline.IsZero() && len(s.deadlines) != 0:
				t.Fatalf("requeue at %v, want none", s.deadlines)
			case !tc.deadline.IsZero() && (len(s.deadlines) != 1 || !s.deadlines[0].Equal(tc.deadline)):
				t.Fatalf("requeue at %v, want [%v]", s.deadlines, tc.deadline)
			}
		})
	}
}

// TestRecordFailure: each failure counts once, at the reconcile's time, whether or not
// one was recorded before, and the requeue honours the provider's Retry-After when that
// is later than the backoff.
func TestRecordFailure(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		token *bankingv1alpha1.TokenStatus
		want  int32
	}{
		{name: "first failure", want: 1},
		{name: "after one", token: &bankingv1alpha1.TokenStatus{FailedAttempts: 1}, want: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bc := &bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{UID: types.UID("uid-record")}}
			bc.Status.Token = tc.token
			s := &connectionScope{bc: bc, now: now}
			recordFailure(s, &provider.Error{RetryAfter: 6 * time.Hour})
			tok := bc.Status.Token
			if tok == nil || tok.FailedAttempts != tc.want || tok.LastFailureAt == nil || !tok.LastFailureAt.Time.Equal(now) {
				t.Fatalf("token status = %+v, want %d attempts at %v", tok, tc.want, now)
			}
			if len(s.deadlines) != 1 || !s.deadlines[0].Equal(now.Add(6*time.Hour)) {
				t.Fatalf("requeue at %v, want the Retry-After %v", s.deadlines, now.Add(6*time.Hour))
			}
		})
	}
}

// TestResetFailures: a success forgets the failures; for a consent the provider
// keeps, whose status.token holds nothing else, status.token goes altogether.
func TestResetFailures(t *testing.T) {
	failed := func() *bankingv1alpha1.TokenStatus {
		return &bankingv1alpha1.TokenStatus{FailedAttempts: 3, LastFailureAt: timePtr(time.Unix(1, 0))}
	}
	cases := []struct {
		name  string
		token *bankingv1alpha1.TokenStatus
		kept  bool
		want  *bankingv1alpha1.TokenStatus
	}{
		{name: "held, nothing recorded", token: nil, want: nil},
		{name: "held, failures cleared", token: failed(), want: &bankingv1alpha1.TokenStatus{}},
		{name: "kept, emptied status goes", token: failed(), kept: true, want: nil},
		{name: "kept, nothing recorded", token: nil, kept: true, want: nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bc := &bankingv1alpha1.BankConnection{}
			bc.Status.Token = tc.token
			if tc.kept {
				resetKeptFailures(bc)
			} else {
				resetFailures(bc)
			}
			if (bc.Status.Token == nil) != (tc.want == nil) || (tc.want != nil && *bc.Status.Token != *tc.want) {
				t.Fatalf("status.token = %+v, want %+v", bc.Status.Token, tc.want)
			}
		})
	}
}
