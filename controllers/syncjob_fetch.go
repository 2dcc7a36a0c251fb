package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// Sending a run's fetches to the provider, collecting their asynchronous answers and
// storing what they bring.

// issue sends fetches: unattended ones are first reserved in the connection's ledger.
// Calls a fetch's answer makes necessary (Signup+'s per-account identities, a
// window the bank refused as older than the SCA window allows) are reserved and sent
// after it, so the ledger counts every call that reaches the bank.
func (r *SyncJobReconciler) issue(ctx context.Context, s *jobScope, rc *runContext, fetches []provider.Fetch) error {
	run := s.sj.Status.ActiveRun
	if len(fetches) == 0 {
		return nil
	}
	// Before reserving calls: a token that cannot be read leaves the ledger untouched.
	if _, err := rc.sessionOf(ctx); err != nil {
		return err
	}
	if !run.Attended {
		if err := r.reserve(ctx, s, rc, fetches); err != nil {
			return err
		}
	}
	queue := append([]provider.Fetch(nil), fetches...)
	for i := 0; i < len(queue); i++ {
		more, err := r.send(ctx, s, rc, queue[i])
		if err != nil {
			return err
		}
		if len(more) == 0 {
			continue
		}
		if !run.Attended {
			if err := r.reserveMore(ctx, s, rc, more); err != nil {
				if errors.Is(err, errBudget) {
					r.fetchFailed(s, more[0], fmt.Errorf("%d more call(s) the answer asked for were not sent: %w", len(more), err))
					continue
				}
				return err
			}
		}
		queue = append(queue, more...)
	}
	return nil
}

// send sends one fetch and handles its answer: a task to collect later, or data to
// store. more are the calls the answer makes necessary.
func (r *SyncJobReconciler) send(ctx context.Context, s *jobScope, rc *runContext, f provider.Fetch) (more []provider.Fetch, err error) {
	f = r.prepare(ctx, s, rc, f)
	sess, err := rc.sessionOf(ctx)
	if err != nil {
		return nil, err
	}
	res, err := rc.data.Fetch(ctx, rc.conn, sess, f)
	switch {
	case err != nil:
		return r.refused(ctx, s, rc, f, err)
	case res.Task != nil:
		s.sj.Status.ActiveRun.Tasks = append(s.sj.Status.ActiveRun.Tasks, taskOf(f, res.Task))
	case res.Data != nil:
		if err := r.store(ctx, s, rc, f, res.Data); err != nil {
			return nil, err
		}
		for _, acct := range res.Data.IdentityAccounts {
			more = append(more, provider.Fetch{Resource: provider.ResourceIdentity, AccountID: acct})
		}
	}
	return more, nil
}

// prepare sets what a fetch of this run carries: the user's IP for an attended run,
// Codat's all-data refresh, the async mode and its webhook.
func (r *SyncJobReconciler) prepare(ctx context.Context, s *jobScope, rc *runContext, f provider.Fetch) provider.Fetch {
	run := s.sj.Status.ActiveRun
	f.PSUIP = run.PSUIP
	f.AllData = wantsAllData(rc.bc, s.sj)
	if !r.asyncFor(s.sj, rc, f) {
		return f
	}
	f.Async = true
	if rc.bc.Spec.Provider == bankingv1alpha1.ProviderTrueLayer && rc.conn.DataAPI != string(bankingv1alpha1.DataAPIV3) {
		uri, err := r.Links.WebhookURL(s.sj.Namespace, s.sj.Name, run.ID, run.StartedAt.Time)
		if err != nil {
			// Polling collects the results without a webhook.
			log.FromContext(ctx).Error(err, "Fetching without a webhook", "syncjob", client.ObjectKeyFromObject(s.sj))
		}
		f.WebhookURI = uri
	}
	return f
}

// refused handles a fetch the provider refused: a narrower window to ask for
// instead (scaFallback), a failure the run records, or an error that ends it.
func (r *SyncJobReconciler) refused(ctx context.Context, s *jobScope, rc *runContext, f provider.Fetch, err error) ([]provider.Fetch, error) {
	ids, idErr := r.storeIDsOf(ctx, rc)
	if idErr != nil {
		return nil, idErr
	}
	if retry, ok := scaFallback(s, ids.of(f.AccountID), f, err); ok {
		r.event(s.sj, "Warning", bankingv1alpha1.ReasonHistoryUnavailable, "Run",
			"The bank refused transactions older than 90 days outside the SCA window; the run reads the last 90 days instead")
		return retry, nil
	}
	return nil, r.fetchFailed(s, f, err)
}

// scaFallback handles a transactions window the bank refused as reaching further
// back than the SCA window allows (TrueLayer's sca_exceeded): it returns the part
// inside 90 days to ask for instead, or none when the whole window is older, in which
// case the watermark moves past it at once. Either way the older history cannot be
// read without a new consent, so the run does not fail on it again and again.
// accountID is the store's id of the fetch's account (the watermark's key).
func scaFallback(s *jobScope, accountID string, f provider.Fetch, err error) (retry []provider.Fetch, handled bool) {
	pe, ok := provider.AsError(err)
	if !ok || pe.Reason != provider.ReasonSCAExceeded || f.Resource != provider.ResourceTransactions {
		return nil, false
	}
	floor := syncrun.SCAFloor(s.now)
	if !f.From.Before(floor) {
		return nil, false // already inside 90 days: nothing narrower to ask
	}
	if !floor.Before(f.To) {
		advanceWatermark(s.sj, accountID, f, floor)
		return nil, true
	}
	narrow := f
	narrow.From = floor
	return []provider.Fetch{narrow}, true
}

