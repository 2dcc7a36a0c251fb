package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

const endpointV1Transactions = "GET /data/v1/accounts/{account_id}/transactions"

// setRunRequest sets only run-requested-at, leaving psu-ip as it is.
func setRunRequest(t *testing.T, sj *bankingv1alpha1.SyncJob, value string) {
	t.Helper()
	annotate(t, sj, map[string]string{bankingv1alpha1.AnnotationRunRequestedAt: value})
}

func ledgerCalls(t *testing.T, bc *bankingv1alpha1.BankConnection) int {
	t.Helper()
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), bc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range bc.Status.UnattendedCalls {
		n += len(e.Calls)
	}
	return n
}

// TestPSUIPMarksOneRun: an attended run of an Async job goes through the synchronous
// API (the user waits; no task, no results polling), and its psu-ip annotation is
// consumed: the next run-requested-at without a new psu-ip is unattended and counted.
func TestPSUIPMarksOneRun(t *testing.T) {
	ns := newNamespace(t, "psuip")
	bc := readyConnection(t, ns, "sami")
	connID := connectionID(t, bc)
	sj := newTransactionsJob(ns, "sami-once", "sami", "", bankingv1alpha1.SyncModeAsync)
	create(t, sj)
	waitForRuns(t, sj, 1) // the single unattended run, asynchronous
	if results := sb.CallTotal(sandbox.CallFilter{Connection: connID, Endpoint: "GET /data/v1/results/{task_id}"}); results == 0 {
		t.Fatal("test setup: the unattended Async run did not use the async API")
	}

	attended := true
	beforeAttended := sb.CallTotal(sandbox.CallFilter{Connection: connID, Attended: &attended})
	// Counted with X-PSU-IP only: a late poll of the first run's tasks is not this run's.
	attendedResults := sandbox.CallFilter{Connection: connID, Endpoint: "GET /data/v1/results/{task_id}", Attended: &attended}
	beforeResults := sb.CallTotal(attendedResults)
	beforeLedger := ledgerCalls(t, bc)
	requestRun(t, sj, "user-1", "203.0.113.7")
	waitForRuns(t, sj, 2)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded || !r.Attended {
		t.Fatalf("attended run: %+v", r)
	}
	if got := sb.CallTotal(attendedResults) - beforeResults; got != 0 {
		t.Fatalf("the attended run polled %d async results: it did not use the synchronous API", got)
	}
	if got := sb.CallTotal(sandbox.CallFilter{Connection: connID, Attended: &attended}) - beforeAttended; got == 0 {
		t.Fatal("the attended run sent no X-PSU-IP")
	}
	if n := ledgerCalls(t, bc); n != beforeLedger {
		t.Fatalf("the attended run was counted: ledger %d -> %d", beforeLedger, n)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if v, ok := sj.Annotations[bankingv1alpha1.AnnotationPSUIP]; ok {
			return fmt.Errorf("psu-ip %q still set after its run", v)
		}
		return nil
	})

	// A later request without psu-ip: the user is not there, the run is counted.
	beforeAttended = sb.CallTotal(sandbox.CallFilter{Connection: connID, Attended: &attended})
	setRunRequest(t, sj, "user-2")
	waitForRuns(t, sj, 3)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded || r.Attended {
		t.Fatalf("run after the psu-ip was consumed: %+v", r)
	}
	if got := sb.CallTotal(sandbox.CallFilter{Connection: connID, Attended: &attended}) - beforeAttended; got != 0 {
		t.Fatalf("%d calls still sent X-PSU-IP after the attended run", got)
	}
	if n := ledgerCalls(t, bc); n <= beforeLedger {
		t.Fatalf("the unattended run was not counted: ledger %d -> %d", beforeLedger, n)
	}
}

// TestPlanThatCanNeverFitIsRefused: a look-back of five years needs five
// transactions calls per account, more than four unattended calls allow: the job is
// Stalled with a reason saying what to change, and nothing reaches the bank.
func TestPlanThatCanNeverFitIsRefused(t *testing.T) {
	ns := newNamespace(t, "neverfits")
	bc := readyConnection(t, ns, "tove")
	connID := connectionID(t, bc)
	before := sb.CallTotal(sandbox.CallFilter{Connection: connID, Endpoint: endpointV1Transactions})
	sj := newSyncJob(ns, "tove-daily", "tove", "@daily", bankingv1alpha1.SyncModeSync)
	sj.Spec.Transactions.Lookback = &metav1.Duration{Duration: 5 * 365 * 24 * time.Hour}
	create(t, sj)
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if err := hasJobCondition(sj, bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonPlanExceedsBudget); err != nil {
			return err
		}
		return hasJobCondition(sj, bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonPlanExceedsBudget)
	})
	clk.Set(clk.Now().Add(25 * time.Hour))
	poke(t, bc)
	pokeJob(t, sj)
	testenv.Consistently(t, 2*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if len(sj.Status.RecentRuns) != 0 || sj.Status.ActiveRun != nil {
			return fmt.Errorf("a run was started or deferred: %+v", sj.Status.RecentRuns)
		}
		return nil
	})
	if got := sb.CallTotal(sandbox.CallFilter{Connection: connID, Endpoint: endpointV1Transactions}) - before; got != 0 {
		t.Fatalf("%d transactions calls reached the bank", got)
	}

	// Fixing the spec lifts the stall.
	patch := client.MergeFrom(sj.DeepCopy())
	sj.Spec.Transactions.Lookback = &metav1.Duration{Duration: 4 * 365 * 24 * time.Hour}
	if err := env.Client.Patch(context.Background(), sj, patch); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if apimeta.IsStatusConditionTrue(sj.Status.Conditions, bankingv1alpha1.ConditionStalled) {
			return fmt.Errorf("still Stalled after the fix")
		}
		return nil
	})
}

