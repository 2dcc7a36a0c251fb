package gateway

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// Keys of the journey key Secret. The current key seals; the previous and next keys
// are accepted for opening only, which is what makes rotation safe with journeys in
// flight and with replicas that see the Secret change a moment apart (README,
// "Rotating keys").
const (
	stateKeyField    = "state-key"
	previousKeyField = "state-key-previous"
	nextKeyField     = "state-key-next"
)

// EnsureStateKey returns the journey key Secret namespace/name, creating it with a
// random 32-byte key on first start. Replicas starting together converge on whichever
// Secret was created first.
func EnsureStateKey(ctx context.Context, c client.Client, namespace, name string) (*corev1.Secret, error) {
	key := types.NamespacedName{Namespace: namespace, Name: name}
	for attempt := 0; attempt < 3; attempt++ {
		sec := &corev1.Secret{}
		err := c.Get(ctx, key, sec)
		if err == nil {
			return sec, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading state key Secret %s: %w", key, err)
		}
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("generating state key: %w", err)
		}
		sec = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: namespace, Name: name,
				Labels: map[string]string{bankingv1alpha1.LabelManagedBy: bankingv1alpha1.ManagedByValue},
			},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{stateKeyField: k},
		}
		if err := c.Create(ctx, sec); err == nil {
			return sec, nil
		} else if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating state key Secret %s: %w", key, err)
		}
	}
	return nil, fmt.Errorf("state key Secret %s: could not read or create it", key)
}

// KeysFrom reads the current and accepted keys of a journey key Secret.
func KeysFrom(sec *corev1.Secret) (current []byte, accepted [][]byte, err error) {
	current = sec.Data[stateKeyField]
	if len(current) < journey.MinKeyLength {
		return nil, nil, fmt.Errorf("state key Secret %s/%s has no %d-byte key %q", sec.Namespace, sec.Name, journey.MinKeyLength, stateKeyField)
	}
	for _, f := range []string{previousKeyField, nextKeyField} {
		if v, ok := sec.Data[f]; ok {
			if len(v) < journey.MinKeyLength {
				return nil, nil, fmt.Errorf("state key Secret %s/%s: %q is shorter than %d bytes", sec.Namespace, sec.Name, f, journey.MinKeyLength)
			}
			accepted = append(accepted, v)
		}
	}
	return current, accepted, nil
}

// KeyWatcher reloads the journey keys whenever their Secret changes, on every replica,
// so keys rotate without a restart. It watches that one Secret by name.
type KeyWatcher struct {
	Config          *rest.Config
	Scheme          *runtime.Scheme
	Namespace, Name string
	Keys            *journey.Keys
	Log             logr.Logger
}

// Start watches until ctx ends (manager.Runnable).
func (w *KeyWatcher) Start(ctx context.Context) error {
	c, err := cache.New(w.Config, cache.Options{
		Scheme:            w.Scheme,
		DefaultNamespaces: map[string]cache.Config{w.Namespace: {}},
		ByObject:          map[client.Object]cache.ByObject{&corev1.Secret{}: {Field: fields.OneTermEqualSelector("metadata.name", w.Name)}},
	})
	if err != nil {
		return fmt.Errorf("watching the state key Secret: %w", err)
	}
	inf, err := c.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return fmt.Errorf("watching the state key Secret: %w", err)
	}
	reload := func(obj any) {
		sec, ok := obj.(*corev1.Secret)
		if !ok {
			return
		}
		current, accepted, err := KeysFrom(sec)
		if err == nil {
			err = w.Keys.Update(current, accepted...)
		}
		if err != nil {
			// Keep the keys in use: a broken edit must not stop every journey.
			w.Log.Error(err, "Ignoring an unusable state key Secret")
			return
		}
		w.Log.Info("Journey keys loaded", "currentKeyID", w.Keys.ID(), "acceptedKeys", len(accepted))
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    reload,
		UpdateFunc: func(_, obj any) { reload(obj) },
	}); err != nil {
		return fmt.Errorf("watching the state key Secret: %w", err)
	}
	return c.Start(ctx)
}

// NeedLeaderElection is false: every replica must hold the same keys.
func (w *KeyWatcher) NeedLeaderElection() bool { return false }
