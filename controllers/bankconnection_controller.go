// Package controllers holds the reconcilers. They are thin: fetch the object, run
// ordered steps whose decisions are pure functions (here and in internal/ packages),
// and write status once, its conditions derived in one place.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/clock"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/httpx"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// Links is what the reconciler needs from the gateway: the public URLs users and
// providers are sent to.
type Links interface {
	// ConnectURL is the link for a journey's secret (status.authorization.nonce).
	ConnectURL(secret string) string
	CallbackURL() string
}

// BankConnectionReconciler reconciles BankConnection objects.
type BankConnectionReconciler struct {
	client.Client
	// APIReader reads the apiserver directly: credentials Secrets are not cached.
	APIReader client.Reader
	Providers provider.Registry
	Links     Links
	// Journeys derives PKCE verifiers and opens the codes the gateway hands over.
	Journeys *journey.Keys
	Tokens   *tokensecret.Store
	// Store is where SyncJobs keep the connection's data; the finalizer erases it.
	Store    store.Store
	Clock    Clock
	Recorder events.EventRecorder
	Metrics  *metrics.Connections
	// Outbox records the transitions applications are notified of; nil records nothing.
	Outbox *Outbox

	MaxConcurrentReconciles int

	// checks remembers when consents the provider keeps were last checked.
	checks checkLedger
}

// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=bankconnections,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=bankconnections/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=bankconnections/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one BankConnection's status in line with its spec and the
// consent at the provider: fetch, finalizer, the steps of its kind of consent (each
// connects to the provider when it needs to), then one status patch whose conditions
// are derived from what the steps found.
func (r *BankConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	bc := &bankingv1alpha1.BankConnection{}
	if err := r.Get(ctx, req.NamespacedName, bc); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.Forget(req.Namespace, req.Name)
			r.checks.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !bc.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, bc)
	}
	if err := r.ensureFinalizer(ctx, bc); err != nil {
		return ctrl.Result{}, err
	}

	before := bc.DeepCopy()
	s := newConnectionScope(r, bc)
	defer func() { result, retErr = r.updateStatus(ctx, before, s, result, retErr) }()
	if userWaits(bc) {
		// A user waits in a browser for this reconcile: its provider calls (the code
		// exchange, the consent read) go ahead of background work at the rate limiter.
		ctx = httpx.WithUserPresent(ctx)
	}
	for _, step := range s.kind.steps() {
		done, err := step(ctx, s)
		if errors.Is(err, errRequeue) {
			s.stale = errors.Is(err, errStale)
			return requeueSoon, nil
		}
		if err != nil {
			return ctrl.Result{}, err
		}
		if done {
			break
		}
	}
	// Timed work (refreshes, checks) waits behind anything a person is waiting for.
	return ctrl.Result{RequeueAfter: consent.RequeueAfter(s.now, consent.Earliest(s.deadlines...)), Priority: ptr.To(handler.LowPriority)}, nil
}

// ensureFinalizer adds the revoke finalizer before anything reaches the provider.
func (r *BankConnectionReconciler) ensureFinalizer(ctx context.Context, bc *bankingv1alpha1.BankConnection) error {
	if controllerutil.ContainsFinalizer(bc, bankingv1alpha1.FinalizerRevoke) {
		return nil
	}
	patch := client.MergeFrom(bc.DeepCopy())
	controllerutil.AddFinalizer(bc, bankingv1alpha1.FinalizerRevoke)
	if err := r.Patch(ctx, bc, patch); err != nil {
		return ignoreConflict(fmt.Errorf("adding finalizer: %w", err))
	}
	return nil
}

