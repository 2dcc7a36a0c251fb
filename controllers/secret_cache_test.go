package controllers_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// TestManagerHoldsTokenSecretsAsMetadataOnly: the manager's cache holds token Secrets
// as metadata, with the facts the reconciler decides on, and no informer of whole
// Secrets: every read of whole Secrets through it is refused and counted. The test is
// parallel, so it runs after every other test of the suite has finished: a code path
// any of them exercised that read a whole Secret through the cache (a silent informer
// of every Secret's data) fails it.
func TestManagerHoldsTokenSecretsAsMetadataOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := newNamespace(t, "metadata-only")
	bc := readyConnection(t, ns, "mona")
	v := forceRefresh(t, bc)
	waitFor(t, bc, refreshHandled(v))

	guard, ok := managerCache.(*manager.SecretMetadataCache)
	if !ok {
		t.Fatalf("the manager's cache is a %T, not one that holds Secrets as metadata only", managerCache)
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := managerCache.List(ctx, list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != tokensecret.Name(bc) {
		t.Fatalf("the metadata informer holds %d Secrets in %s, want only %s", len(list.Items), ns, tokensecret.Name(bc))
	}
	for _, k := range []string{tokensecret.AnnotationExpiresAt, tokensecret.AnnotationHasRefreshToken, tokensecret.AnnotationRefreshedAt} {
		if list.Items[0].Annotations[k] == "" {
			t.Errorf("the cached token Secret has no %s annotation: %v", k, list.Items[0].Annotations)
		}
	}
	if _, err := managerCache.GetInformer(ctx, &corev1.Secret{}); !errors.Is(err, manager.ErrWholeSecret) {
		t.Errorf("an informer of whole Secrets: %v, want ErrWholeSecret", err)
	}
	// That refusal is the only one: nothing in the manager read a whole Secret through
	// its cache while the suite ran.
	if n := guard.Refused(); n != 1 {
		t.Errorf("%d reads of whole Secrets through the manager's cache were refused during the suite, want 0", n-1)
	}
}

// TestTokenSecretOfAnOlderVersion: a token Secret without the annotations this
// version decides on (written by an older one) still works: the reconciler reads it
// whole, refreshes when asked, and the refresh's write adds them.
func TestTokenSecretOfAnOlderVersion(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "older-secret")
	bc := readyConnection(t, ns, "olga")
	key := client.ObjectKey{Namespace: ns, Name: tokensecret.Name(bc)}
	sec := &corev1.Secret{}
	if err := env.Client.Get(ctx, key, sec); err != nil {
		t.Fatal(err)
	}
	delete(sec.Annotations, tokensecret.AnnotationExpiresAt)
	delete(sec.Annotations, tokensecret.AnnotationHasRefreshToken)
	if err := env.Client.Update(ctx, sec); err != nil {
		t.Fatal(err)
	}
	before := tokenCalls()
	v := forceRefresh(t, bc)
	waitFor(t, bc, refreshHandled(v))
	if err := env.Client.Get(ctx, key, sec); err != nil {
		t.Fatal(err)
	}
	if got := tokenCalls() - before; got != 1 {
		t.Fatalf("%d token calls for one refresh request, want 1", got)
	}
	if sec.Annotations[tokensecret.AnnotationExpiresAt] != string(sec.Data[tokensecret.KeyExpiresAt]) ||
		sec.Annotations[tokensecret.AnnotationHasRefreshToken] != "true" {
		t.Fatalf("the refresh did not record the facts: annotations %v, expires_at %s", sec.Annotations, sec.Data[tokensecret.KeyExpiresAt])
	}
}
