package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/conditions"
	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/metrics"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// connectionRefIndex indexes SyncJobs by the BankConnection they read.
const connectionRefIndex = "spec.connectionRef.name"

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

	wake chan event.TypedGenericEvent[*bankingv1alpha1.SyncJob]
	// woken marks runs a webhook said are ready ("namespace/name/runID").
	woken sync.Map
}

// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=syncjobs,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=syncjobs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=syncjobs/finalizers,verbs=update

// Reconcile runs a SyncJob when it is due and drives the run in flight.
func (r *SyncJobReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	logger := log.FromContext(ctx)
	sj := &bankingv1alpha1.SyncJob{}
	if err := r.Get(ctx, req.NamespacedName, sj); err != nil {
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

	conditions.InitReady(&sj.Status.Conditions, sj.Generation, "Reconciliation has started")
	for _, phase := range []jobPhase{
		r.phaseSchedule,
		r.phaseActiveRun,
		r.phaseSuspend,
		// Before anything is due: a job whose connection is gone or not Ready says
		// so at once, not only at its next run.
		r.phaseConnection,
		r.phasePlan,
		r.phaseDue,
		r.phaseStartRun,
	} {
		done, err := phase(ctx, s)
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
	r.wake = make(chan event.TypedGenericEvent[*bankingv1alpha1.SyncJob], 1024)
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &bankingv1alpha1.SyncJob{}, connectionRefIndex,
		func(o client.Object) []string { return []string{o.(*bankingv1alpha1.SyncJob).Spec.ConnectionRef.Name} }); err != nil {
		return fmt.Errorf("indexing SyncJobs by connection: %w", err)
	}
	if err := ctrl.NewControllerManagedBy(mgr).
		For(&bankingv1alpha1.SyncJob{}).
		// A connection becoming Ready (or not) wakes the jobs that read it.
		Watches(&bankingv1alpha1.BankConnection{}, handler.EnqueueRequestsFromMapFunc(r.jobsOfConnection)).
		// Webhooks from the gateway wake the job whose results are ready.
		WatchesRawSource(source.Channel(r.wake, &handler.TypedEnqueueRequestForObject[*bankingv1alpha1.SyncJob]{})).
		Named("syncjob").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r); err != nil {
		return fmt.Errorf("setting up syncjob controller: %w", err)
	}
	return nil
}

func (r *SyncJobReconciler) jobsOfConnection(ctx context.Context, o client.Object) []reconcile.Request {
	var jobs bankingv1alpha1.SyncJobList
	if err := r.List(ctx, &jobs, client.InNamespace(o.GetNamespace()), client.MatchingFields{connectionRefIndex: o.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "Listing SyncJobs of a connection", "bankconnection", client.ObjectKeyFromObject(o))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(jobs.Items))
	for _, j := range jobs.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: j.Namespace, Name: j.Name}})
	}
	return reqs
}

// Notify is the gateway's webhook callback: it wakes the job when the webhook names a
// task of its active run, and reports whether it did.
func (r *SyncJobReconciler) Notify(e gateway.WebhookEvent) bool {
	sj := &bankingv1alpha1.SyncJob{}
	if err := r.Get(context.Background(), e.Job, sj); err != nil {
		return false
	}
	return r.wakeRun(sj, e.RunID, e.TaskID)
}

// wakeRun wakes sj when its active run (runID, or any when empty) waits for the
// provider task taskID, and reports whether it did.
func (r *SyncJobReconciler) wakeRun(sj *bankingv1alpha1.SyncJob, runID, taskID string) bool {
	run := sj.Status.ActiveRun
	if run == nil || (runID != "" && run.ID != runID) {
		return false
	}
	for _, t := range run.Tasks {
		if t.TaskID == taskID {
			r.woken.Store(wakeKey(sj, run.ID), true)
			select {
			case r.wake <- event.TypedGenericEvent[*bankingv1alpha1.SyncJob]{Object: sj}:
			default: // the queue is full; polling collects the results
			}
			return true
		}
	}
	return false
}

// takeWake reports (and forgets) whether a webhook woke the run.
func (r *SyncJobReconciler) takeWake(sj *bankingv1alpha1.SyncJob, runID string) bool {
	_, ok := r.woken.LoadAndDelete(wakeKey(sj, runID))
	return ok
}

func wakeKey(sj *bankingv1alpha1.SyncJob, runID string) string {
	return sj.Namespace + "/" + sj.Name + "/" + runID
}