// updateStatus is the reconcile's one status write: the conditions derived from the
// steps' report, the transition events and notifications, then the patch. A reconcile
// that found its cached object outdated writes nothing: what it computed could undo a
// newer status. A conflict is retried, never shown.
func (r *BankConnectionReconciler) updateStatus(ctx context.Context, before *bankingv1alpha1.BankConnection, s *connectionScope,
	result ctrl.Result, retErr error) (ctrl.Result, error) {
	if s.stale {
		return result, retErr
	}
	bc := s.bc
	bc.Status.ObservedGeneration = bc.Generation
	updateConditions(&bc.Status.Conditions, bc.Generation, s.report)
	if s.ledgerWritten {
		before.Status.UnattendedCalls = bc.Status.UnattendedCalls // written with its own lock
	}
	r.emitTransitionEvents(before, bc)
	r.Outbox.record(ctx, &bc.Status.Notifications, bc.Namespace, bc, connectionEvents(before, bc, s.now))
	err := patchStatus(ctx, r.Client, before, bc, func(o *bankingv1alpha1.BankConnection) any { return o.Status })
	if apierrors.IsConflict(err) {
		log.FromContext(ctx).V(1).Info("Status patch conflicted, requeueing")
		return requeueSoon, nil
	}
	if err != nil && retErr == nil {
		return result, err
	}
	if retErr == nil {
		var tokenExpiresAt time.Time
		if s.snap.HasTokens {
			tokenExpiresAt = s.snap.ExpiresAt
		}
		r.Metrics.Observe(bc, tokenExpiresAt)
	}
	return result, retErr
}

// SetupWithManager registers the reconciler with the manager.
func (r *BankConnectionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := ctrl.NewControllerManagedBy(mgr).
		// Its own writes do not wake the reconciler (bankconnection_triggers.go).
		For(&bankingv1alpha1.BankConnection{}, builder.WithPredicates(connectionTriggers)).
		// Token Secrets are watched so a deleted one is noticed at once; their creates
		// and updates are the reconciler's own. A Secret edited by hand is seen at the
		// connection's next deadline. Metadata only: the reconciler decides from the
		// Secret's annotations and reads its tokens from the apiserver when a provider
		// call needs them (tokensecret.Store.Load).
		Owns(&corev1.Secret{}, builder.OnlyMetadata, builder.WithPredicates(tokenSecretTriggers)).
		// A handoff means a user is waiting in a browser: it jumps the queue.
		Watches(&bankingv1alpha1.BankConnection{}, priorityHandler{}).
		Named("bankconnection").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r); err != nil {
		return fmt.Errorf("setting up bankconnection controller: %w", err)
	}
	return nil
}

// requeueSoon looks again shortly after a lost optimistic lock or a lagging cache: long
// enough for the cache to catch up, short enough that nobody waits.
var requeueSoon = ctrl.Result{RequeueAfter: 100 * time.Millisecond}

// errRequeue asks for an immediate requeue without reporting an error (an optimistic
// lock lost to a concurrent writer).
var errRequeue = errors.New("requeue")

// errStale is errRequeue for a reconcile that found its cached object outdated before
// it changed anything at the provider: its status is not written, since it was
// computed from old data and could undo a newer status.
var errStale = fmt.Errorf("%w: the cached object is outdated", errRequeue)

func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// Clock tells the time; tests pass a controllable one shared with the bank sandbox.
type Clock = clock.Clock

// userWaits is true while a user waits in a browser on this connection: a code to
// redeem, a re-authentication link to make, or a return to confirm with the provider.
func userWaits(bc *bankingv1alpha1.BankConnection) bool {
	if q := openRequest(bc).gateway; q != nil && q.Source == bankingv1alpha1.CheckSourceReturn {
		return true
	}
	h, a := bc.Status.Handoff, bc.Status.Authorization
	switch {
	case h == nil || (bc.Status.LastJourney != nil && bc.Status.LastJourney.Nonce == h.Nonce):
		return false
	case h.Code != "":
		return true
	}
	return h.Reauthenticate != nil && a != nil && a.Nonce == h.Nonce &&
		(a.ReauthenticationLink == nil || a.ReauthenticationLink.RequestID != h.Reauthenticate.ID)
}
