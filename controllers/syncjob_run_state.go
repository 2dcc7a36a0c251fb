package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// A run in flight is a small state machine: nextRunAction decides, from the run as its status
// records it, which action comes next; stepActiveRun takes the actions until one waits
// for the provider or the run ends.

// runAction is the next thing a run in flight does.
type runAction int

const (
	// runWaitForPoll: tasks are pending, no webhook woke the run and its next poll is
	// not due yet: the results are read then, not on every reconcile an unrelated
	// change causes.
	runWaitForPoll runAction = iota
	// runCollect reads the pending tasks' results (a webhook woke the run, or the
	// poll is due).
	runCollect
	// runIssueConnectionData sends the connection-level fetches (accounts, cards,
	// info, identity): the run's first phase.
	runIssueConnectionData
	// runIssueAccountData sends the per-account fetches (balances, transactions, …).
	runIssueAccountData
	// runFinish ends the run: both phases were answered.
	runFinish
)

func (s runAction) String() string {
	return [...]string{"WaitForPoll", "Collect", "IssueConnectionData", "IssueAccountData", "Finish"}[s]
}

// nextRunAction is the next step of run at now; woken says a webhook reported a task of the
// run finished since the run last looked (wokenBy).
func nextRunAction(run *bankingv1alpha1.ActiveRun, woken bool, now time.Time) runAction {
	if hasPending(run) {
		if poll := timeOf(run.NextPollAt); !woken && !poll.IsZero() && now.Before(poll) {
			return runWaitForPoll
		}
		return runCollect
	}
	switch run.Phase {
	case "":
		return runIssueConnectionData
	case bankingv1alpha1.RunPhaseConnectionData:
		return runIssueAccountData
	default:
		return runFinish
	}
}

// maxRunActions bounds the actions one reconcile takes: a collect, the two phases' fetches
// and the finish. A step that does not move the run on is a bug, reported as an error
// rather than looped on.
const maxRunActions = 4

// stepActiveRun drives the run in flight, one step after the other, until a step
// waits for the provider or the run ends.
func (r *SyncJobReconciler) stepActiveRun(ctx context.Context, s *jobScope) (bool, error) {
	sj := s.sj
	run := sj.Status.ActiveRun
	if run == nil {
		return false, nil
	}
	s.report.runInFlight = true
	rc, wait, err := r.runContext(ctx, s)
	if err != nil {
		return true, err
	}
	if wait != "" {
		return true, r.finish(ctx, s, nil, errors.New(wait))
	}
	for range maxRunActions {
		stop, err := r.take(ctx, s, rc, nextRunAction(run, wokenBy(sj, run), s.now))
		if stop || err != nil {
			return true, err
		}
	}
	return true, fmt.Errorf("run %s: still not waiting or finished after %d actions", run.ID, maxRunActions)
}

// take does one step of the run; stop is true when the run waits for the provider or
// ended.
func (r *SyncJobReconciler) take(ctx context.Context, s *jobScope, rc *runContext, step runAction) (stop bool, err error) {
	run := s.sj.Status.ActiveRun
	switch step {
	case runWaitForPoll:
		s.requeueAt(run.NextPollAt.Time)
		return true, nil
	case runCollect:
		return r.collectStep(ctx, s, rc)
	case runIssueConnectionData:
		return r.issuePhase(ctx, s, rc, bankingv1alpha1.RunPhaseConnectionData, syncrun.ConnectionFetches(s.sj))
	case runIssueAccountData:
		fetches, err := r.accountFetches(ctx, s, rc)
		if err != nil {
			return true, r.finish(ctx, s, rc, err)
		}
		return r.issuePhase(ctx, s, rc, bankingv1alpha1.RunPhaseAccountData, fetches)
	default:
		return true, r.finish(ctx, s, rc, nil)
	}
}

// collectStep reads the finished tasks; while some are not ready, the next poll is
// spaced out further (consent.PollDelay).
func (r *SyncJobReconciler) collectStep(ctx context.Context, s *jobScope, rc *runContext) (bool, error) {
	sj := s.sj
	run := sj.Status.ActiveRun
	if wokenBy(sj, run) {
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
	return false, nil
}

// accountFetches are the per-account fetches of the run's second phase, each
// transactions window from the account's watermark.
func (r *SyncJobReconciler) accountFetches(ctx context.Context, s *jobScope, rc *runContext) ([]provider.Fetch, error) {
	sj := s.sj
	floor := historyFloor(rc.bc, s.now)
	ids, err := r.storeIDsOf(ctx, rc)
	if err != nil {
		return nil, err
	}
	return syncrun.AccountFetches(sj, knownAccounts(rc.bc), func(a syncrun.Account) (time.Time, time.Time) {
		return syncrun.TransactionWindow(sj, watermark(sj, ids.of(a.ID)), s.now, floor)
	}), nil
}

// issuePhase sends a phase's fetches and moves the run to it; the run waits for the
// poll when the provider answered some of them asynchronously.
func (r *SyncJobReconciler) issuePhase(ctx context.Context, s *jobScope, rc *runContext, phase bankingv1alpha1.RunPhase, fetches []provider.Fetch) (bool, error) {
	run := s.sj.Status.ActiveRun
	if !s.fresh {
		if err := r.confirmFreshJob(ctx, s.sj); err != nil {
			return true, err
		}
		s.fresh = true
	}
	if err := r.issue(ctx, s, rc, fetches); err != nil {
		// errRequeue (a lost optimistic lock) leaves the phase to be issued again.
		return true, r.finish(ctx, s, rc, err)
	}
	run.Phase = phase
	s.bc = rc.bc // with the accounts and ledger this phase recorded
	if hasPending(run) {
		run.PollAttempts = 0
		run.NextPollAt = timePtr(s.now.Add(r.PollInterval))
		s.requeueAt(run.NextPollAt.Time)
		return true, nil
	}
	return false, nil // everything answered synchronously: the next phase
}

func hasPending(run *bankingv1alpha1.ActiveRun) bool {
	for _, t := range run.Tasks {
		if !t.Done {
			return true
		}
	}
	return false
}
