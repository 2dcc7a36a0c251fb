package manager_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// TestCacheAdmitsOnlyTokenSecrets: a tenant labels a 1 MiB Secret as managed by the
// operator; it never enters the manager's cache, while a token Secret does.
func TestCacheAdmitsOnlyTokenSecrets(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := "tenant-a"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
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
	c, err := cache.New(env.Config, func() cache.Options {
		o := manager.CacheOptions(manager.DefaultOptions())
		o.Scheme = manager.NewScheme()
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
		list := &corev1.SecretList{}
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
