package connection

import (
	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/store"
)

// StoreOwner is who the rows fetched through bc belong to. The SyncJob writer, the
// finalizer's erasure and the data API all key rows with it, so they agree that a
// connection is its name and UID: a connection recreated under the name is another.
func StoreOwner(bc *bankingv1alpha1.BankConnection) store.Owner {
	return store.Owner{Namespace: bc.Namespace, Connection: bc.Name, UID: string(bc.UID), UserRef: bc.Spec.UserRef,
		Provider: string(bc.Spec.Provider)}
}
