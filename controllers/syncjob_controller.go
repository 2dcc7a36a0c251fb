package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/index"
	"github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// SyncLinks is what the SyncJob reconciler needs from the gateway.
type SyncLinks interface {
	CallbackURL() string
	// WebhookURL is the async webhook URL of a run; it stops working a bounded time
	// after the run started.
	WebhookURL(namespace, name, runID string, started time.Time) (string, error)
}

// SyncJobReconciler reconciles SyncJob objects.
type SyncJobReconciler struct {
	client.Client
	// APIReader reads the apiserver directly (credentials, the latest ledger).
	APIReader client.Reader
	Providers provider.Registry
	Store     store.Store
	Tokens    *tokensecret.Store
	Links     SyncLinks
	Clock     Clock
	Recorder  events.EventRecorder
	Metrics   *metrics.SyncJobs
	// Outbox records finished runs for the notifier; nil records nothing.
	Outbox *Outbox
	// PollInterval is the first wait for async results when no webhook arrives.
	PollInterval time.Duration

	MaxConcurrentReconciles int
}

// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=syncjobs,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=syncjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=syncjobs/finalizers,verbs=update

// Reconcile runs a SyncJob when it is due and drives the run in flight.
func (r *SyncJobReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	logger := log.FromContext(ctx)
	sj := &bankingv1alpha1.SyncJob{}
	if err := r.Get(ctx, req.NamespacedName, sj); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.ForgetJob(req.Namespace, req.Name) // deleted: its series go with it
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := sj.DeepCopy()
	s := &jobScope{sj: sj, now: r.Clock.Now()}
	stale := false
	defer func() {
		if stale {
			return
		}
		sj.Status.ObservedGeneration = sj.Generation
		updateJobConditions(&sj.Status.Conditions, sj.Generation, s.report)
		r.recordNotifications(ctx, before, sj, s.bc)
		err := patchStatus(ctx, r.Client, before, sj, func(o *bankingv1alpha1.SyncJob) any { return o.Status })
		if apierrors.IsConflict(err) {
			logger.V(1).Info("Status patch conflicted, requeueing")
			result, retErr = requeueSoon, nil
			return
		}
		if err != nil && retErr == nil {
			retErr = err
		}
	}()

	for _, step := range []jobStep{
		r.stepSchedule,
		r.stepActiveRun,
		r.stepSuspend,
		// Before anything is due: a job whose connection is gone or not Ready says
		// so at once, not only at its next run.
		r.stepConnection,
		r.stepPlan,
		r.stepDue,
		r.stepStartRun,
		r.stepActiveRun, // the run just started
	} {
		done, err := step(ctx, s)
		if err != nil {
			if errors.Is(err, errRequeue) {
				stale = errors.Is(err, errStale)
				return requeueSoon, nil
			}
			return ctrl.Result{}, err
		}
		if done {
			break
		}
	}
	return ctrl.Result{RequeueAfter: requeueAfter(s.now, s.deadlines)}, nil
}

// SetupWithManager registers the reconciler, its index and its watches.
func (r *SyncJobReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.PollInterval <= 0 {
		r.PollInterval = 15 * time.Second
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &bankingv1alpha1.SyncJob{}, index.SyncJobConnection,
		index.SyncJobConnectionOf); err != nil {
		return fmt.Errorf("indexing SyncJobs by connection: %w", err)
	}
	if err := ctrl.NewControllerManagedBy(mgr).
		For(&bankingv1alpha1.SyncJob{}).
		// A connection becoming Ready (or not) wakes the jobs that read it.
		Watches(&bankingv1alpha1.BankConnection{}, handler.EnqueueRequestsFromMapFunc(r.jobsOfConnection)).
		Named("syncjob").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r); err != nil {
		return fmt.Errorf("setting up syncjob controller: %w", err)
	}
	return nil
}

func (r *SyncJobReconciler) jobsOfConnection(ctx context.Context, o client.Object) []reconcile.Request {
	var jobs bankingv1alpha1.SyncJobList
	if err := r.List(ctx, &jobs, client.InNamespace(o.GetNamespace()), client.MatchingFields{index.SyncJobConnection: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "Listing SyncJobs of a connection", "bankconnection", client.ObjectKeyFromObject(o))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(jobs.Items))
	for _, j := range jobs.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: j.Namespace, Name: j.Name}})
	}
	return reqs
}

func (r *SyncJobReconciler) event(sj *bankingv1alpha1.SyncJob, kind, reason, action, note string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(sj, nil, kind, reason, action, "%s", note)
	}
}

// wokenBy is true when the gateway recorded (status.wake) that a task of run finished
// and the run has not acted on it yet.
func wokenBy(sj *bankingv1alpha1.SyncJob, run *bankingv1alpha1.ActiveRun) bool {
	w := sj.Status.Wake
	return w != nil && w.RunID == run.ID && w.ID != run.HandledWake
}
