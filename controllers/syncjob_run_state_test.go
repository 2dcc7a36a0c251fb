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
		want  runAction
	}{
		{name: "a new run sends its connection-level fetches", want: runIssueConnectionData},
		{name: "connection data answered: the account fetches", run: bankingv1alpha1.ActiveRun{Phase: connectionData, Tasks: answered},
			want: runIssueAccountData},
		{name: "account data answered: the run ends", run: bankingv1alpha1.ActiveRun{Phase: accountData, Tasks: answered},
			want: runFinish},
		{name: "tasks pending, poll ahead, no webhook: wait", run: bankingv1alpha1.ActiveRun{Phase: accountData, Tasks: pending, NextPollAt: at(time.Minute)},
			want: runWaitForPoll},
		{name: "tasks pending, a webhook woke the run: collect", run: bankingv1alpha1.ActiveRun{Phase: accountData, Tasks: pending, NextPollAt: at(time.Minute)},
			woken: true, want: runCollect},
		{name: "tasks pending, the poll is due: collect", run: bankingv1alpha1.ActiveRun{Phase: connectionData, Tasks: pending, NextPollAt: at(0)},
			want: runCollect},
		{name: "tasks pending, the poll passed: collect", run: bankingv1alpha1.ActiveRun{Phase: connectionData, Tasks: pending, NextPollAt: at(-time.Second)},
			want: runCollect},
		{name: "tasks pending, no poll set: collect", run: bankingv1alpha1.ActiveRun{Phase: accountData, Tasks: pending},
			want: runCollect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextRunAction(&tc.run, tc.woken, now); got != tc.want {
				t.Fatalf("nextRunAction = %s, want %s", got, tc.want)
			}
		})
	}
}
