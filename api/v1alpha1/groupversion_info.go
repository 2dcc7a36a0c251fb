// Package v1alpha1 contains the v1alpha1 API of the banking.consent-operator.dev group:
// BankConnection (one end user's consent at one bank through one provider) and SyncJob
// (scheduled fetches of that connection's data into the store).
//
// +kubebuilder:object:generate=true
// +groupName=banking.consent-operator.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "banking.consent-operator.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this API with a runtime.Scheme. It uses
	// apimachinery only, so the API package stays cheap to import.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types of this API to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &BankConnection{}, &BankConnectionList{}, &SyncJob{}, &SyncJobList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