// asyncFor says whether f uses the provider's async mode: not in Sync mode, and not
// for an attended run where the provider answers synchronously too (TrueLayer Data
// API v1 and Signup+): the user waits for it, and a webhook round trip only adds
// delay. Data API v3 transactions and Codat are always asynchronous.
func (r *SyncJobReconciler) asyncFor(sj *bankingv1alpha1.SyncJob, rc *runContext, f provider.Fetch) bool {
	if sj.Spec.Mode == bankingv1alpha1.SyncModeSync || !asyncCapable(rc.bc, f) {
		return false
	}
	return !(sj.Status.ActiveRun.Attended && rc.conn.DataAPI != string(bankingv1alpha1.DataAPIV3))
}

// wantsAllData: a Codat job reading balances and transactions (accounts come with
// them) wants every data type Codat's Banking API offers, so one refresh of them all
// (POST data/all) replaces queueing each.
func wantsAllData(bc *bankingv1alpha1.BankConnection, sj *bankingv1alpha1.SyncJob) bool {
	return bc.Spec.Provider == bankingv1alpha1.ProviderCodat &&
		slices.Contains(sj.Spec.Resources, bankingv1alpha1.ResourceBalance) &&
		slices.Contains(sj.Spec.Resources, bankingv1alpha1.ResourceTransactions)
}

// asyncCapable says which fetches can use the provider's async mode: TrueLayer v1
// data endpoints (not the small connection-level reads) and v3 transactions; Codat is
// always asynchronous (its client queues pulls whatever the mode).
func asyncCapable(bc *bankingv1alpha1.BankConnection, f provider.Fetch) bool {
	switch f.Resource {
	case provider.ResourceAccounts, provider.ResourceCards, provider.ResourceInfo, provider.ResourceIdentity:
		return false
	}
	return bc.Spec.Provider == bankingv1alpha1.ProviderTrueLayer
}

// fetchFailed records a failed fetch. It returns an error to end the run when
// going on is pointless (the consent needs a human).
func (r *SyncJobReconciler) fetchFailed(s *jobScope, f provider.Fetch, err error) error {
	if provider.ClassOf(err) == provider.ClassNeedsHuman {
		return err
	}
	run := s.sj.Status.ActiveRun
	msg := fmt.Sprintf("%s %s: %v", f.Resource, f.AccountID, err)
	if len(run.Errors) < 20 {
		run.Errors = append(run.Errors, truncate(msg, 200))
	}
	return nil
}

// collect reads finished async tasks. pending is true while some are not ready.
func (r *SyncJobReconciler) collect(ctx context.Context, s *jobScope, rc *runContext) (pending bool, err error) {
	run := s.sj.Status.ActiveRun
	for i := range run.Tasks {
		t := &run.Tasks[i]
		if t.Done {
			continue
		}
		f := fetchOf(*t)
		sess, err := rc.sessionOf(ctx)
		if err != nil {
			return false, err
		}
		data, err := rc.data.Collect(ctx, rc.conn, sess, provider.Task{ID: t.TaskID, ResultsURI: t.ResultsURI}, f)
		if err != nil {
			switch provider.ClassOf(err) {
			case provider.ClassRetryLater, provider.ClassRateLimited:
				pending = true
				continue
			}
			t.Done = true
			if stop := r.fetchFailed(s, f, err); stop != nil {
				return false, stop
			}
			continue
		}
		if data == nil {
			pending = true
			continue
		}
		if err := r.store(ctx, s, rc, f, data); err != nil {
			return false, err
		}
		t.Done = true
	}
	return pending, nil
}

// store writes one fetch's data and updates counts, accounts and watermarks.
func (r *SyncJobReconciler) store(ctx context.Context, s *jobScope, rc *runContext, f provider.Fetch, d *provider.Data) error {
	res, err := syncrun.Write(ctx, r.Store, rc.owner, f, d, s.now)
	if err != nil {
		return err
	}
	run := s.sj.Status.ActiveRun
	addCount(&run.Counts, res)
	if len(res.Accounts) > 0 || f.Resource == provider.ResourceAccounts || f.Resource == provider.ResourceCards {
		rc.storeIDs = nil // the accounts just written may carry a re-consent's new ids
		if err := r.recordAccounts(ctx, rc, f, d); err != nil {
			return err
		}
	}
	if f.Resource == provider.ResourceTransactions {
		ids, err := r.storeIDsOf(ctx, rc)
		if err != nil {
			return err
		}
		advanceWatermark(s.sj, ids.of(f.AccountID), f, historyFloor(rc.bc, s.now))
	}
	return nil
}

func taskOf(f provider.Fetch, t *provider.Task) bankingv1alpha1.ProviderTask {
	return bankingv1alpha1.ProviderTask{
		Resource: syncrun.SyncResource(f.Resource), AccountID: f.AccountID, Card: f.Card, TaskID: t.ID, ResultsURI: t.ResultsURI,
		From: timePtr(f.From), To: timePtr(f.To),
	}
}

func fetchOf(t bankingv1alpha1.ProviderTask) provider.Fetch {
	return provider.Fetch{Resource: syncrun.ProviderResource(t.Resource), AccountID: t.AccountID, Card: t.Card, From: timeOf(t.From), To: timeOf(t.To)}
}

func addCount(counts *[]bankingv1alpha1.ResourceCount, res syncrun.Result) {
	for i := range *counts {
		if (*counts)[i].Resource == res.Resource {
			(*counts)[i].Fetched += res.Fetched
			(*counts)[i].Stored += res.Stored
			return
		}
	}
	*counts = append(*counts, bankingv1alpha1.ResourceCount{Resource: res.Resource, Fetched: res.Fetched, Stored: res.Stored})
}
