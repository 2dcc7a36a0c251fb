package controllers

import (
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
)

// cond is a condition's type, status and reason: what the table compares.
type cond struct {
	t      string
	status metav1.ConditionStatus
	reason string
}

// updateConditionsCase is one report and the conditions it should leave, from
// those before.
type updateConditionsCase struct {
	name   string
	before []metav1.Condition
	report func(*connectionReport)
	want   []cond
	absent []string
}

// The conditions a connection had before, written two generations ago.
var (
	priorReady       = metav1.Condition{Type: bankingv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: bankingv1alpha1.ReasonAuthorized, ObservedGeneration: 2}
	priorRevoked     = metav1.Condition{Type: bankingv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: bankingv1alpha1.ReasonConsentRevoked, ObservedGeneration: 2}
	priorStalled     = metav1.Condition{Type: bankingv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: bankingv1alpha1.ReasonConsentRevoked, ObservedGeneration: 2}
	priorReconciling = metav1.Condition{Type: bankingv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: bankingv1alpha1.ReasonProviderUnavailable, ObservedGeneration: 2}
)

func TestUpdateConditions(t *testing.T) {
	for _, theme := range []struct {
		name  string
		cases []updateConditionsCase
	}{
		{"outcomes", outcomeConditionsCases()},
		{"retries", retryConditionsCases()},
		{"consent window", windowConditionsCases()},
	} {
		t.Run(theme.name, func(t *testing.T) {
			for _, tc := range theme.cases {
				t.Run(tc.name, func(t *testing.T) { checkUpdateConditions(t, tc) })
			}
		})
	}
}

// outcomeConditionsCases: what each settled outcome of a reconcile leaves.
func outcomeConditionsCases() []updateConditionsCase {
	return []updateConditionsCase{
		{
			name: "first reconcile with nothing to say: Ready Unknown, Progressing",
			want: []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonProgressing}},
			absent: []string{bankingv1alpha1.ConditionStalled, bankingv1alpha1.ConditionReconciling,
				bankingv1alpha1.ConditionConsentExpiring},
		},
		{
			name:   "nothing to say: the conditions stand",
			before: []metav1.Condition{priorRevoked, priorStalled},
			want: []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonConsentRevoked},
				{bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentRevoked}},
		},
		{
			name:   "suspended keeps Ready's status and Stalled, drops Reconciling",
			before: []metav1.Condition{priorRevoked, priorStalled, priorReconciling},
			report: func(r *connectionReport) { r.suspended("Suspended") },
			want: []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonSuspended},
				{bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentRevoked}},
			absent: []string{bankingv1alpha1.ConditionReconciling},
		},
		{
			name:   "suspended before any status: Ready Unknown",
			report: func(r *connectionReport) { r.suspended("Suspended") },
			want:   []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonSuspended}},
		},
		{
			name:   "awaiting the user clears a stall and a retry",
			before: []metav1.Condition{priorRevoked, priorStalled, priorReconciling},
			report: func(r *connectionReport) { r.awaitingUser("Waiting") },
			want:   []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization}},
			absent: []string{bankingv1alpha1.ConditionStalled, bankingv1alpha1.ConditionReconciling},
		},
		{
			name:   "ready clears a stall and a retry",
			before: []metav1.Condition{priorRevoked, priorStalled, priorReconciling},
			report: func(r *connectionReport) { r.ready("Consent active") },
			want:   []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionTrue, bankingv1alpha1.ReasonAuthorized}},
			absent: []string{bankingv1alpha1.ConditionStalled, bankingv1alpha1.ConditionReconciling},
		},
		{
			name:   "stalled: Stalled and Ready False with the same reason, no Reconciling",
			before: []metav1.Condition{priorReady, priorReconciling},
			report: func(r *connectionReport) { r.stalled(bankingv1alpha1.ReasonConsentExpired, "expired") },
			want: []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonConsentExpired},
				{bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentExpired}},
			absent: []string{bankingv1alpha1.ConditionReconciling},
		},
	}
}

