package manager_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/scheme"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// TestCacheAdmitsOnlyTokenSecrets: a tenant labels a 1 MiB Secret as managed by the
// operator; it never enters the manager's cache, while a token Secret does (its
// metadata: the cache holds no whole Secret).
func TestCacheAdmitsOnlyTokenSecrets(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := "tenant-a"
	createNamespace(ctx, t, ns)
	managed := map[string]string{bankingv1alpha1.LabelManagedBy: bankingv1alpha1.ManagedByValue}
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "foreign-big", Labels: managed}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"junk": bytes.Repeat([]byte("x"), 1<<20-1024)}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "unlabelled-token"}, Type: bankingv1alpha1.SecretTypeToken},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "alice-token", Labels: managed}, Type: bankingv1alpha1.SecretTypeToken},
	} {
		if err := env.Client.Create(ctx, s); err != nil {
			t.Fatalf("creating %s: %v", s.Name, err)
		}
	}
	c, err := manager.NewCache(env.Config, func() cache.Options {
		o := manager.CacheOptions(manager.DefaultOptions())
		o.Scheme = scheme.New()
		return o
	}())
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	testenv.Eventually(t, 10*time.Second, func() error {
		// The manager holds Secrets as metadata only: the selection applies there.
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		if err := c.List(ctx, list); err != nil {
			return err
		}
		var names []string
		for _, s := range list.Items {
			names = append(names, s.Name)
		}
		if len(names) != 1 || names[0] != "alice-token" {
			t.Fatalf("the cache holds %v, want only alice-token", names)
		}
		return nil
	})
}

// TestCacheRefusesWholeSecrets: every way of reading whole Secrets through the
// manager's cache (which would start an informer of their data beside the metadata
// one) fails and is counted, while metadata reads work.
func TestCacheRefusesWholeSecrets(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := manager.CacheOptions(manager.DefaultOptions())
	o.Scheme = scheme.New()
	c, err := manager.NewCache(env.Config, o)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	secretGVK := corev1.SchemeGroupVersion.WithKind("Secret")
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(secretGVK)
	key := client.ObjectKey{Namespace: "default", Name: "any"}
	refusals := []struct {
		name string
		read func() error
	}{
		{"Get", func() error { return c.Get(ctx, key, &corev1.Secret{}) }},
		{"Get unstructured", func() error { return c.Get(ctx, key, u) }},
		{"List", func() error { return c.List(ctx, &corev1.SecretList{}) }},
		{"GetInformer", func() error { _, err := c.GetInformer(ctx, &corev1.Secret{}); return err }},
		{"GetInformerForKind", func() error { _, err := c.GetInformerForKind(ctx, secretGVK); return err }},
		{"IndexField", func() error {
			return c.IndexField(ctx, &corev1.Secret{}, "type", func(client.Object) []string { return nil })
		}},
	}
	guard := c.(*manager.SecretMetadataCache)
	for i, tc := range refusals {
		if err := tc.read(); !errors.Is(err, manager.ErrWholeSecret) {
			t.Errorf("%s of whole Secrets: %v, want ErrWholeSecret", tc.name, err)
		}
		if got := guard.Refused(); got != int64(i+1) {
			t.Errorf("after %s, Refused() = %d, want %d", tc.name, got, i+1)
		}
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(secretGVK)
	if err := c.Get(ctx, key, m); !apierrors.IsNotFound(err) {
		t.Errorf("metadata Get: %v, want NotFound", err)
	}
	if _, err := c.GetInformer(ctx, m); err != nil {
		t.Errorf("metadata informer: %v", err)
	}
	if err := c.List(ctx, &corev1.ConfigMapList{}); err != nil {
		t.Errorf("other kinds are not refused: %v", err)
	}
}
