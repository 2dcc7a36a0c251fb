package controllers_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/scheme"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// TestGatewayIdentityIsLimited: the identity every story runs the gateway under (the
// shipped config/rbac/gateway) reads its journey key and nothing else among Secrets,
// cannot change a spec, and can patch status. An attacker who takes the gateway over
// holds no tenant's tokens or client secrets.
func TestGatewayIdentityIsLimited(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := testenv.GatewayConfig(ctx, env.Config, env.Client, "default")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	tenant := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "tenant-client-secret"},
		StringData: map[string]string{"client_secret": "s3cret"}}
	if err := env.Client.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), tenant) })

	if err := gw.Get(ctx, client.ObjectKeyFromObject(tenant), &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("gateway reading a tenant's Secret: %v, want Forbidden", err)
	}
	if err := gw.List(ctx, &corev1.SecretList{}, client.InNamespace("default")); !apierrors.IsForbidden(err) {
		t.Errorf("gateway listing Secrets: %v, want Forbidden", err)
	}
	key := manager.DefaultOptions().StateKeySecret
	if err := gw.Get(ctx, client.ObjectKey{Namespace: "default", Name: key}, &corev1.Secret{}); err != nil {
		t.Errorf("gateway reading its journey key: %v", err)
	}
	if err := gw.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: key}}); !apierrors.IsForbidden(err) {
		t.Errorf("gateway deleting its journey key: %v, want Forbidden", err)
	}

	bc := newConnection("default", "gateway-identity")
	if err := gw.Create(ctx, bc.DeepCopy()); !apierrors.IsForbidden(err) {
		t.Errorf("gateway creating a BankConnection: %v, want Forbidden", err)
	}
	if err := env.Client.Create(ctx, bc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), bc) })
	spec := client.MergeFrom(bc.DeepCopy())
	changed := bc.DeepCopy()
	changed.Spec.UserRef = "someone-else"
	if err := gw.Patch(ctx, changed, spec); !apierrors.IsForbidden(err) {
		t.Errorf("gateway patching a spec: %v, want Forbidden", err)
	}
}
