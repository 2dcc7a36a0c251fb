package controllers

import (
	"errors"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// jobConds renders conditions as "Type=Status/Reason", sorted: the whole set a table
// row expects, so a condition that should be absent is caught too.
func jobConds(conds []metav1.Condition) []string {
	out := make([]string, 0, len(conds))
	for _, c := range conds {
		out = append(out, c.Type+"="+string(c.Status)+"/"+c.Reason)
	}
	slices.Sort(out)
	return out
}

// jobCondGeneration is the generation every updateJobConditions case reconciles; the
// fixtures below were observed at the one before.
const jobCondGeneration = 4

// Conditions a job may carry before a case's reconcile.
var (
	condReadyTrue    = priorJobReady(metav1.ConditionTrue, bankingv1alpha1.ReasonSucceeded)
	condReadyFalse   = priorJobReady(metav1.ConditionFalse, bankingv1alpha1.ReasonRunFailed)
	condReadyUnknown = priorJobReady(metav1.ConditionUnknown, bankingv1alpha1.ReasonScheduled)
	condPlanRefused  = priorJobReady(metav1.ConditionFalse, bankingv1alpha1.ReasonPlanExceedsBudget)
	condStalled      = metav1.Condition{Type: bankingv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: bankingv1alpha1.ReasonPlanExceedsBudget}
	condReconciling  = metav1.Condition{Type: bankingv1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: bankingv1alpha1.ReasonRunning}
)

func priorJobReady(status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: bankingv1alpha1.ConditionReady, Status: status, Reason: reason, ObservedGeneration: jobCondGeneration - 1}
}

// Prefixes of jobConds' rendering.
const (
	R  = bankingv1alpha1.ConditionReady + "="
	S  = bankingv1alpha1.ConditionStalled + "="
	RC = bankingv1alpha1.ConditionReconciling + "="
)

// jobCondCase is one row of the updateJobConditions tables.
type jobCondCase struct {
	name   string
	before []metav1.Condition
	rep    jobReport
	want   []string
	// message, when set, is Ready's expected message.
	message string
}

// runJobCondCases checks that each case's reconcile leaves exactly the conditions it
// wants, Ready's message, and the current generation on every condition it added.
func runJobCondCases(t *testing.T, tests []jobCondCase) {
	const gen = jobCondGeneration
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conds := slices.Clone(tc.before)
			updateJobConditions(&conds, gen, tc.rep)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if got := jobConds(conds); !slices.Equal(got, want) {
				t.Fatalf("conditions = %v, want %v", got, want)
			}
			r := conds[slices.IndexFunc(conds, func(c metav1.Condition) bool { return c.Type == bankingv1alpha1.ConditionReady })]
			if tc.message != "" && (r.Message != tc.message || r.ObservedGeneration != gen) {
				t.Errorf("Ready = %q (generation %d), want %q (generation %d)", r.Message, r.ObservedGeneration, tc.message, gen)
			}
			for _, c := range conds {
				isNew := !slices.ContainsFunc(tc.before, func(b metav1.Condition) bool { return b.Type == c.Type })
				if isNew && c.ObservedGeneration != gen {
					t.Errorf("%s observedGeneration = %d, want %d", c.Type, c.ObservedGeneration, gen)
				}
			}
		})
	}
}

