// Package scheme is the one runtime.Scheme every client of this project's clusters
// uses: the built-in kinds and the banking.consent-operator.dev API. It imports no
// controller, so the scale harness (which runs the manager as a separate binary) and
// the tests share it with the manager.
package scheme

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// New returns a scheme with the built-in kinds and this project's API.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(bankingv1alpha1.AddToScheme(s))
	return s
}
