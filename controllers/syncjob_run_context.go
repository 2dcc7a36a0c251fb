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
	bc   *bankingv1alpha1.BankConnection
	data provider.DataClient
	conn provider.Connection
	// tokens reads the session's access token (the token Secret, whole, from the
	// apiserver: the cache holds its metadata only); nil for a connection without
	// tokens. Read once per reconcile, by the first provider call (sessionOf).
	tokens  func(context.Context) (provider.Tokens, error)
	session *provider.Session
	owner   store.Owner
	// storeIDs caches the store's account ids for this reconcile (accountIDs);
	// nil until read, and again after accounts or cards are written.
	storeIDs storeAccountIDs
}

// sessionOf is the session rc's provider calls send, its token read at the first call.
func (rc *runContext) sessionOf(ctx context.Context) (provider.Session, error) {
	if rc.session != nil {
		return *rc.session, nil
	}
	sess := provider.Session{Refs: connection.Refs(rc.bc)}
	if rc.tokens != nil {
		t, err := rc.tokens(ctx)
		if err != nil {
			return provider.Session{}, err
		}
		sess.Tokens = &t
	}
	rc.session = &sess
	return sess, nil
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
	ext, err := connection.Connecter{Providers: r.Providers, Reader: r.APIReader, CallbackURL: r.Links.CallbackURL()}.Connect(ctx, bc)
	if err != nil {
		var nh *connection.NeedsHumanError
		if errors.As(err, &nh) {
			return nil, nh.Message, nil
		}
		return nil, "", err
	}
	dc, ok := ext.Client.(provider.DataClient)
	if !ok {
		return nil, "provider " + string(bc.Spec.Provider) + " cannot read data", nil
	}
	rc := &runContext{bc: bc, data: dc, conn: ext.Conn, owner: connection.StoreOwner(bc)}
	if wait, err := r.loadTokens(ctx, s, rc); err != nil || wait != "" {
		return nil, wait, err
	}
	return rc, "", nil
}

// loadTokens prepares the run's session: the access token is read when the first
// provider call needs it. It returns errRequeue when the token is about to expire
// (the connection refreshes it first) and a wait when the token Secret cannot be read.
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
	if !snap.ExpiresAt.After(s.now.Add(time.Minute)) {
		if err := r.requestRefresh(ctx, rc.bc, s.now); err != nil {
			return "", err
		}
		return "", errRequeue // the connection refreshes the token first
	}
	bc := rc.bc
	rc.tokens = func(ctx context.Context) (provider.Tokens, error) {
		t, err := r.Tokens.LoadTokens(ctx, bc, sealer, &snap)
		if err == nil && !snap.HasTokens {
			err = errors.New("the token Secret holds no tokens any more")
		}
		return t, err
	}
	return "", nil
}
