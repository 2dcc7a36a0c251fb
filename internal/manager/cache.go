package manager

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// CacheOptions are the manager's cache settings.
//
// Secrets: only token Secrets enter the cache, selected on the server by label AND
// type (a field selector). A tenant can label any Secret as managed, but cannot give a
// Secret the token type without it being checked against its owner, so a flood of
// labelled Secrets (say 250 of 1 MiB) costs the manager nothing. The operator's own
// Secrets (journey key, client-token cache) and users' credentials are read directly,
// by name, when needed. ConfigMaps: only those named consent-operator-notifications
// (a namespace's default notification destination).
func CacheOptions(o Options) cache.Options {
	opts := cache.Options{
		// The operator never reads managedFields; dropping them from cached objects
		// roughly halves the memory a BankConnection and its Secret cost.
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {
				Label: labels.SelectorFromSet(labels.Set{bankingv1alpha1.LabelManagedBy: bankingv1alpha1.ManagedByValue}),
				Field: fields.OneTermEqualSelector("type", bankingv1alpha1.SecretTypeToken),
			},
			// Only the namespaces' notification defaults, by name: the cluster's other
			// ConfigMaps cost nothing (and RBAC names that one ConfigMap).
			&corev1.ConfigMap{}: {
				Field: fields.OneTermEqualSelector("metadata.name", bankingv1alpha1.NotificationDefaultsConfigMap),
			},
		},
	}
	if o.Namespace != "" {
		opts.DefaultNamespaces = map[string]cache.Config{o.Namespace: {}}
	}
	return opts
}
