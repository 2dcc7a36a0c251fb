package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// requestRun sets the run-requested-at annotation (and psu-ip when the user is there).
func requestRun(t *testing.T, sj *bankingv1alpha1.SyncJob, value, psuIP string) {
	t.Helper()
	// An empty psuIP removes the annotation: the run is unattended.
	annotate(t, sj, map[string]string{bankingv1alpha1.AnnotationRunRequestedAt: value, bankingv1alpha1.AnnotationPSUIP: psuIP})
}

// TestAttendedRunsAreNotCounted: with the user present (psu-ip), runs send X-PSU-IP
// and do not spend the unattended budget, so a fifth run in a day goes through.
func TestAttendedRunsAreNotCounted(t *testing.T) {
	ns := newNamespace(t, "attended")
	bc := readyConnection(t, ns, "quinn")
	connID := connectionID(t, bc)
	sj := newTransactionsJob(ns, "quinn-once", "quinn", "", bankingv1alpha1.SyncModeSync)
	create(t, sj)
	waitForRuns(t, sj, 1) // the single unattended run
	attended := true
	before := sb.CallTotal(sandbox.CallFilter{Connection: connID, Attended: &attended})
	for i := 1; i <= 5; i++ {
		requestRun(t, sj, fmt.Sprintf("user-%d", i), "203.0.113.7")
		waitForRuns(t, sj, 1+i)
		r := sj.Status.RecentRuns[0]
		if r.Result != bankingv1alpha1.RunSucceeded || !r.Attended {
			t.Fatalf("attended run %d: %+v", i, r)
		}
		if sj.Status.LastHandledRunRequestAt != fmt.Sprintf("user-%d", i) {
			t.Fatalf("run request %d not acknowledged", i)
		}
	}
	if got := sb.CallTotal(sandbox.CallFilter{Connection: connID, Attended: &attended}) - before; got < 5 {
		t.Fatalf("%d attended calls reached the bank, want at least 5 (one per run and endpoint)", got)
	}
	assertLedger(t, bc, connID, 1) // only the first, unattended run is counted
}

// TestPartialRunResumesWithoutDuplicates: a run that loses one fetch keeps what it
// stored; the next run fills the gap from the watermarks; nothing is stored twice.
func TestPartialRunResumesWithoutDuplicates(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "partial")
	bc := readyConnection(t, ns, "rosa")
	connID := connectionID(t, bc)
	t.Cleanup(sb.ClearFaults)
	// The provider fails the first transactions request (an unattended call, so the
	// client does not resend it).
	if _, err := sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_error", Endpoint: "GET /data/v1/accounts/{account_id}/transactions", Connection: connID, Count: 1}); err != nil {
		t.Fatal(err)
	}
	sj := newSyncJob(ns, "rosa-6h", "rosa", "0 */6 * * *", bankingv1alpha1.SyncModeSync)
	createScheduled(t, sj)
	slot := sj.Status.NextScheduleTime.Time
	clk.Set(slot.Add(time.Minute))
	poke(t, bc)
	pokeJob(t, sj)
	waitForRuns(t, sj, 1)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunPartiallySucceeded || r.Error == "" {
		t.Fatalf("run with a dropped fetch: %+v", r)
	}
	key := storeKeyOf(t, ns, "rosa")
	partial, err := testStore.Counts(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if partial.Transactions == 0 || partial.Accounts == 0 {
		t.Fatalf("the partial run kept nothing: %+v", partial)
	}

	clk.Set(slot.Add(6*time.Hour + time.Minute))
	poke(t, bc)
	pokeJob(t, sj)
	waitForRuns(t, sj, 2)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("next run: %+v", r)
	}
	ds, _ := sb.ConnectionDataset(connID)
	for _, a := range ds.Accounts() {
		if a.IsCard() {
			continue
		}
		from := slot.Add(time.Minute).Add(-30 * 24 * time.Hour)
		to := clk.Now()
		want := 0
		for _, tx := range ds.Transactions(a.ID, from, to) {
			if tx.Timestamp.Before(to) {
				want++
			}
		}
		seen := storedTransactionIDs(t, key, a.ID, from, to)
		if len(seen) != want {
			t.Fatalf("account %s: %d transactions after the resumed run, dataset has %d", a.ID, len(seen), want)
		}
	}
}

