package controllers_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/sandbox"
)

func createCodatCredentials(t *testing.T, ns string) {
	t.Helper()
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "codat-client"},
		StringData: map[string]string{"api_key": testCodatAPIKey},
	})
}

// TestWrongCodatProviderIDIsInvalidRequest: a providerID that is not a Codat banking
// source is reported as what it is (Stalled, InvalidRequest, naming the source keys
// Codat offers), not retried forever as ProviderUnavailable; fixing the spec starts
// the journey.
func TestWrongCodatProviderIDIsInvalidRequest(t *testing.T) {
	ns := newNamespace(t, "codatbad")
	createCodatCredentials(t, ns)
	bc := newCodatConnection(ns, "xena")
	bc.Spec.ProviderID = "no-such-bank"
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonInvalidRequest))
	if err := hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonInvalidRequest)(bc); err != nil {
		t.Fatal(err)
	}
	if c := apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionReady); !strings.Contains(c.Message, `"no-such-bank"`) {
		t.Fatalf("the message does not say what is wrong: %q", c.Message)
	}
	if apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionReconciling) != nil {
		t.Fatal("Reconciling is present: the operator is still retrying")
	}
	assertNoCalls(t, bc, sandbox.CallFilter{})

	// Fixing the spec is what a human does: the journey starts.
	patch := client.MergeFrom(bc.DeepCopy())
	bc.Spec.ProviderID = "mock"
	if err := env.Client.Patch(context.Background(), bc, patch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
}

// TestSyncJobNeedsHumanReachesTheConnection: the user revokes the consent at the
// bank; the SyncJob's run meets it first. The job reports it on its own conditions
// and asks the connection to check, and the connection becomes Stalled.
func TestSyncJobNeedsHumanReachesTheConnection(t *testing.T) {
	ns := newNamespace(t, "revokedrun")
	bc := readyConnection(t, ns, "yara")
	connID := connectionID(t, bc)
	if err := sb.RevokeConnection(connID); err != nil {
		t.Fatal(err)
	}
	sj := newSyncJob(ns, "yara-once", "yara", "", bankingv1alpha1.SyncModeSync)
	create(t, sj)
	waitForRuns(t, sj, 1)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunFailed {
		t.Fatalf("run on a revoked consent: %+v", r)
	}
	ready := apimeta.FindStatusCondition(sj.Status.Conditions, bankingv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason == bankingv1alpha1.ReasonRunFailed {
		t.Fatalf("the job's Ready does not say a human must act: %+v", ready)
	}
	if !strings.Contains(ready.Message, "trace id ") {
		t.Fatalf("the job's message has no provider trace id: %q", ready.Message)
	}
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, ""))
}
