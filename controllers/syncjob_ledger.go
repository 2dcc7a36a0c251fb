package controllers

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/budget"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// The connection's ledger of unattended calls (status.unattendedCalls): a run
// reserves its calls in it before it sends them.

var errBudget = errors.New("the unattended-call budget of the connection is exhausted")

// reserve writes the fetches into the connection's ledger before they are sent, with
// an optimistic lock: if another job spent the budget meanwhile, nothing is sent. It
// is called before a phase sends anything, so a lost lock asks for the reconcile to
// look again (errRequeue), which issues the phase again on the latest ledger.
func (r *SyncJobReconciler) reserve(ctx context.Context, s *jobScope, rc *runContext, fetches []provider.Fetch) error {
	err := r.reserveCalls(ctx, s, rc, fetches, lockOnce)
	if apierrors.IsConflict(err) {
		return errRequeue // nothing was sent: reserve again on the latest ledger
	}
	return err
}

// reserveMore reserves calls decided in the middle of a phase, after others were
// sent: a lost optimistic lock is retried here rather than by issuing the phase
// again, which would send its calls twice; a ledger that keeps changing ends the run.
func (r *SyncJobReconciler) reserveMore(ctx context.Context, s *jobScope, rc *runContext, fetches []provider.Fetch) error {
	err := r.reserveCalls(ctx, s, rc, fetches, lockRetries)
	if apierrors.IsConflict(err) {
		return fmt.Errorf("reserving unattended calls: the ledger kept changing: %w", err)
	}
	return err
}

// reserveCalls reserves the fetches in the latest ledger when they fit it (errBudget
// when not), in up to attempts tries (patchConnectionStatus).
func (r *SyncJobReconciler) reserveCalls(ctx context.Context, s *jobScope, rc *runContext, fetches []provider.Fetch, attempts int) error {
	ids, err := r.storeIDsOf(ctx, rc)
	if err != nil {
		return err
	}
	plan := budgetPlan(fetches, ids)
	latest, err := patchConnectionStatus(ctx, r.Client, r.APIReader, client.ObjectKeyFromObject(rc.bc), attempts,
		func(bc *bankingv1alpha1.BankConnection) (bool, error) {
			if fits, _ := budget.Check(bc.Status.UnattendedCalls, plan, s.now); !fits {
				return false, errBudget
			}
			bc.Status.UnattendedCalls = budget.Reserve(bc.Status.UnattendedCalls, plan, s.now)
			return true, nil
		})
	if errors.Is(err, errBudget) || apierrors.IsConflict(err) {
		return err
	}
	if err != nil {
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

// budgetPlan is the ledger plan of fetches under the store's account ids: the
// four-calls rule counts unattended calls per bank account, and a re-consent's new
// ids do not make it another account.
func budgetPlan(fetches []provider.Fetch, ids storeAccountIDs) budget.Plan {
	p := budget.Plan{}
	for k, n := range syncrun.BudgetPlan(fetches) {
		k.AccountID = ids.of(k.AccountID)
		p[k] += n
	}
	return p
}
