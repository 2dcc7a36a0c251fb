package connection

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// Connecter is the connect step every caller of a provider takes (crossplane's
// ExternalConnecter): it binds the provider's client to one BankConnection's client
// credentials and provider ids. The BankConnection and SyncJob reconcilers both
// connect through it; the gateway never does (it holds no credentials).
type Connecter struct {
	Providers provider.Registry
	// Reader reads the client credentials Secret from the apiserver: users' Secrets
	// are not cached.
	Reader client.Reader
	// CallbackURL is the gateway's OAuth callback, the redirect URI of every journey.
	CallbackURL string
}

// External is a provider client bound to one BankConnection.
type External struct {
	provider.Client
	// Conn is the connection as the provider sees it: credentials, spec, ids.
	Conn provider.Connection
}

// Connect binds the provider of bc's spec to bc. A provider this manager does not
// run, or a missing or incomplete client Secret, is a NeedsHumanError.
func (c Connecter) Connect(ctx context.Context, bc *bankingv1alpha1.BankConnection) (External, error) {
	pc, err := c.Providers.For(string(bc.Spec.Provider))
	if err != nil {
		return External{}, &NeedsHumanError{Reason: bankingv1alpha1.ReasonInvalidClientCredentials, Message: err.Error()}
	}
	conn, err := Resolve(ctx, c.Reader, bc, c.CallbackURL)
	if err != nil {
		return External{}, err
	}
	return External{Client: pc, Conn: conn}, nil
}
