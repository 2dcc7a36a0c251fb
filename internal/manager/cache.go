package manager

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// CacheOptions are the manager's cache settings.
//
// Secrets: only token Secrets enter the cache, selected on the server by label AND
// type (a field selector), and as metadata only (metav1.PartialObjectMetadata: the
// reconciler decides from annotations written with the tokens, and reads the whole
// Secret from the apiserver when a provider call needs its tokens; NewCache refuses
// whole Secrets). A tenant can label any Secret as managed, but cannot give a
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
			// Keyed by kind: the selection applies to the metadata informer of Secrets.
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

// NewCache is the manager's cache (ctrl.Options.NewCache): cache.New, refusing whole
// Secrets. A Get, List or informer of *corev1.Secret through the manager's cache would
// start an informer holding every Secret's data that the selection admits, beside the
// metadata one; it fails instead, naming the APIReader, and is counted (Refused).
func NewCache(cfg *rest.Config, opts cache.Options) (cache.Cache, error) {
	c, err := cache.New(cfg, opts)
	if err != nil {
		return nil, err
	}
	return &SecretMetadataCache{Cache: c, scheme: opts.Scheme}, nil
}

// ErrWholeSecret is the error of a read of whole Secrets through the manager's cache.
var ErrWholeSecret = errors.New("the manager caches Secrets as metadata only (metav1.PartialObjectMetadata): read a whole Secret with the APIReader")

// SecretMetadataCache is a cache that holds Secrets as metadata only (NewCache).
type SecretMetadataCache struct {
	cache.Cache
	scheme  *runtime.Scheme
	refused atomic.Int64
}

// Refused is how many reads of whole Secrets were refused; the test suites check it
// stays 0.
func (c *SecretMetadataCache) Refused() int64 { return c.refused.Load() }

func (c *SecretMetadataCache) whole(obj runtime.Object) error {
	switch obj.(type) {
	case *metav1.PartialObjectMetadata, *metav1.PartialObjectMetadataList:
		return nil
	}
	gvk, err := apiutil.GVKForObject(obj, c.scheme)
	if err != nil {
		return nil // the delegate reports it
	}
	return c.wholeKind(gvk)
}

func (c *SecretMetadataCache) wholeKind(gvk schema.GroupVersionKind) error {
	gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	if gvk != corev1.SchemeGroupVersion.WithKind("Secret") {
		return nil
	}
	c.refused.Add(1)
	return ErrWholeSecret
}

// Get implements client.Reader.
func (c *SecretMetadataCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := c.whole(obj); err != nil {
		return err
	}
	return c.Cache.Get(ctx, key, obj, opts...)
}

// List implements client.Reader.
func (c *SecretMetadataCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := c.whole(list); err != nil {
		return err
	}
	return c.Cache.List(ctx, list, opts...)
}

// GetInformer implements cache.Informers.
func (c *SecretMetadataCache) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	if err := c.whole(obj); err != nil {
		return nil, err
	}
	return c.Cache.GetInformer(ctx, obj, opts...)
}

// GetInformerForKind implements cache.Informers: an informer by kind is of whole objects.
func (c *SecretMetadataCache) GetInformerForKind(ctx context.Context, gvk schema.GroupVersionKind, opts ...cache.InformerGetOption) (cache.Informer, error) {
	if err := c.wholeKind(gvk); err != nil {
		return nil, err
	}
	return c.Cache.GetInformerForKind(ctx, gvk, opts...)
}

// IndexField implements client.FieldIndexer (an index needs an informer).
func (c *SecretMetadataCache) IndexField(ctx context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	if err := c.whole(obj); err != nil {
		return err
	}
	return c.Cache.IndexField(ctx, obj, field, extract)
}