// TestUpdateJobConditionsWithoutRun: reconciles with no run to report: the schedule,
// suspension and the connection decide.
func TestUpdateJobConditionsWithoutRun(t *testing.T) {
	runJobCondCases(t, []jobCondCase{
		{
			name: "first reconcile with nothing to say: Ready Unknown, Progressing",
			want: []string{R + "Unknown/" + bankingv1alpha1.ReasonProgressing},
		},
		{
			name:   "nothing to say: Ready and Reconciling stand, Stalled goes",
			before: []metav1.Condition{condReadyFalse, condStalled, condReconciling},
			want:   []string{R + "False/" + bankingv1alpha1.ReasonRunFailed, RC + "True/" + bankingv1alpha1.ReasonRunning},
		},
		{
			name:   "invalid schedule: Stalled and Ready False",
			before: []metav1.Condition{condReadyTrue},
			rep:    jobReport{scheduleProblem: "The schedule cannot be used: bad"},
			want: []string{R + "False/" + bankingv1alpha1.ReasonInvalidSchedule,
				S + "True/" + bankingv1alpha1.ReasonInvalidSchedule},
			message: "The schedule cannot be used: bad",
		},
		{
			name:    "suspended keeps Ready's status and Reconciling",
			before:  []metav1.Condition{condReadyFalse, condReconciling},
			rep:     jobReport{suspended: true},
			want:    []string{R + "False/" + bankingv1alpha1.ReasonSuspended, RC + "True/" + bankingv1alpha1.ReasonRunning},
			message: msgJobSuspended,
		},
		{
			name: "suspended before any status: Ready Unknown",
			rep:  jobReport{suspended: true},
			want: []string{R + "Unknown/" + bankingv1alpha1.ReasonSuspended},
		},
		{
			name:    "waiting for the connection: Ready False, no Reconciling",
			before:  []metav1.Condition{condReadyTrue, condReconciling},
			rep:     jobReport{waitingForConnection: "BankConnection bank is not Ready yet"},
			want:    []string{R + "False/" + bankingv1alpha1.ReasonWaitingForConnection},
			message: "BankConnection bank is not Ready yet",
		},
	})
}

// TestUpdateJobConditionsRuns: a run in flight and the ways a run ends.
func TestUpdateJobConditionsRuns(t *testing.T) {
	runJobCondCases(t, []jobCondCase{
		{
			name:    "a run in flight before any run said anything: Running",
			rep:     jobReport{runInFlight: true},
			want:    []string{R + "Unknown/" + bankingv1alpha1.ReasonRunning, RC + "True/" + bankingv1alpha1.ReasonRunning},
			message: msgFirstRunInFlight,
		},
		{
			name:   "a run in flight keeps what the last run said",
			before: []metav1.Condition{condReadyTrue},
			rep:    jobReport{runInFlight: true},
			want:   []string{R + "True/" + bankingv1alpha1.ReasonSucceeded, RC + "True/" + bankingv1alpha1.ReasonRunning},
		},
		{
			name:    "a run started once the plan was fixed: Running",
			before:  []metav1.Condition{condPlanRefused},
			rep:     jobReport{planFits: true, runInFlight: true},
			want:    []string{R + "Unknown/" + bankingv1alpha1.ReasonRunning, RC + "True/" + bankingv1alpha1.ReasonRunning},
			message: msgFirstRunInFlight,
		},
		{
			name:    "a scheduled run succeeded",
			before:  []metav1.Condition{condReadyFalse, condReconciling},
			rep:     jobReport{runInFlight: true, runEnded: &runEnd{result: bankingv1alpha1.RunSucceeded}},
			want:    []string{R + "True/" + bankingv1alpha1.ReasonSucceeded},
			message: msgLastRunStored,
		},
		{
			name:    "the one run of a job without a schedule succeeded",
			rep:     jobReport{runInFlight: true, runEnded: &runEnd{result: bankingv1alpha1.RunSucceeded, oneShot: true}},
			want:    []string{R + "True/" + bankingv1alpha1.ReasonCompleted},
			message: msgRunStored,
		},
		{
			name:    "a run failed",
			before:  []metav1.Condition{condReadyTrue, condReconciling},
			rep:     jobReport{runInFlight: true, runEnded: &runEnd{result: bankingv1alpha1.RunPartiallySucceeded, message: "accounts: down"}},
			want:    []string{R + "False/" + bankingv1alpha1.ReasonRunFailed},
			message: "The last run did not complete: accounts: down",
		},
		{
			name: "a run the provider stopped because the consent needs a human",
			rep: jobReport{runInFlight: true, runEnded: &runEnd{result: bankingv1alpha1.RunFailed, message: "revoked",
				needsHuman: bankingv1alpha1.ReasonConsentRevoked, connection: "bank"}},
			want: []string{R + "False/" + bankingv1alpha1.ReasonConsentRevoked},
			message: "The provider says the connection needs a human (" + bankingv1alpha1.ReasonConsentRevoked +
				"); BankConnection bank was asked to check: revoked",
		},
	})
}

