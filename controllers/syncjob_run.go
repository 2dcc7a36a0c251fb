package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/budget"
	"github.com/consent-operator/consent-operator/internal/conditions"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// runContext is what driving a run needs beyond the job.
type runContext struct {
	bc   *bankingv1alpha1.BankConnection
	data provider.DataClient
	conn provider.Connection
	// tokens reads the session's access token (the token Secret, whole, from the
	// apiserver: the cache holds its metadata only); nil for a connection without
	// tokens. Read once per reconcile, by the first provider call (session).
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

// phaseActiveRun drives the run in flight: collect finished tasks, then issue the
// next phase's fetches, then finish.
func (r *SyncJobReconciler) phaseActiveRun(ctx context.Context, s *jobScope) (bool, error) {
	sj := s.sj
	run := sj.Status.ActiveRun
	if run == nil {
		return false, nil
	}
	conditions.MarkAbnormal(&sj.Status.Conditions, sj.Generation, bankingv1alpha1.ConditionReconciling, true,
		bankingv1alpha1.ReasonRunning, "A run is in flight")
	if s.readyStatus() == metav1.ConditionUnknown {
		s.setReady(metav1.ConditionUnknown, bankingv1alpha1.ReasonRunning, "The first run is in flight")
	}

	rc, wait, err := r.runContext(ctx, s)
	if err != nil {
		return false, err
	}
	if wait != "" {
		return true, r.finish(ctx, s, rc, fmt.Errorf("%s", wait))
	}

	if hasPending(run) {
		// Results are read when a webhook says they are ready or the poll is due, not
		// on every reconcile an unrelated change causes.
		woken := wokenBy(sj, run)
		if next := timeOf(run.NextPollAt); !woken && !next.IsZero() && s.now.Before(next) {
			s.requeueAt(next)
			return true, nil
		}
		if woken {
			run.HandledWake = sj.Status.Wake.ID
		}
		pending, err := r.collect(ctx, s, rc)
		if err != nil {
			return true, r.finish(ctx, s, rc, err)
		}
		if pending {
			run.NextPollAt = timePtr(s.now.Add(consent.PollDelay(r.PollInterval, run.PollAttempts)))
			run.PollAttempts++
			s.requeueAt(run.NextPollAt.Time)
			return true, nil
		}
	}

	var next bankingv1alpha1.RunPhase
	var fetches []provider.Fetch
	switch run.Phase {
	case "":
		next, fetches = bankingv1alpha1.RunPhaseConnectionData, syncrun.ConnectionFetches(sj)
	case bankingv1alpha1.RunPhaseConnectionData:
		next = bankingv1alpha1.RunPhaseAccountData
		floor := historyFloor(rc.bc, s.now)
		ids, err := r.storeIDsOf(ctx, rc)
		if err != nil {
			return true, r.finish(ctx, s, rc, err)
		}
		fetches = syncrun.AccountFetches(sj, knownAccounts(rc.bc), func(a syncrun.Account) (time.Time, time.Time) {
			return syncrun.TransactionWindow(sj, watermark(sj, ids.of(a.ID)), s.now, floor)
		})
	default:
		return true, r.finish(ctx, s, rc, nil)
	}
	if !s.fresh {
		if err := r.confirmFreshJob(ctx, sj); err != nil {
			return true, err
		}
		s.fresh = true
	}
	if err := r.issue(ctx, s, rc, fetches); err != nil {
		// errRequeue (a lost optimistic lock) leaves the phase to be issued again.
		return true, r.finish(ctx, s, rc, err)
	}
	run.Phase = next
	if hasPending(run) {
		run.PollAttempts = 0
		run.NextPollAt = timePtr(s.now.Add(r.PollInterval))
		s.requeueAt(run.NextPollAt.Time)
		return true, nil
	}
	s.bc = rc.bc                    // with the accounts and ledger this phase recorded
	return r.phaseActiveRun(ctx, s) // everything answered synchronously: next phase
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
	sealer, err := r.Tokens.Sealer(ctx, bc)
	if err != nil {
		return nil, "the token Secret cannot be read: " + err.Error(), nil
	}
	snap, err := r.Tokens.Load(ctx, bc, sealer, false)
	if err != nil {
		return nil, "the token Secret cannot be read: " + err.Error(), nil
	}
	if snap.HasTokens {
		if !snap.ExpiresAt.After(s.now.Add(time.Minute)) {
			if err := r.requestRefresh(ctx, bc, s.now); err != nil {
				return nil, "", err
			}
			return nil, "", errRequeue // the connection refreshes the token first
		}
		rc.tokens = func(ctx context.Context) (provider.Tokens, error) {
			t, err := r.Tokens.LoadTokens(ctx, bc, sealer, &snap)
			if err == nil && !snap.HasTokens {
				err = errors.New("the token Secret holds no tokens any more")
			}
			return t, err
		}
	}
	return rc, "", nil
}

// requestRefresh asks the BankConnection controller for a fresh token (OnDemand).
func (r *SyncJobReconciler) requestRefresh(ctx context.Context, bc *bankingv1alpha1.BankConnection, now time.Time) error {
	if v := bc.Annotations[bankingv1alpha1.AnnotationRefreshRequestedAt]; v != "" && v != bc.Status.LastHandledRefreshAt {
		return nil // already asked
	}
	patch := client.MergeFrom(bc.DeepCopy())
	if bc.Annotations == nil {
		bc.Annotations = map[string]string{}
	}
	bc.Annotations[bankingv1alpha1.AnnotationRefreshRequestedAt] = "syncjob-" + now.UTC().Format(time.RFC3339)
	if err := r.Patch(ctx, bc, patch); err != nil {
		return fmt.Errorf("requesting a token refresh: %w", err)
	}
	return nil
}

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
	sess, err := rc.sessionOf(ctx)
	if err != nil {
		return err
	}
	if !run.Attended {
		if err := r.reserve(ctx, s, rc, fetches); err != nil {
			return err
		}
	}
	queue := append([]provider.Fetch(nil), fetches...)
	allData := wantsAllData(rc.bc, s.sj)
	for i := 0; i < len(queue); i++ {
		f := queue[i]
		f.PSUIP = run.PSUIP
		f.AllData = allData
		if async := r.asyncFor(s.sj, rc, f); async {
			f.Async = true
			if rc.bc.Spec.Provider == bankingv1alpha1.ProviderTrueLayer && rc.conn.DataAPI != string(bankingv1alpha1.DataAPIV3) {
				uri, err := r.Links.WebhookURL(s.sj.Namespace, s.sj.Name, run.ID, run.StartedAt.Time)
				if err != nil {
					// Polling collects the results without a webhook.
					log.FromContext(ctx).Error(err, "Fetching without a webhook", "syncjob", client.ObjectKeyFromObject(s.sj))
				}
				f.WebhookURI = uri
			}
		}
		res, err := rc.data.Fetch(ctx, rc.conn, sess, f)
		var more []provider.Fetch
		switch {
		case err != nil:
			ids, idErr := r.storeIDsOf(ctx, rc)
			if idErr != nil {
				return idErr
			}
			if retry, ok := scaFallback(s, ids.of(f.AccountID), f, err); ok {
				r.event(s.sj, "Warning", bankingv1alpha1.ReasonHistoryUnavailable, "Run",
					"The bank refused transactions older than 90 days outside the SCA window; the run reads the last 90 days instead")
				more = retry
				break
			}
			if stop := r.fetchFailed(s, f, err); stop != nil {
				return stop
			}
		case res.Task != nil:
			run.Tasks = append(run.Tasks, taskOf(f, res.Task))
		case res.Data != nil:
			if err := r.store(ctx, s, rc, f, res.Data); err != nil {
				return err
			}
			for _, acct := range res.Data.IdentityAccounts {
				more = append(more, provider.Fetch{Resource: provider.ResourceIdentity, AccountID: acct})
			}
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

// reserve writes the fetches into the connection's ledger before they are sent, with
// an optimistic lock: if another job spent the budget meanwhile, nothing is sent.
func (r *SyncJobReconciler) reserve(ctx context.Context, s *jobScope, rc *runContext, fetches []provider.Fetch) error {
	latest := &bankingv1alpha1.BankConnection{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(rc.bc), latest); err != nil {
		return fmt.Errorf("reading the call ledger: %w", err)
	}
	ids, err := r.storeIDsOf(ctx, rc)
	if err != nil {
		return err
	}
	plan := budgetPlan(fetches, ids)
	if fits, _ := budget.Check(latest.Status.UnattendedCalls, plan, s.now); !fits {
		return errBudget
	}
	before := latest.DeepCopy()
	latest.Status.UnattendedCalls = budget.Reserve(latest.Status.UnattendedCalls, plan, s.now)
	if err := r.Status().Patch(ctx, latest, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return errRequeue // nothing was sent: reserve again on the latest ledger
		}
		return fmt.Errorf("reserving unattended calls: %w", err)
	}
	rc.bc = latest
	keys := make([]budget.Key, 0, len(plan))
	for k := range plan {
		keys = append(keys, k)
	}
	r.Metrics.Budget(latest.Namespace, latest.Name, budget.Remaining(latest.Status.UnattendedCalls, keys, s.now))
	return nil
}

// reserveMore reserves calls decided in the middle of a phase, after others were
// sent: a lost optimistic lock is retried here rather than by issuing the phase
// again, which would send its calls twice.
func (r *SyncJobReconciler) reserveMore(ctx context.Context, s *jobScope, rc *runContext, fetches []provider.Fetch) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = r.reserve(ctx, s, rc, fetches); !errors.Is(err, errRequeue) {
			return err
		}
	}
	return fmt.Errorf("reserving unattended calls: the ledger kept changing: %w", err)
}

