package controllers

import (
	"context"
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/schedule"
)

// jobStep is one step of a SyncJob reconcile; done=true stops the later ones.
type jobStep func(ctx context.Context, s *jobScope) (done bool, err error)

// jobScope carries what the phases of one reconcile share.
type jobScope struct {
	sj        *bankingv1alpha1.SyncJob
	now       time.Time
	sched     *schedule.Schedule
	slot      time.Time // the slot a due run is for
	manual    string    // the run-requested-at value a due run answers
	bc        *bankingv1alpha1.BankConnection
	deadlines []time.Time
	// fresh is true once the job was confirmed to be its latest version.
	fresh bool
	// report is what the phases found; the conditions are derived from it.
	report jobReport
}

func (s *jobScope) requeueAt(t time.Time) { s.deadlines = append(s.deadlines, t) }

func requeueAfter(now time.Time, deadlines []time.Time) time.Duration {
	return consent.RequeueAfter(now, consent.Earliest(deadlines...))
}
