package controllers

import (
	"context"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// connectionStep is one step of a BankConnection reconcile. It returns done=true when
// the later steps must not run (the connection waits for a user, or is stalled).
type connectionStep func(ctx context.Context, s *connectionScope) (done bool, err error)

// connectionScope carries what the steps of one reconcile share.
type connectionScope struct {
	bc  *bankingv1alpha1.BankConnection
	now time.Time
	// kind is the connection's kind of consent (tokens held, or kept by the provider).
	kind consentKind
	// changed is true once this reconcile changed something at the provider; its
	// status must then be written even if the cache turns out to lag.
	changed bool
	// stale is true when the reconcile found its cached object outdated before it
	// changed anything: its status is not written (errStale).
	stale bool

	sealer *tokensecret.Sealer
	snap   tokensecret.Snapshot
	// interrupted is true when a refresh was interrupted before its tokens were stored.
	interrupted bool
	// consented is true when this reconcile redeemed a new consent: what stalled the
	// connection before no longer holds.
	consented bool

	// external is the provider client bound to this connection, connected on first use.
	external *connection.External

	// deadlines are the times the controller must look again; it requeues at the earliest.
	deadlines []time.Time
	// report is what the steps found; the conditions are derived from it
	// (updateConditions).
	report connectionReport

	// ledgerWritten is set once this reconcile reserved calls in
	// status.unattendedCalls itself (optimistic lock): its status patch then leaves
	// the ledger out.
	ledgerWritten bool
}

func newConnectionScope(r *BankConnectionReconciler, bc *bankingv1alpha1.BankConnection) *connectionScope {
	return &connectionScope{bc: bc, now: r.Clock.Now(), kind: r.kindOf(bc)}
}

func (s *connectionScope) requeueAt(t time.Time) { s.deadlines = append(s.deadlines, t) }

// condition is the condition of type t as this reconcile's report so far leaves it.
func (s *connectionScope) condition(t string) *metav1.Condition {
	return apimeta.FindStatusCondition(derivedConditions(s.bc, s.report), t)
}

// stalledNow is true when the connection is Stalled as this reconcile leaves it so far.
func (s *connectionScope) stalledNow() bool {
	c := s.condition(bankingv1alpha1.ConditionStalled)
	return c != nil && c.Status == metav1.ConditionTrue
}

// connection connects to the provider on the first call that needs it (most
// reconciles call nothing, and read no credentials) and returns the client bound to
// this connection and the provider's view of it.
func (r *BankConnectionReconciler) connection(ctx context.Context, s *connectionScope) (provider.Client, provider.Connection, error) {
	if s.external == nil {
		ext, err := r.connecter().Connect(ctx, s.bc)
		if err != nil {
			return nil, provider.Connection{}, err
		}
		s.external = &ext
	}
	return s.external.Client, s.external.Conn, nil
}

// connecter is the connect step of this reconciler's provider calls.
func (r *BankConnectionReconciler) connecter() connection.Connecter {
	return connection.Connecter{Providers: r.Providers, Reader: r.APIReader, CallbackURL: r.Links.CallbackURL()}
}

func orDefault[T ~string](v, def T) T {
	if v == "" {
		return def
	}
	return v
}

func timePtr(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}