var errBudget = errors.New("the unattended-call budget of the connection is exhausted")

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

// recordAccounts keeps the discovered accounts (or cards) in the connection's status.
func (r *SyncJobReconciler) recordAccounts(ctx context.Context, rc *runContext, f provider.Fetch, d *provider.Data) error {
	kind := "Account"
	var found []bankingv1alpha1.AccountStatus
	if f.Resource == provider.ResourceCards {
		kind = "Card"
		for _, c := range d.Cards {
			found = append(found, bankingv1alpha1.AccountStatus{ID: c.AccountID, Kind: kind, DisplayName: c.DisplayName, Currency: c.Currency})
		}
	} else {
		for _, a := range d.Accounts {
			found = append(found, bankingv1alpha1.AccountStatus{ID: a.AccountID, Kind: kind, DisplayName: a.DisplayName, Currency: a.Currency})
		}
	}
	latest := &bankingv1alpha1.BankConnection{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(rc.bc), latest); err != nil {
		return fmt.Errorf("reading BankConnection: %w", err)
	}
	before := latest.DeepCopy()
	accounts := found
	for _, a := range latest.Status.Accounts {
		if a.Kind != kind {
			accounts = append(accounts, a)
		}
	}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].ID < accounts[j].ID })
	latest.Status.Accounts = accounts
	if equalAccounts(before.Status.Accounts, accounts) {
		rc.bc = latest
		return nil
	}
	if err := r.Status().Patch(ctx, latest, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("recording accounts: %w", err)
	}
	rc.bc = latest
	return nil
}