// driveRun waits for the job's first run to finish, moving the clock to each poll of
// its provider tasks (which complete on the sandbox's clock) as the requeue timer
// would.
func driveRun(t *testing.T, sj *bankingv1alpha1.SyncJob) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if run := sj.Status.ActiveRun; run != nil {
			if run.NextPollAt != nil && clk.Now().Before(run.NextPollAt.Time) {
				clk.Set(run.NextPollAt.Time)
			}
			pokeJob(t, sj)
			return fmt.Errorf("run in flight (%s, %d tasks, %d polls)", run.Phase, len(run.Tasks), run.PollAttempts)
		}
		if len(sj.Status.RecentRuns) == 0 {
			return fmt.Errorf("no run yet")
		}
		return nil
	})
}

// TestCodatSyncJob: a SyncJob on a Codat connection queues pulls, waits for them and
// fills the same store tables; when the bank deauthorises the connection, the job
// waits instead of failing.
func TestCodatSyncJob(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "codatsync")
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "codat-client"},
		StringData: map[string]string{"api_key": testCodatAPIKey},
	})
	codatEmu.SetRedirectURL(gatewayURL + "/callback?state={state}&statusCode={statusCode}&errorMessage={errorMessage}")
	t.Cleanup(func() { codatEmu.SetRedirectURL("") })
	bc := newCodatConnection(ns, "sam")
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	if code, _ := codatLink(t, bc.Status.ConnectURL, "authorize"); code != http.StatusSeeOther {
		t.Fatalf("Codat link: HTTP %d", code)
	}
	waitFor(t, bc, isReady)

	const queueAll, queueOne, dataStatus = "POST /companies/{companyId}/data/all", "POST /companies/{companyId}/data/queue/{dataType}",
		"GET /companies/{companyId}/dataStatus"
	allBefore, oneBefore, statusBefore := callsTo(queueAll), callsTo(queueOne), callsTo(dataStatus)
	sj := newSyncJob(ns, "sam-once", "sam", "", bankingv1alpha1.SyncModeAsync)
	create(t, sj)
	// Codat has no per-run webhook: the run polls its pulls.
	driveRun(t, sj)
	r := sj.Status.RecentRuns[0]
	if r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("Codat run: %+v", r)
	}
	counts, err := testStore.Counts(ctx, storeKeyOf(t, ns, "sam"))
	if err != nil {
		t.Fatal(err)
	}
	if counts.Accounts == 0 || counts.Transactions == 0 || counts.Balances == 0 {
		t.Fatalf("the Codat run stored too little: %+v", counts)
	}
	// Accounts, balances and transactions are every type Codat offers: one data/all
	// refresh, tracked through dataStatus, no per-type queue.
	if all, one := callsTo(queueAll)-allBefore, callsTo(queueOne)-oneBefore; all != 1 || one != 0 {
		t.Fatalf("data/all called %d times, data/queue %d times; want one data/all", all, one)
	}
	if callsTo(dataStatus) == statusBefore {
		t.Fatal("the run was not tracked through dataStatus")
	}

	// Deauthorised at the bank: the connection stalls, the job waits.
	refs := bc.Status.ProviderRefs
	if err := codatEmu.Deauthorize(refs.CodatCompanyID, refs.CodatConnectionID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour + time.Second)
	poke(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentRevoked))
	requestRun(t, sj, "after-deauthorization", "")
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		return hasJobCondition(sj, bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonWaitingForConnection)
	})
}
