package controllers_test

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// TestClientTokenSharedInSecret: Data API v3 connections of one client share one
// client-credentials token, kept in a managed Secret in the operator's namespace so
// replicas and restarts reuse it.
func TestClientTokenSharedInSecret(t *testing.T) {
	ns := newNamespace(t, "cctoken")
	for _, name := range []string{"uma", "vic"} {
		bc := newV3Connection(ns, name)
		create(t, bc)
		waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	}
	s := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: "consent-operator-state-key-client-tokens"}, s); err != nil {
		t.Fatalf("client token Secret: %v", err)
	}
	if s.Labels[bankingv1alpha1.LabelManagedBy] != bankingv1alpha1.ManagedByValue || len(s.Data) != 1 {
		t.Fatalf("client token Secret not labelled or not one entry: %+v", s.ObjectMeta)
	}
	for k, v := range s.Data {
		if strings.Contains(k, testClientID) || !strings.Contains(string(v), "access_token") {
			t.Fatalf("unexpected entry %q", k)
		}
	}
}
