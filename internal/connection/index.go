package connection

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// Indexer makes the cache's field indexer function of a BankConnection field: an
// object is indexed under the value field returns, and not at all when it is empty
// (or the object is not a BankConnection).
func Indexer(field func(*bankingv1alpha1.BankConnection) string) client.IndexerFunc {
	return func(obj client.Object) []string {
		bc, ok := obj.(*bankingv1alpha1.BankConnection)
		if !ok {
			return nil
		}
		if v := field(bc); v != "" {
			return []string{v}
		}
		return nil
	}
}
