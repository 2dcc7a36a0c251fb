package harness

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// The harness does not import internal/manager or internal/testenv: the manager runs
// as a separate binary, and the harness must build even while the controllers package
// is being changed. The control plane it starts is the tests' one, from internal/repo.

// Scheme has the built-in kinds and this project's API.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(bankingv1alpha1.AddToScheme(s))
	return s
}
