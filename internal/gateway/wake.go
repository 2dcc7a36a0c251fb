package gateway

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/index"
)

// wakeTimeout bounds the apiserver calls one webhook makes.
const wakeTimeout = 10 * time.Second

// Wakes hand verified webhooks over to the reconcilers. The gateway records what the
// provider said in the one status field it writes on each kind (a SyncJob's
// status.wake, a BankConnection's status.checkRequest); the manager's reconcilers
// watch those fields and act. The write goes through the apiserver, so a webhook that
// reaches any gateway replica reaches the leader.
type Wakes struct {
	// Client reads BankConnections and SyncJobs from the gateway's cache and patches
	// their status.
	Client client.Client
	Clock  Clock
}

// Run handles a v1 async webhook: it wakes the SyncJob run its token names when the
// task is one the run waits for.
func (w Wakes) Run(e WebhookEvent) bool {
	ctx, cancel := context.WithTimeout(context.Background(), wakeTimeout)
	defer cancel()
	sj := &bankingv1alpha1.SyncJob{}
	if err := w.Client.Get(ctx, e.Job, sj); err != nil {
		return false
	}
	return w.wakeRun(ctx, sj, e.RunID, e.TaskID, "v1/"+e.RunID+"/"+e.TaskID)
}

// V3 handles a Data API v3 webhook.
func (w Wakes) V3(e V3Event) bool {
	ctx, cancel := context.WithTimeout(context.Background(), wakeTimeout)
	defer cancel()
	switch e.Type {
	case V3ConnectionAuthorized, V3ConnectionFailed:
		return w.v3Connection(ctx, e)
	}
	return w.v3Transactions(ctx, e)
}

// v3Connection handles connection_authorized and connection_failed: when the event
// names one of this operator's v3 connections (by the metadata the operator set and
// the data connection id in its status) it asks the reconciler to check with
// TrueLayer at once.
func (w Wakes) v3Connection(ctx context.Context, e V3Event) bool {
	if e.Namespace == "" || e.Name == "" {
		return false
	}
	bc := &bankingv1alpha1.BankConnection{}
	if err := w.Client.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: e.Name}, bc); err != nil {
		return false
	}
	if !ownsV3Event(bc, e) {
		return false
	}
	if c := bc.Status.Consent; c != nil && c.Status == bankingv1alpha1.ConsentActive {
		return true // already known to be authorised: nothing to check
	}
	req := bankingv1alpha1.CheckRequest{ID: "v3-webhook/" + e.Type + "/" + e.EventID, Source: bankingv1alpha1.CheckSourceAuthorized,
		RequestedAt: metav1.NewTime(w.Clock.Now())}
	if e.Type == V3ConnectionFailed {
		req.Source, req.FailureReason = bankingv1alpha1.CheckSourceFailed, orUnknown(e.FailureReason)
	} else if bc.Status.OpenCheckRequest() != nil {
		return true // a check is already asked for; a failure still overrides it
	}
	return requestCheck(ctx, w.Client, bc, req) == nil
}

// v3Transactions handles transaction_requests webhooks: it wakes the SyncJob whose
// active run waits for the request.
func (w Wakes) v3Transactions(ctx context.Context, e V3Event) bool {
	var conns bankingv1alpha1.BankConnectionList
	if err := w.Client.List(ctx, &conns, client.MatchingFields{IndexDataConnectionID: e.ConnectionID}); err != nil {
		return false
	}
	for i := range conns.Items {
		bc := &conns.Items[i]
		if !ownsV3Event(bc, e) {
			continue
		}
		var jobs bankingv1alpha1.SyncJobList
		if err := w.Client.List(ctx, &jobs, client.InNamespace(bc.Namespace), client.MatchingFields{index.SyncJobConnection: bc.Name}); err != nil {
			return false
		}
		for j := range jobs.Items {
			if w.wakeRun(ctx, &jobs.Items[j], "", e.RequestID, "v3-webhook/"+e.EventID) {
				return true
			}
		}
	}
	return false
}

// wakeRun records in sj's status.wake that the provider task taskID of its active run
// (runID, or any when empty) finished, and reports whether sj waits for it.
func (w Wakes) wakeRun(ctx context.Context, sj *bankingv1alpha1.SyncJob, runID, taskID, id string) bool {
	run := sj.Status.ActiveRun
	if run == nil || (runID != "" && run.ID != runID) || !waitsFor(run, taskID) {
		return false
	}
	if cur := sj.Status.Wake; cur != nil && cur.ID == id {
		return true // a redelivery: already recorded
	}
	patch := client.MergeFrom(sj.DeepCopy())
	sj.Status.Wake = &bankingv1alpha1.RunWake{ID: id, RunID: run.ID, TaskID: taskID, At: metav1.NewTime(w.Clock.Now())}
	return w.Client.Status().Patch(ctx, sj, patch) == nil
}

func waitsFor(run *bankingv1alpha1.ActiveRun, taskID string) bool {
	for _, t := range run.Tasks {
		if t.TaskID == taskID {
			return true
		}
	}
	return false
}

// ownsV3Event is true when e concerns bc: a Data API v3 connection with e's data
// connection id, in the environment whose key signed the webhook (a Sandbox key
// wakes no Live connection).
func ownsV3Event(bc *bankingv1alpha1.BankConnection, e V3Event) bool {
	if bc.Spec.Provider != bankingv1alpha1.ProviderTrueLayer || bc.Spec.DataAPI != bankingv1alpha1.DataAPIV3 {
		return false
	}
	env := bc.Spec.Environment
	if env == "" {
		env = bankingv1alpha1.EnvironmentSandbox
	}
	return string(env) == e.Environment && bc.Status.ProviderRefs != nil && bc.Status.ProviderRefs.DataConnectionID == e.ConnectionID
}

// requestCheck writes status.checkRequest.
func requestCheck(ctx context.Context, c client.Client, bc *bankingv1alpha1.BankConnection, req bankingv1alpha1.CheckRequest) error {
	patch := client.MergeFrom(bc.DeepCopy())
	bc.Status.CheckRequest = &req
	if err := c.Status().Patch(ctx, bc, patch); err != nil {
		return fmt.Errorf("requesting a consent check: %w", err)
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
