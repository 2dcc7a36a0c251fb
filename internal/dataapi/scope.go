package dataapi

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/index"
	"github.com/consent-operator/consent-operator/internal/store"
)

// IndexUserRef indexes BankConnections by spec.userRef, so a user's connections
// are found in the cache without listing the namespace.
const IndexUserRef = "spec.userRef"

// UserRefOf is the indexer function of IndexUserRef.
var UserRefOf = index.Field(func(bc *bankingv1alpha1.BankConnection) string { return bc.Spec.UserRef })

// scope is whose rows a request reads: one connection as it exists now (its
// current UID, never an earlier connection of the name), or every connection a
// userRef's rows were fetched through, deleted ones included.
type scope struct {
	namespace string
	// user is set for userRef-wide requests.
	user *store.UserKey
	// owners are the connections whose rows are read, by name then UID.
	owners []store.Owner
	// live are the BankConnections of the scope that exist, by UID.
	live map[string]*bankingv1alpha1.BankConnection
}

// connectionScope resolves a connection by name through the manager's cache. A
// connection that does not exist is errNotFound: the caller is already authorized
// for it, so saying so reveals nothing it may not know.
func (s *Server) connectionScope(ctx context.Context, namespace, name string) (*scope, error) {
	bc := &bankingv1alpha1.BankConnection{}
	if err := s.Connections.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, bc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, errNotFound
		}
		return nil, fmt.Errorf("reading BankConnection: %w", err)
	}
	o := connection.StoreOwner(bc)
	return &scope{namespace: namespace, owners: []store.Owner{o}, live: map[string]*bankingv1alpha1.BankConnection{o.UID: bc}}, nil
}

// userScope finds the connections of a user: those with stored rows (from the
// store) and those that exist but hold nothing yet (from the cache).
func (s *Server) userScope(ctx context.Context, namespace, userRef string) (*scope, error) {
	user := store.UserKey{Namespace: namespace, UserRef: userRef}
	if err := user.Validate(); err != nil {
		return nil, errBadRequest("a userRef is required")
	}
	stored, err := s.Store.ListConnections(ctx, namespace, userRef)
	if err != nil {
		return nil, fmt.Errorf("listing the user's connections: %w", err)
	}
	var list bankingv1alpha1.BankConnectionList
	if err := s.Connections.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{IndexUserRef: userRef}); err != nil {
		return nil, fmt.Errorf("listing the user's BankConnections: %w", err)
	}
	sc := &scope{namespace: namespace, user: &user, owners: stored, live: map[string]*bankingv1alpha1.BankConnection{}}
	for i := range list.Items {
		bc := &list.Items[i]
		sc.live[string(bc.UID)] = bc
		if !slices.ContainsFunc(stored, func(o store.Owner) bool { return o.UID == string(bc.UID) }) {
			sc.owners = append(sc.owners, connection.StoreOwner(bc))
		}
	}
	slices.SortFunc(sc.owners, func(a, b store.Owner) int {
		if a.Connection != b.Connection {
			return cmp.Compare(a.Connection, b.Connection)
		}
		return cmp.Compare(a.UID, b.UID)
	})
	return sc, nil
}

// connectionView says what the API knows of o: from its BankConnection when it
// still exists, else only that its rows were retained.
func (sc *scope) connectionView(o store.Owner) Connection {
	v := Connection{Source: sourceOf(o.Key()), UserRef: o.UserRef, Provider: o.Provider}
	bc := sc.live[o.UID]
	if bc == nil {
		return v
	}
	v.Present, v.Provider = true, string(bc.Spec.Provider)
	if c := apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionReady); c != nil {
		v.Ready, v.Reason = string(c.Status), c.Reason
	}
	v.ConsentExpiring = apimeta.IsStatusConditionTrue(bc.Status.Conditions, bankingv1alpha1.ConditionConsentExpiring)
	if c := bc.Status.Consent; c != nil {
		v.Consent = &Consent{Status: string(c.Status), Bank: c.ProviderID}
		if c.CreatedAt != nil {
			v.Consent.CreatedAt = optTime(c.CreatedAt.Time)
		}
		if c.ExpiresAt != nil {
			v.Consent.ExpiresAt = optTime(c.ExpiresAt.Time)
		}
	}
	return v
}
