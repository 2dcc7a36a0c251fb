package gateway

import (
	"context"
	"crypto/rand"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// stateKeyField is the Secret key holding the HMAC key.
const stateKeyField = "state-key"

// EnsureStateKey returns the state-signing key from the Secret namespace/name,
// creating the Secret with a random 32-byte key on first start. Replicas starting
// together converge on whichever Secret was created first.
func EnsureStateKey(ctx context.Context, c client.Client, namespace, name string) (StateKey, error) {
	key := types.NamespacedName{Namespace: namespace, Name: name}
	for attempt := 0; attempt < 3; attempt++ {
		sec := &corev1.Secret{}
		err := c.Get(ctx, key, sec)
		if err == nil {
			k := sec.Data[stateKeyField]
			if len(k) < 32 {
				return nil, fmt.Errorf("state key Secret %s has no %d-byte key %q", key, 32, stateKeyField)
			}
			return StateKey(k), nil
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
			return StateKey(k), nil
		} else if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating state key Secret %s: %w", key, err)
		}
	}
	return nil, fmt.Errorf("state key Secret %s: could not read or create it", key)
}
