package manager

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// NewScheme returns a scheme with the built-in kinds and this project's API.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(bankingv1alpha1.AddToScheme(s))
	return s
}
