package connection_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/provider"
	providerfake "github.com/consent-operator/consent-operator/internal/provider/fake"
)

func TestConnect(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	secret := func(name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		secret("truelayer", map[string]string{"client_id": "id", "client_secret": "secret"}),
		secret("half", map[string]string{"client_id": "id"}),
		secret("codat", map[string]string{"api_key": "key"}),
		// Another tenant's Secret of the same name is never read for tenant-a.
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-b", Name: "other"}, Data: map[string][]byte{"client_id": []byte("b"), "client_secret": []byte("b")}},
	).Build()
	tl, codat := &providerfake.Provider{}, &providerfake.Provider{}
	c := connection.Connecter{Providers: provider.Registry{"TrueLayer": tl, "Codat": codat}, Reader: reader, CallbackURL: "https://gw/callback"}

	bc := func(p bankingv1alpha1.Provider, secretName string) *bankingv1alpha1.BankConnection {
		b := &bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "alice", UID: "u1"}}
		b.Spec.Provider, b.Spec.ClientSecretRef.Name = p, secretName
		b.Status.ProviderRefs = &bankingv1alpha1.ProviderRefs{DataConnectionID: "dc1"}
		return b
	}
	tests := []struct {
		name       string
		bc         *bankingv1alpha1.BankConnection
		wantClient provider.Client
		wantReason string // a NeedsHumanError's reason, "" for success
	}{
		{"TrueLayer with its credentials", bc(bankingv1alpha1.ProviderTrueLayer, "truelayer"), tl, ""},
		{"Codat with its API key", bc(bankingv1alpha1.ProviderCodat, "codat"), codat, ""},
		{"a provider this manager does not run", bc("Plaid", "truelayer"), nil, bankingv1alpha1.ReasonInvalidClientCredentials},
		{"a missing Secret", bc(bankingv1alpha1.ProviderTrueLayer, "gone"), nil, bankingv1alpha1.ReasonInvalidClientCredentials},
		{"another namespace's Secret is not found", bc(bankingv1alpha1.ProviderTrueLayer, "other"), nil, bankingv1alpha1.ReasonInvalidClientCredentials},
		{"an incomplete Secret", bc(bankingv1alpha1.ProviderTrueLayer, "half"), nil, bankingv1alpha1.ReasonInvalidClientCredentials},
		{"a TrueLayer Secret for Codat", bc(bankingv1alpha1.ProviderCodat, "truelayer"), nil, bankingv1alpha1.ReasonInvalidClientCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ext, err := c.Connect(context.Background(), tc.bc)
			if tc.wantReason != "" {
				var nh *connection.NeedsHumanError
				if !errors.As(err, &nh) || nh.Reason != tc.wantReason {
					t.Fatalf("Connect error = %v, want a NeedsHumanError %s", err, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if ext.Client != tc.wantClient {
				t.Errorf("bound to the wrong provider client")
			}
			conn := ext.Conn
			if conn.Namespace != "tenant-a" || conn.Name != "alice" || conn.UID != "u1" || conn.RedirectURI != "https://gw/callback" || conn.Refs.DataConnectionID != "dc1" {
				t.Errorf("Conn not bound to the connection: %+v", conn)
			}
			if conn.Credentials == (provider.Credentials{}) {
				t.Error("no credentials resolved")
			}
		})
	}
	if n := len(tl.Calls()) + len(codat.Calls()); n != 0 {
		t.Errorf("connecting called the provider %d times; it must not call it at all", n)
	}
}