// TestUpdateJobConditionsPlan: a plan refused, fixed, waiting for its first slot or
// deferred by the budget.
func TestUpdateJobConditionsPlan(t *testing.T) {
	runJobCondCases(t, []jobCondCase{
		{
			name:    "a plan that can never fit: Stalled and Ready False",
			before:  []metav1.Condition{condReadyTrue},
			rep:     jobReport{planProblem: "too many calls"},
			want:    []string{R + "False/" + bankingv1alpha1.ReasonPlanExceedsBudget, S + "True/" + bankingv1alpha1.ReasonPlanExceedsBudget},
			message: "too many calls",
		},
		{
			name:    "the plan was fixed: Ready Unknown until the next run, Stalled goes",
			before:  []metav1.Condition{condPlanRefused, condStalled},
			rep:     jobReport{planFits: true},
			want:    []string{R + "Unknown/" + bankingv1alpha1.ReasonScheduled},
			message: msgPlanFixed,
		},
		{
			name:   "a plan that fits and never was refused: Ready stands",
			before: []metav1.Condition{condReadyTrue},
			rep:    jobReport{planFits: true},
			want:   []string{R + "True/" + bankingv1alpha1.ReasonSucceeded},
		},
		{
			name:    "waiting for the first slot",
			before:  []metav1.Condition{condReadyUnknown},
			rep:     jobReport{planFits: true, awaitingFirstSlot: true},
			want:    []string{R + "Unknown/" + bankingv1alpha1.ReasonScheduled},
			message: msgAwaitingFirstSlot,
		},
		{
			name:    "the plan was fixed and the first slot is ahead: the slot is what Ready says",
			before:  []metav1.Condition{condPlanRefused},
			rep:     jobReport{planFits: true, awaitingFirstSlot: true},
			want:    []string{R + "Unknown/" + bankingv1alpha1.ReasonScheduled},
			message: msgAwaitingFirstSlot,
		},
		{
			name:    "a deferred run keeps Ready's status",
			before:  []metav1.Condition{condReadyTrue},
			rep:     jobReport{planFits: true, deferred: true},
			want:    []string{R + "True/" + bankingv1alpha1.ReasonBudgetExhausted},
			message: msgRunDeferred,
		},
		{
			name:   "a deferred run once the plan was fixed: Ready Unknown",
			before: []metav1.Condition{condPlanRefused},
			rep:    jobReport{planFits: true, deferred: true},
			want:   []string{R + "Unknown/" + bankingv1alpha1.ReasonBudgetExhausted},
		},
	})
}

// TestRunEndReadyTruncatesTheCause: Ready's message keeps at most 500 characters of
// what ended the run.
func TestRunEndReadyTruncatesTheCause(t *testing.T) {
	_, _, msg := runEnd{result: bankingv1alpha1.RunFailed, message: strings.Repeat("x", 600)}.ready()
	if want := "The last run did not complete: " + strings.Repeat("x", 500); msg != want {
		t.Fatalf("message has %d characters, want %d", len(msg), len(want))
	}
}

func TestRunEndOf(t *testing.T) {
	counted := []bankingv1alpha1.ResourceCount{{Resource: bankingv1alpha1.ResourceAccounts, Stored: 2}}
	tests := []struct {
		name        string
		run         bankingv1alpha1.ActiveRun
		cause       error
		wantResult  bankingv1alpha1.RunResult
		wantMessage string
	}{
		{name: "every fetch answered", wantResult: bankingv1alpha1.RunSucceeded},
		{name: "some fetches failed", run: bankingv1alpha1.ActiveRun{Errors: []string{"a", "b"}},
			wantResult: bankingv1alpha1.RunPartiallySucceeded, wantMessage: "a; b"},
		{name: "stopped before anything was stored", cause: errors.New("down"),
			wantResult: bankingv1alpha1.RunFailed, wantMessage: "down"},
		{name: "stopped after something was stored", run: bankingv1alpha1.ActiveRun{Counts: counted, Errors: []string{"a"}},
			cause: errors.New("down"), wantResult: bankingv1alpha1.RunPartiallySucceeded, wantMessage: "down"},
		{name: "stopped by the budget", cause: errBudget,
			wantResult: bankingv1alpha1.RunFailed, wantMessage: "Stopped: " + errBudget.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runEndOf(&tc.run, tc.cause)
			if got.result != tc.wantResult || got.message != tc.wantMessage {
				t.Fatalf("runEndOf = %s %q, want %s %q", got.result, got.message, tc.wantResult, tc.wantMessage)
			}
		})
	}
}
