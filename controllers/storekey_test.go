package controllers_test

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/store"
)

// storeKey is where the store keeps the rows fetched through bc: its name and UID.
func storeKey(bc *bankingv1alpha1.BankConnection) store.ConnectionKey {
	return store.ConnectionKey{Namespace: bc.Namespace, Connection: bc.Name, UID: string(bc.UID)}
}

// storeKeyOf reads the connection to learn its UID.
func storeKeyOf(t *testing.T, ns, name string) store.ConnectionKey {
	t.Helper()
	bc := &bankingv1alpha1.BankConnection{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, bc); err != nil {
		t.Fatalf("reading BankConnection %s/%s for its store key: %v", ns, name, err)
	}
	return storeKey(bc)
}
