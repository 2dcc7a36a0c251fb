package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

func TestNextRunStep(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }
	pending := []bankingv1alpha1.ProviderTask{{TaskID: "done", Done: true}, {TaskID: "open"}}
	answered := []bankingv1alpha1.ProviderTask{{TaskID: "done", Done: true}}
	const (
		connectionData = bankingv1alpha1.RunPhaseConnectionData
		accountData    = bankingv1alpha1.RunPhaseAccountData
	)
	tests := []struct {
		name  string
		run   bankingv1alpha1.ActiveRun
		woken bool
		want  runStep
	}{
		{name: "a new run sends its connection-level fetches", want: stepIssueConnectionData},
		{name: "connection data answered: the account fetches", run: bankingv1alpha1.ActiveRun{Phase: connectionData, Tasks: answered},
			want: stepIssueAccountData},
		{name: "account data answered: the run ends", run: bankingv1alpha1.ActiveRun{Phase: accountData, Tasks: answered},
			want: stepFinish},
		{name: "tasks pending, poll ahead, no webhook: wait", run: bankingv1alpha1.ActiveRun{Phase: accountData, Tasks: pending, NextPollAt: at(time.Minute)},
			want: stepWaitForPoll},
		{name: "tasks pending, a webhook woke the run: collect", run: bankingv1alpha1.ActiveRun{Phase: accountData, Tasks: pending, NextPollAt: at(time.Minute)},
			woken: true, want: stepCollect},
		{name: "tasks pending, the poll is due: collect", run: bankingv1alpha1.ActiveRun{Phase: connectionData, Tasks: pending, NextPollAt: at(0)},
			want: stepCollect},
		{name: "tasks pending, the poll passed: collect", run: bankingv1alpha1.ActiveRun{Phase: connectionData, Tasks: pending, NextPollAt: at(-time.Second)},
			want: stepCollect},
		{name: "tasks pending, no poll set: collect", run: bankingv1alpha1.ActiveRun{Phase: accountData, Tasks: pending},
			want: stepCollect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextStep(&tc.run, tc.woken, now); got != tc.want {
				t.Fatalf("nextStep = %s, want %s", got, tc.want)
			}
		})
	}
}