// finish ends the run: Succeeded, PartiallySucceeded (some fetches failed), or Failed.
func (r *SyncJobReconciler) finish(ctx context.Context, s *jobScope, rc *runContext, cause error) error {
	sj := s.sj
	run := sj.Status.ActiveRun
	result := bankingv1alpha1.RunSucceeded
	msg := ""
	switch {
	case cause != nil:
		result, msg = bankingv1alpha1.RunFailed, cause.Error()
		if errors.Is(cause, errBudget) {
			msg = "Stopped: " + cause.Error()
		}
		if len(run.Counts) > 0 {
			result = bankingv1alpha1.RunPartiallySucceeded
		}
	case len(run.Errors) > 0:
		result, msg = bankingv1alpha1.RunPartiallySucceeded, strings.Join(run.Errors, "; ")
	}
	if errors.Is(cause, errRequeue) {
		return cause
	}
	if run.Attended {
		if err := r.consumePSUIP(ctx, sj, run.PSUIP); err != nil {
			return err
		}
	}
	now := metav1.NewTime(s.now.UTC().Truncate(time.Second))
	counts := map[string]int64{}
	for _, c := range run.Counts {
		counts[string(c.Resource)] = c.Stored
	}
	if err := r.Store.FinishSyncRun(ctx, store.RunResult{
		Namespace: sj.Namespace, RunID: run.ID, FinishedAt: s.now, Status: storeStatus(result), Counts: counts, Error: truncate(msg, 1000),
	}); err != nil {
		return fmt.Errorf("recording run end: %w", err)
	}
	r.recordRun(sj, bankingv1alpha1.RunRecord{
		ID: run.ID, StartedAt: run.StartedAt, FinishedAt: &now, Result: result, Attended: run.Attended,
		Counts: run.Counts, Error: truncate(msg, 1024),
	})
	r.Metrics.Run(sj.Namespace, sj.Name, string(result), s.now.Sub(run.StartedAt.Time), counts)
	sj.Status.ActiveRun = nil
	conditions.MarkAbnormal(&sj.Status.Conditions, sj.Generation, bankingv1alpha1.ConditionReconciling, false, "", "")
	switch result {
	case bankingv1alpha1.RunSucceeded:
		sj.Status.LastSuccessfulTime = &now
		reason, message := bankingv1alpha1.ReasonSucceeded, "The last run stored its data"
		if sj.Spec.Schedule == "" {
			reason, message = bankingv1alpha1.ReasonCompleted, "The run stored its data"
		}
		s.setReady(metav1.ConditionTrue, reason, message)
		r.event(sj, "Normal", bankingv1alpha1.ReasonSucceeded, "Run", "The run stored its data")
	default:
		reason, prefix := bankingv1alpha1.ReasonRunFailed, "The last run did not complete: "
		if pe, ok := provider.AsError(cause); ok && pe.Class == provider.ClassNeedsHuman && rc != nil {
			// The connection's conditions are its own reconciler's to write: ask it to
			// check with the provider now (it stalls the connection if a human must
			// act) rather than at its next scheduled look.
			if err := r.requestRefresh(ctx, rc.bc, s.now); err != nil {
				return err
			}
			reason = stallReason(pe.Reason)
			prefix = "The provider says the connection needs a human (" + reason + "); BankConnection " +
				rc.bc.Name + " was asked to check: "
		}
		s.setReady(metav1.ConditionFalse, reason, prefix+truncate(msg, 500))
		r.event(sj, "Warning", reason, "Run", prefix+truncate(msg, 500))
	}
	if s.sched != nil {
		next := s.sched.Next(s.now)
		sj.Status.NextScheduleTime = timePtr(next)
		s.requeueAt(next)
	}
	return nil
}

