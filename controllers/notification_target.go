package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/notify"
)

// notificationTarget is where one object's events go.
type notificationTarget struct {
	URL    string
	Secret bankingv1alpha1.SecretKeyReference
}

// The manager reads (and caches) only ConfigMaps of this one name.
// +kubebuilder:rbac:groups="",resources=configmaps,resourceNames=consent-operator-notifications,verbs=get;list;watch

// namespaceDefault reads the namespace's default destination, if it has one.
func namespaceDefault(ctx context.Context, r client.Reader, namespace string) (notificationTarget, bool, error) {
	cm := &corev1.ConfigMap{}
	err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: bankingv1alpha1.NotificationDefaultsConfigMap}, cm)
	if err != nil {
		return notificationTarget{}, false, client.IgnoreNotFound(err)
	}
	t := notificationTarget{URL: cm.Data[bankingv1alpha1.NotificationDefaultsURL], Secret: bankingv1alpha1.SecretKeyReference{
		Name: cm.Data[bankingv1alpha1.NotificationDefaultsSecretName], Key: cm.Data[bankingv1alpha1.NotificationDefaultsSecretKey]}}
	return t, t.URL != "", nil
}

// targetFor is where bc's events go: its spec, else the namespace's default.
func targetFor(ctx context.Context, r client.Reader, namespace string, bc *bankingv1alpha1.BankConnection) (notificationTarget, bool, error) {
	if bc != nil && bc.Spec.Notifications != nil {
		return notificationTarget{URL: bc.Spec.Notifications.URL, Secret: bc.Spec.Notifications.SigningSecretRef}, true, nil
	}
	return namespaceDefault(ctx, r, namespace)
}

// signingKey reads the signing secret from the object's own namespace, directly from
// the apiserver (the cache holds only the operator's token Secrets).
func signingKey(ctx context.Context, r client.Reader, namespace string, ref bankingv1alpha1.SecretKeyReference) ([]byte, error) {
	if ref.Name == "" || ref.Key == "" {
		return nil, errors.New("no signing Secret is named")
	}
	sec := &corev1.Secret{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, sec); err != nil {
		return nil, fmt.Errorf("reading the signing Secret %s: %w", ref.Name, err)
	}
	v, ok := sec.Data[ref.Key]
	if !ok {
		return nil, fmt.Errorf("the signing Secret %s has no key %s", ref.Name, ref.Key)
	}
	key, err := notify.ParseSecret(string(v))
	if err != nil {
		return nil, fmt.Errorf("the signing Secret %s, key %s: %w", ref.Name, ref.Key, err)
	}
	return key, nil
}

// destinationOf is the queue a URL's deliveries share: its scheme and host.
func destinationOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}
