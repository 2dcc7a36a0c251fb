package controllers

import (
	"context"
	"errors"
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
)

// runContext is what driving a run needs beyond the job.
type runContext struct {
	bc      *bankingv1alpha1.BankConnection
	data    provider.DataClient
	conn    provider.Connection
	session provider.Session
	owner   store.Owner
	// storeIDs caches the store's account ids for this reconcile (accountIDs);
	// nil until read, and again after accounts or cards are written.
	storeIDs storeAccountIDs
}

// storeIDsOf returns the store's account ids, reading them once per reconcile.
func (r *SyncJobReconciler) storeIDsOf(ctx context.Context, rc *runContext) (storeAccountIDs, error) {
	if rc.storeIDs == nil {
		ids, err := r.accountIDs(ctx, rc.owner.Key())
		if err != nil {
			return nil, err
		}
		rc.storeIDs = ids
	}
	return rc.storeIDs, nil
}

// runContext resolves the connection, its token and the data client. wait is set
// when the run cannot go on (the connection stopped being Ready).
func (r *SyncJobReconciler) runContext(ctx context.Context, s *jobScope) (*runContext, string, error) {
	bc := s.bc
	if bc == nil {
		var why string
		var err error
		if bc, why, err = r.readyConnection(ctx, s.sj); err != nil || why != "" {
			return nil, why, err
		}
		s.bc = bc
	}
	pc, err := r.Providers.For(string(bc.Spec.Provider))
	if err != nil {
		return nil, err.Error(), nil
	}
	dc, ok := pc.(provider.DataClient)
	if !ok {
		return nil, "provider " + string(bc.Spec.Provider) + " cannot read data", nil
	}
	conn, err := connection.Resolve(ctx, r.APIReader, bc, r.Links.CallbackURL())
	if err != nil {
		var nh *connection.NeedsHumanError
		if errors.As(err, &nh) {
			return nil, nh.Message, nil
		}
		return nil, "", err
	}
	rc := &runContext{bc: bc, data: dc, conn: conn, owner: connection.StoreOwner(bc)}
	rc.session.Refs = connection.Refs(bc)
	if wait, err := r.loadTokens(ctx, s, rc); err != nil || wait != "" {
		return nil, wait, err
	}
	return rc, "", nil
}

// loadTokens puts the connection's access token into the run's session. It returns
// errRequeue when the token is about to expire (the connection refreshes it first)
// and a wait when the token Secret cannot be read.
func (r *SyncJobReconciler) loadTokens(ctx context.Context, s *jobScope, rc *runContext) (wait string, err error) {
	sealer, err := r.Tokens.Sealer(ctx, rc.bc)
	if err != nil {
		return "the token Secret cannot be read: " + err.Error(), nil
	}
	snap, err := r.Tokens.Load(ctx, rc.bc, sealer, false)
	if err != nil {
		return "the token Secret cannot be read: " + err.Error(), nil
	}
	if !snap.HasTokens {
		return "", nil
	}
	if !snap.Tokens.ExpiresAt.After(s.now.Add(time.Minute)) {
		if err := r.requestRefresh(ctx, rc.bc, s.now); err != nil {
			return "", err
		}
		return "", errRequeue // the connection refreshes the token first
	}
	t := snap.Tokens
	rc.session.Tokens = &t
	return "", nil
}