// TestTwoJobsShareTheBudget: two jobs of one connection, each every six hours,
// would make eight runs a day; the connection's ledger lets four through in 24 hours
// and defers the rest, and the bank never refuses a call over the limit.
func TestTwoJobsShareTheBudget(t *testing.T) {
	ns := newNamespace(t, "shared")
	bc := readyConnection(t, ns, "ulla")
	connID := connectionID(t, bc)
	a := newTransactionsJob(ns, "ulla-a", "ulla", "0 */6 * * *", bankingv1alpha1.SyncModeSync)
	b := newTransactionsJob(ns, "ulla-b", "ulla", "30 */6 * * *", bankingv1alpha1.SyncModeSync)
	for _, sj := range []*bankingv1alpha1.SyncJob{a, b} {
		createScheduled(t, sj)
	}
	// Each job's slots, from the one it published, over 24 hours, in time order.
	type due struct {
		at time.Time
		sj *bankingv1alpha1.SyncJob
	}
	var slots []due
	from := a.Status.NextScheduleTime.Time
	if b.Status.NextScheduleTime.Time.Before(from) {
		from = b.Status.NextScheduleTime.Time
	}
	for _, sj := range []*bankingv1alpha1.SyncJob{a, b} {
		for at := sj.Status.NextScheduleTime.Time; at.Before(from.Add(24 * time.Hour)); at = at.Add(6 * time.Hour) {
			slots = append(slots, due{at, sj})
		}
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].at.Before(slots[j].at) })
	runs := map[string]int{}
	for _, d := range slots {
		clk.Set(d.at.Add(time.Minute))
		poke(t, bc)
		// The token is refreshed before the job runs, so no call races a refresh.
		waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
			if exp := tokenExpiresAt(t, bc); !exp.After(clk.Now().Add(2 * time.Minute)) {
				return fmt.Errorf("token not refreshed yet (expires %s)", exp)
			}
			return nil
		})
		pokeJob(t, d.sj)
		runs[d.sj.Name]++
		waitForRuns(t, d.sj, runs[d.sj.Name])
	}
	results := map[bankingv1alpha1.RunResult]int{}
	var errs []string
	for _, sj := range []*bankingv1alpha1.SyncJob{a, b} {
		for _, r := range sj.Status.RecentRuns {
			results[r.Result]++
			errs = append(errs, fmt.Sprintf("%s %s at %s: %s %s", sj.Name, r.ID, r.StartedAt.UTC().Format(time.RFC3339), r.Result, r.Error))
		}
	}
	if results[bankingv1alpha1.RunSucceeded] != 4 || results[bankingv1alpha1.RunDeferred] != 4 {
		t.Fatalf("eight runs of two jobs in 24 hours: %v, want 4 Succeeded and 4 Deferred; runs %q", results, errs)
	}
	if runs[a.Name] != 4 || runs[b.Name] != 4 {
		t.Fatalf("test setup: runs %v", runs)
	}
	assertLedger(t, bc, connID, 4)
}

// assertLedger fails when the bank refused a call over the unattended limit or the
// connection's ledger holds more than most calls for one account and endpoint.
func assertLedger(t *testing.T, bc *bankingv1alpha1.BankConnection, connID string, most int) {
	t.Helper()
	if n := sb.ErrorTotal(sandbox.CallFilter{Connection: connID, Error: "provider_request_limit_exceeded"}); n != 0 {
		t.Fatalf("the bank refused %d calls over the unattended limit", n)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), bc); err != nil {
		t.Fatal(err)
	}
	for _, e := range bc.Status.UnattendedCalls {
		if len(e.Calls) > most {
			t.Fatalf("the ledger holds %d calls for %s/%s, want at most %d", len(e.Calls), e.AccountID, e.Endpoint, most)
		}
	}
}

