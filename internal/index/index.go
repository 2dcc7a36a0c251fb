// Package index builds the field indexes of the caches (the manager's and the
// gateway's) and holds the one both register: SyncJobs by the connection they read.
// It imports only the API, so the internet-facing gateway can use it without the
// operator's provider and store packages.
package index

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// Field makes a cache's field indexer function from one field of a T: an object is
// indexed under the value field returns, and not at all when it is empty or the
// object is not a T.
func Field[T client.Object](field func(T) string) client.IndexerFunc {
	return func(obj client.Object) []string {
		o, ok := obj.(T)
		if !ok {
			return nil
		}
		if v := field(o); v != "" {
			return []string{v}
		}
		return nil
	}
}

// SyncJobConnection is the index of SyncJobs by the BankConnection they read.
const SyncJobConnection = "spec.connectionRef.name"

// SyncJobConnectionOf indexes a SyncJob under SyncJobConnection.
var SyncJobConnectionOf = Field(func(sj *bankingv1alpha1.SyncJob) string { return sj.Spec.ConnectionRef.Name })