// consumePSUIP removes the psu-ip annotation an attended run was started with, so
// it marks that one run: a later run-requested-at without a new psu-ip is counted as
// unattended. The JSON patch tests the value first, so a psu-ip the user set again
// meanwhile (for the next run) stays. It patches a copy: the reconcile's status
// changes in sj must not be overwritten by the answer.
func (r *SyncJobReconciler) consumePSUIP(ctx context.Context, sj *bankingv1alpha1.SyncJob, value string) error {
	if value == "" || sj.Annotations[bankingv1alpha1.AnnotationPSUIP] != value {
		return nil
	}
	path := "/metadata/annotations/" + strings.ReplaceAll(strings.ReplaceAll(bankingv1alpha1.AnnotationPSUIP, "~", "~0"), "/", "~1")
	ops, err := json.Marshal([]map[string]string{{"op": "test", "path": path, "value": value}, {"op": "remove", "path": path}})
	if err != nil {
		return fmt.Errorf("encoding the psu-ip removal: %w", err)
	}
	err = r.Patch(ctx, sj.DeepCopy(), client.RawPatch(types.JSONPatchType, ops))
	if apierrors.IsInvalid(err) || apierrors.IsNotFound(err) || isTestFailed(err) {
		return nil // changed or gone meanwhile: nothing of this run's to remove
	}
	if err != nil {
		return fmt.Errorf("removing the psu-ip annotation after the attended run: %w", err)
	}
	return nil
}

// isTestFailed reports a JSON patch whose test operation failed (the apiserver
// answers 422 or, for some versions, 409/500 with the test's message).
func isTestFailed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "test operation")
}

func storeStatus(r bankingv1alpha1.RunResult) store.RunStatus {
	switch r {
	case bankingv1alpha1.RunSucceeded:
		return store.RunSucceeded
	case bankingv1alpha1.RunPartiallySucceeded:
		return store.RunPartiallySucceeded
	default:
		return store.RunFailed
	}
}

func syncRunRecord(sj *bankingv1alpha1.SyncJob, bc *bankingv1alpha1.BankConnection, runID string, now time.Time) store.SyncRun {
	return store.SyncRun{RunID: runID, SyncJob: sj.Name, Owner: connection.StoreOwner(bc), StartedAt: now, Status: store.RunRunning}
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

func hasPending(run *bankingv1alpha1.ActiveRun) bool {
	for _, t := range run.Tasks {
		if !t.Done {
			return true
		}
	}
	return false
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

// advanceWatermark moves the watermark of an account (by its store id, see
// storeAccountIDs) to the end of a stored window when
// the window starts at or before it, so a failed earlier window is never skipped,
// or at or before floor (see historyFloor): older history cannot be read any more,
// so waiting for it would hold the watermark forever.
func advanceWatermark(sj *bankingv1alpha1.SyncJob, accountID string, f provider.Fetch, floor time.Time) {
	to := metav1.NewTime(f.To.UTC().Truncate(time.Second))
	for i := range sj.Status.Watermarks {
		w := &sj.Status.Watermarks[i]
		if w.AccountID != accountID {
			continue
		}
		reachable := !f.From.After(w.TransactionsThrough.Time) || (!floor.IsZero() && !f.From.After(floor))
		if reachable && to.After(w.TransactionsThrough.Time) {
			w.TransactionsThrough = to
		}
		return
	}
	sj.Status.Watermarks = append(sj.Status.Watermarks, bankingv1alpha1.AccountWatermark{AccountID: accountID, TransactionsThrough: to})
	sort.Slice(sj.Status.Watermarks, func(i, j int) bool { return sj.Status.Watermarks[i].AccountID < sj.Status.Watermarks[j].AccountID })
}

func equalAccounts(a, b []bankingv1alpha1.AccountStatus) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