// TestDeepHistoryWhileSCAIsFresh: a daily job reading two years back runs at once
// when its connection is consented (inside the five-minute SCA window), ahead of its
// schedule, and stores history older than 90 days; its next run is incremental and
// the bank refuses nothing as sca_exceeded.
func TestDeepHistoryWhileSCAIsFresh(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "deep")
	sj := newTransactionsJob(ns, "vera-daily", "vera", "0 6 * * *", bankingv1alpha1.SyncModeSync)
	sj.Spec.Transactions.Lookback = &metav1.Duration{Duration: 2 * 365 * 24 * time.Hour}
	create(t, sj) // before the consent: it waits for the connection
	bc := readyConnection(t, ns, "vera")
	connID := connectionID(t, bc)
	consented := clk.Now()
	waitForRuns(t, sj, 1)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("deep-history run: %+v", r)
	}
	key := storeKey(bc)
	old, err := testStore.ListTransactions(ctx, store.TransactionQuery{Key: key, From: consented.Add(-2 * 365 * 24 * time.Hour), To: consented.Add(-100 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(old) == 0 {
		t.Fatal("no transactions older than 90 days were stored while the SCA window was open")
	}

	clk.Set(consented.Add(26 * time.Hour))
	poke(t, bc)
	pokeJob(t, sj)
	waitForRuns(t, sj, 2)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("incremental run: %+v", r)
	}
	if n := sb.ErrorTotal(sandbox.CallFilter{Connection: connID, Error: "sca_exceeded"}); n != 0 {
		t.Fatalf("the bank refused %d requests as sca_exceeded", n)
	}
}

// TestSCAExceededFallsBackToNinetyDays: when the bank refuses a window as older than
// the SCA window allows, the run reads the last 90 days instead, succeeds and moves
// the watermark; it does not fail on the same request again and again.
func TestSCAExceededFallsBackToNinetyDays(t *testing.T) {
	ns := newNamespace(t, "scafallback")
	bc := readyConnection(t, ns, "wim")
	connID := connectionID(t, bc)
	t.Cleanup(sb.ClearFaults)
	if _, err := sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "sca_exceeded", Endpoint: endpointV1Transactions, Connection: connID, Count: 1}); err != nil {
		t.Fatal(err)
	}
	sj := newTransactionsJob(ns, "wim-6h", "wim", "0 */6 * * *", bankingv1alpha1.SyncModeSync)
	sj.Spec.Transactions.Lookback = &metav1.Duration{Duration: 365 * 24 * time.Hour}
	create(t, sj) // no schedule slot yet: the deep-history run goes at once
	waitForRuns(t, sj, 1)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("run after sca_exceeded: %+v", r)
	}
	if n := sb.ErrorTotal(sandbox.CallFilter{Connection: connID, Error: "sca_exceeded"}); n != 1 {
		t.Fatalf("test setup: %d sca_exceeded answers, want 1", n)
	}
	ds, _ := sb.ConnectionDataset(connID)
	accounts := 0
	for _, a := range ds.Accounts() {
		if !a.IsCard() {
			accounts++
		}
	}
	if len(sj.Status.Watermarks) != accounts {
		t.Fatalf("watermarks %+v for %d accounts", sj.Status.Watermarks, accounts)
	}
	for _, w := range sj.Status.Watermarks {
		if w.TransactionsThrough.Time.Before(clk.Now().Add(-time.Minute)) {
			t.Fatalf("watermark of %s not moved: %s", w.AccountID, w.TransactionsThrough)
		}
	}
}

// signupMultiUser is the mock user with two current accounts.
const signupMultiUser = "john42"

// TestSignupIdentityCallsAreEachCounted: Signup+ answers multiple_accounts_linked
// for a user with two current accounts; the run asks for each account's identity as
// a call of its own, and every one of the 1 + N calls is in the ledger.
func TestSignupIdentityCallsAreEachCounted(t *testing.T) {
	ns := newNamespace(t, "signupn")
	bc := newConnection(ns, "ines")
	bc.Spec.DataAPI = bankingv1alpha1.DataAPISignupPlus
	bc.Spec.Scopes = []bankingv1alpha1.Scope{bankingv1alpha1.ScopeInfo, bankingv1alpha1.ScopeAccounts,
		bankingv1alpha1.ScopeSignupPlus, bankingv1alpha1.ScopeOfflineAccess}
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	user := testenv.NewBrowser()
	user.Username, user.Password = signupMultiUser, "doe42"
	if page := atBank(t, user, toProvider(t, user, bc.Status.ConnectURL)); page.Status != http.StatusSeeOther {
		t.Fatalf("consent journey ended with HTTP %d", page.Status)
	}
	waitFor(t, bc, isReady)
	connID := connectionID(t, bc)
	before := sb.CallTotal(sandbox.CallFilter{Connection: connID, Endpoint: "GET /signup-plus/accounts"})

	sj := newSyncJob(ns, "ines-once", "ines", "", bankingv1alpha1.SyncModeSync)
	sj.Spec.Resources = []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceIdentity}
	create(t, sj)
	waitForRuns(t, sj, 1)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("identity run: %+v", r)
	}
	calls := sb.CallTotal(sandbox.CallFilter{Connection: connID, Endpoint: "GET /signup-plus/accounts"}) - before
	if calls != 3 {
		t.Fatalf("%d Signup+ calls, want 3 (one answering multiple_accounts_linked, one per current account)", calls)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), bc); err != nil {
		t.Fatal(err)
	}
	counted := 0
	for _, e := range bc.Status.UnattendedCalls {
		if e.Endpoint == "identity" {
			counted += len(e.Calls)
		}
	}
	if int64(counted) != calls {
		t.Fatalf("%d identity calls in the ledger for %d sent: %+v", counted, calls, bc.Status.UnattendedCalls)
	}
}
