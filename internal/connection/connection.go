// Package connection resolves a BankConnection into what a provider client needs: the
// client credentials from the Secret named by spec.clientSecretRef, and the spec
// translated into a provider.Connection with the defaults applied. The reconciler and
// the gateway's callback share it.
package connection

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// NeedsHumanError is a problem in the user's inputs that only a human can fix.
type NeedsHumanError struct {
	Reason, Message string
}

func (e *NeedsHumanError) Error() string { return e.Reason + ": " + e.Message }

// Resolve reads the credentials (directly from the apiserver: users' Secrets are not
// cached) and builds the provider's view of bc.
func Resolve(ctx context.Context, reader client.Reader, bc *bankingv1alpha1.BankConnection, redirectURI string) (provider.Connection, error) {
	creds, err := credentials(ctx, reader, bc)
	if err != nil {
		return provider.Connection{}, err
	}
	conn := provider.Connection{
		Namespace:   bc.Namespace,
		Name:        bc.Name,
		UID:         string(bc.UID),
		Credentials: creds,
		Environment: string(orDefault(bc.Spec.Environment, bankingv1alpha1.EnvironmentSandbox)),
		DataAPI:     string(bc.Spec.DataAPI),
		ProviderID:  bc.Spec.ProviderID,
		Providers:   bc.Spec.Providers,
		DataAccess:  string(orDefault(bc.Spec.DataAccess, bankingv1alpha1.DataAccessRecurring)),
		UserRef:     bc.Spec.UserRef,
		CompanyName: bc.Spec.CompanyName,
		RedirectURI: redirectURI,
	}
	if bc.Spec.Provider == bankingv1alpha1.ProviderTrueLayer && conn.DataAPI == "" {
		conn.DataAPI = string(bankingv1alpha1.DataAPIV1)
	}
	for _, sc := range bc.Spec.Scopes {
		conn.Scopes = append(conn.Scopes, string(sc))
	}
	conn.Refs = Refs(bc)
	if c := bc.Status.Consent; c != nil && c.ExpiresAt != nil {
		conn.ConsentExpiresAt = c.ExpiresAt.Time
	}
	return conn, nil
}

// EndUser reads the user's details from spec.reconsent.userSecretRef, which the
// provider needs to extend a consent.
func EndUser(ctx context.Context, reader client.Reader, bc *bankingv1alpha1.BankConnection) (provider.EndUser, error) {
	if bc.Spec.Reconsent == nil || bc.Spec.Reconsent.UserSecretRef == nil {
		return provider.EndUser{}, &NeedsHumanError{bankingv1alpha1.ReasonReauthorizationRequired,
			"spec.reconsent.userSecretRef is needed to extend the consent"}
	}
	name := bc.Spec.Reconsent.UserSecretRef.Name
	sec, err := secret(ctx, reader, bc.Namespace, name, "user details", bankingv1alpha1.ReasonReauthorizationRequired)
	if err != nil {
		return provider.EndUser{}, err
	}
	u := provider.EndUser{Name: string(sec.Data["name"]), Email: string(sec.Data["email"]), Phone: string(sec.Data["phone"])}
	if u.Name == "" || (u.Email == "" && u.Phone == "") {
		return u, &NeedsHumanError{bankingv1alpha1.ReasonReauthorizationRequired,
			fmt.Sprintf("User details Secret %s needs name, and email or phone", name)}
	}
	return u, nil
}

// Refs returns the provider ids recorded in bc's status.
func Refs(bc *bankingv1alpha1.BankConnection) provider.Refs {
	r := bc.Status.ProviderRefs
	if r == nil {
		return provider.Refs{}
	}
	return provider.Refs{DataConnectionID: r.DataConnectionID, CodatCompanyID: r.CodatCompanyID, CodatConnectionID: r.CodatConnectionID}
}

// MergeRefs records ids a provider assigned into bc's status.
func MergeRefs(bc *bankingv1alpha1.BankConnection, refs provider.Refs) {
	if refs == (provider.Refs{}) {
		return
	}
	if bc.Status.ProviderRefs == nil {
		bc.Status.ProviderRefs = &bankingv1alpha1.ProviderRefs{}
	}
	p := bc.Status.ProviderRefs
	if refs.DataConnectionID != "" {
		p.DataConnectionID = refs.DataConnectionID
	}
	if refs.CodatCompanyID != "" {
		p.CodatCompanyID = refs.CodatCompanyID
	}
	if refs.CodatConnectionID != "" {
		p.CodatConnectionID = refs.CodatConnectionID
	}
}

func credentials(ctx context.Context, reader client.Reader, bc *bankingv1alpha1.BankConnection) (provider.Credentials, error) {
	name := bc.Spec.ClientSecretRef.Name
	sec, err := secret(ctx, reader, bc.Namespace, name, "client credentials", bankingv1alpha1.ReasonInvalidClientCredentials)
	if err != nil {
		return provider.Credentials{}, err
	}
	c := provider.Credentials{
		ClientID:     string(sec.Data["client_id"]),
		ClientSecret: string(sec.Data["client_secret"]),
		APIKey:       string(sec.Data["api_key"]),
	}
	missing := c.ClientID == "" || c.ClientSecret == ""
	want := "client_id and client_secret"
	if bc.Spec.Provider == bankingv1alpha1.ProviderCodat {
		missing, want = c.APIKey == "", "api_key"
	}
	if missing {
		return c, &NeedsHumanError{bankingv1alpha1.ReasonInvalidClientCredentials,
			fmt.Sprintf("Client credentials Secret %s needs %s", name, want)}
	}
	return c, nil
}

func orDefault[T ~string](v, def T) T {
	if v == "" {
		return def
	}
	return v
}

// secret reads a Secret the spec names (what says which, in messages). A missing one
// is for a human to create, so it is a NeedsHumanError with reason.
func secret(ctx context.Context, reader client.Reader, namespace, name, what, reason string) (*corev1.Secret, error) {
	sec := &corev1.Secret{}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, sec); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &NeedsHumanError{reason, fmt.Sprintf("%s Secret %s not found", strings.ToUpper(what[:1])+what[1:], name)}
		}
		return nil, fmt.Errorf("reading %s Secret %s: %w", what, name, err)
	}
	return sec, nil
}