// retryConditionsCases: retries, and outcomes replacing each other.
func retryConditionsCases() []updateConditionsCase {
	return []updateConditionsCase{
		{
			name:   "retrying with a usable connection keeps Ready True and leaves Stalled",
			before: []metav1.Condition{priorReady},
			report: func(r *connectionReport) { r.retrying(bankingv1alpha1.ReasonRateLimited, "throttled", true) },
			want: []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionTrue, bankingv1alpha1.ReasonRateLimited},
				{bankingv1alpha1.ConditionReconciling, metav1.ConditionTrue, bankingv1alpha1.ReasonRateLimited}},
			absent: []string{bankingv1alpha1.ConditionStalled},
		},
		{
			name:   "retrying without a usable connection: Ready Unknown; a stall stands",
			before: []metav1.Condition{priorRevoked, priorStalled},
			report: func(r *connectionReport) { r.retrying(bankingv1alpha1.ReasonProviderUnavailable, "down", false) },
			want: []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonProviderUnavailable},
				{bankingv1alpha1.ConditionReconciling, metav1.ConditionTrue, bankingv1alpha1.ReasonProviderUnavailable},
				{bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentRevoked}},
		},
		{
			name: "a later outcome replaces an earlier one, usable included",
			report: func(r *connectionReport) {
				r.retrying(bankingv1alpha1.ReasonRateLimited, "throttled", true)
				r.stalled(bankingv1alpha1.ReasonConsentRevoked, "revoked")
			},
			want:   []cond{{bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonConsentRevoked}},
			absent: []string{bankingv1alpha1.ConditionReconciling},
		},
		{
			name: "a link being retried shows as Reconciling beside a stall",
			report: func(r *connectionReport) {
				r.stalled(bankingv1alpha1.ReasonConsentRevoked, "revoked")
				r.linkRetry = &cause{bankingv1alpha1.ReasonProviderUnavailable, "link failed"}
			},
			want: []cond{{bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentRevoked},
				{bankingv1alpha1.ConditionReconciling, metav1.ConditionTrue, bankingv1alpha1.ReasonProviderUnavailable}},
		},
		{
			name: "a retried provider call's Reconciling wins over a link retry",
			report: func(r *connectionReport) {
				r.linkRetry = &cause{bankingv1alpha1.ReasonProviderUnavailable, "link failed"}
				r.retrying(bankingv1alpha1.ReasonRateLimited, "throttled", false)
			},
			want: []cond{{bankingv1alpha1.ConditionReconciling, metav1.ConditionTrue, bankingv1alpha1.ReasonRateLimited}},
		},
	}
}

// windowConditionsCases: the consent window placed, or not.
func windowConditionsCases() []updateConditionsCase {
	return []updateConditionsCase{
		{
			name:   "window valid",
			report: func(r *connectionReport) { r.placeWindow(consent.WindowValid, "") },
			want:   []cond{{bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionFalse, bankingv1alpha1.ReasonConsentValid}},
		},
		{
			name:   "window expiring",
			report: func(r *connectionReport) { r.placeWindow(consent.WindowExpiring, "soon") },
			want:   []cond{{bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentExpiringSoon}},
		},
		{
			name:   "window expired",
			before: []metav1.Condition{{Type: bankingv1alpha1.ConditionConsentExpiring, Status: metav1.ConditionTrue, Reason: bankingv1alpha1.ReasonConsentExpiringSoon}},
			report: func(r *connectionReport) { r.placeWindow(consent.WindowExpired, "") },
			want:   []cond{{bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionFalse, bankingv1alpha1.ReasonConsentExpired}},
		},
		{
			name:   "window not placed: ConsentExpiring stands",
			before: []metav1.Condition{{Type: bankingv1alpha1.ConditionConsentExpiring, Status: metav1.ConditionTrue, Reason: bankingv1alpha1.ReasonConsentExpiringSoon}},
			report: func(r *connectionReport) { r.ready("ok") },
			want:   []cond{{bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentExpiringSoon}},
		},
	}
}

// checkUpdateConditions applies tc's report to its conditions and compares.
func checkUpdateConditions(t *testing.T, tc updateConditionsCase) {
	const gen = 3
	var rep connectionReport
	if tc.report != nil {
		tc.report(&rep)
	}
	conds := append([]metav1.Condition(nil), tc.before...)
	updateConditions(&conds, gen, rep)
	for _, w := range tc.want {
		c := apimeta.FindStatusCondition(conds, w.t)
		if c == nil {
			t.Fatalf("%s missing in %+v", w.t, conds)
		}
		if c.Status != w.status || c.Reason != w.reason {
			t.Errorf("%s = %s/%s, want %s/%s", w.t, c.Status, c.Reason, w.status, w.reason)
		}
	}
	for _, a := range tc.absent {
		if c := apimeta.FindStatusCondition(conds, a); c != nil {
			t.Errorf("%s present (%s/%s), want absent", a, c.Status, c.Reason)
		}
	}
	if rep.outcome != outcomeNone {
		if c := apimeta.FindStatusCondition(conds, bankingv1alpha1.ConditionReady); c.ObservedGeneration != gen {
			t.Errorf("Ready observedGeneration = %d, want %d", c.ObservedGeneration, gen)
		}
	}
}

// TestDerivedConditionsLeaveStatusAlone: a step reading the conditions as the report
// leaves them must not write them.
func TestDerivedConditionsLeaveStatusAlone(t *testing.T) {
	bc := &bankingv1alpha1.BankConnection{}
	bc.Generation = 1
	var rep connectionReport
	rep.stalled(bankingv1alpha1.ReasonConsentRevoked, "revoked")
	if got := readyStatus(derivedConditions(bc, rep)); got != metav1.ConditionFalse {
		t.Fatalf("derived Ready = %s, want False", got)
	}
	if len(bc.Status.Conditions) != 0 {
		t.Fatalf("derivedConditions wrote status: %+v", bc.Status.Conditions)
	}
}
