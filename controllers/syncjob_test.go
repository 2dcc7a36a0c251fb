package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

func newSyncJob(ns, name, connection, schedule string, mode bankingv1alpha1.SyncMode) *bankingv1alpha1.SyncJob {
	return &bankingv1alpha1.SyncJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: bankingv1alpha1.SyncJobSpec{
			ConnectionRef: bankingv1alpha1.LocalReference{Name: connection},
			Schedule:      schedule,
			Resources:     []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceAccounts, bankingv1alpha1.ResourceBalance, bankingv1alpha1.ResourceTransactions},
			Transactions: &bankingv1alpha1.TransactionWindow{
				Lookback: &metav1.Duration{Duration: 30 * 24 * time.Hour},
				Overlap:  &metav1.Duration{Duration: 24 * time.Hour},
			},
			Mode:         mode,
			HistoryLimit: ptr.To[int32](50),
		},
	}
}

// newTransactionsJob is newSyncJob for accounts and transactions only, the resources
// most job tests count calls and rows of.
func newTransactionsJob(ns, name, connection, schedule string, mode bankingv1alpha1.SyncMode) *bankingv1alpha1.SyncJob {
	sj := newSyncJob(ns, name, connection, schedule, mode)
	sj.Spec.Resources = []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceAccounts, bankingv1alpha1.ResourceTransactions}
	return sj
}

// createScheduled creates a scheduled job and waits until it published its first slot,
// so moving the shared clock afterwards cannot skip that slot.
func createScheduled(t *testing.T, sj *bankingv1alpha1.SyncJob) {
	t.Helper()
	create(t, sj)
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if sj.Status.NextScheduleTime == nil {
			return fmt.Errorf("no next schedule time yet")
		}
		return nil
	})
}

func pokeJob(t *testing.T, sj *bankingv1alpha1.SyncJob) {
	t.Helper()
	annotate(t, sj, map[string]string{"test.consent-operator.dev/poke": fmt.Sprint(pokes.Add(1))})
}

// waitForRuns waits until the job has recorded n runs and none is in flight.
func waitForRuns(t *testing.T, sj *bankingv1alpha1.SyncJob, n int) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if sj.Status.ActiveRun != nil {
			return fmt.Errorf("run %s in flight: %+v", sj.Status.ActiveRun.ID, *sj.Status.ActiveRun)
		}
		if len(sj.Status.RecentRuns) < n {
			return fmt.Errorf("%d runs recorded, want %d; conditions %+v next %v last %v", len(sj.Status.RecentRuns), n, sj.Status.Conditions, sj.Status.NextScheduleTime, sj.Status.LastScheduleTime)
		}
		return nil
	})
}

// TestScheduledSyncFillsTheStore: an every-6-hours schedule over three simulated
// days gives exactly 12 runs, within the four-calls rule, and the stored transactions
// equal the sandbox's dataset for the window, without duplicates.
func TestScheduledSyncFillsTheStore(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "sync")
	bc := readyConnection(t, ns, "mia")
	connID := connectionID(t, bc)
	start := clk.Now()
	sj := newSyncJob(ns, "mia-6h", "mia", "0 */6 * * *", bankingv1alpha1.SyncModeSync)
	createScheduled(t, sj)

	runs := 0
	end := start.Add(72 * time.Hour)
	for slot := nextSlot(start, 6*time.Hour); !slot.After(end); slot = slot.Add(6 * time.Hour) {
		clk.Set(slot.Add(time.Minute))
		poke(t, bc) // keep the token fresh as KeepFresh's timer would
		pokeJob(t, sj)
		runs++
		waitForRuns(t, sj, runs)
		if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
			_ = env.Client.Get(ctx, client.ObjectKeyFromObject(bc), bc)
			t.Fatalf("run %d at %s: %s (%s); ledger %+v", runs, clk.Now(), r.Result, r.Error, bc.Status.UnattendedCalls)
		}
	}
	if runs != 12 {
		t.Fatalf("test setup: %d slots in three days", runs)
	}
	if err := hasJobCondition(sj, bankingv1alpha1.ConditionReady, metav1.ConditionTrue, bankingv1alpha1.ReasonSucceeded); err != nil {
		t.Fatal(err)
	}
	stored, err := testStore.ListSyncRuns(ctx, store.RunQuery{Namespace: ns, SyncJob: sj.Name})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 12 {
		t.Fatalf("%d runs in the store, want 12", len(stored))
	}
	if n := sb.ErrorTotal(sandbox.CallFilter{Connection: connID, Error: "provider_request_limit_exceeded"}); n != 0 {
		t.Fatalf("the sandbox refused %d calls over the 4-per-day limit", n)
	}

	// Stored transactions equal the dataset for the whole window, once each.
	ds, ok := sb.ConnectionDataset(connID)
	if !ok {
		t.Fatal("no dataset for the connection")
	}
	firstRun := nextSlot(start, 6*time.Hour).Add(time.Minute)
	from, to := firstRun.Add(-30*24*time.Hour), clk.Now()
	assertTransactionsMatchDataset(t, storeKeyOf(t, ns, "mia"), ds, from, to)
	if len(sj.Status.Watermarks) == 0 {
		t.Fatal("no watermarks recorded")
	}
}

// assertTransactionsMatchDataset checks that the store holds each of the dataset's
// non-card transactions in [from, to) once, and nothing else for those accounts.
func assertTransactionsMatchDataset(t *testing.T, key store.ConnectionKey, ds *bankdata.Dataset, from, to time.Time) {
	t.Helper()
	for _, a := range ds.Accounts() {
		if a.IsCard() {
			continue
		}
		want := map[string]bool{}
		for _, tx := range ds.Transactions(a.ID, from, to) {
			if tx.Timestamp.Before(to) {
				want[tx.NormalisedID] = true
			}
		}
		seen := storedTransactionIDs(t, key, a.ID, from, to)
		if len(seen) != len(want) {
			t.Fatalf("account %s: %d transactions stored, dataset has %d", a.ID, len(seen), len(want))
		}
		for id := range want {
			if !seen[id] {
				t.Fatalf("account %s: transaction %s missing", a.ID, id)
			}
		}
	}
}

// storedTransactionIDs returns the normalised IDs of the account's stored
// transactions in [from, to), failing on one stored twice.
func storedTransactionIDs(t *testing.T, key store.ConnectionKey, accountID string, from, to time.Time) map[string]bool {
	t.Helper()
	got, err := testStore.ListTransactions(context.Background(), store.TransactionQuery{Key: key, AccountID: accountID, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tx := range got {
		if seen[tx.NormalisedProviderTransactionID] {
			t.Fatalf("account %s: duplicate transaction %s", accountID, tx.NormalisedProviderTransactionID)
		}
		seen[tx.NormalisedProviderTransactionID] = true
	}
	return seen
}

// TestHourlyScheduleIsDeferredNotSent: an hourly schedule asks for 24 runs a day; only
// four fit the regulatory budget, the rest are deferred and never reach the bank.
func TestHourlyScheduleIsDeferredNotSent(t *testing.T) {
	ns := newNamespace(t, "hourly")
	bc := readyConnection(t, ns, "noah")
	connID := connectionID(t, bc)
	start := clk.Now()
	sj := newTransactionsJob(ns, "noah-hourly", "noah", "@hourly", bankingv1alpha1.SyncModeSync)
	createScheduled(t, sj)

	slots := 0
	for slot := nextSlot(start, time.Hour); slot.Before(start.Add(30 * time.Hour)); slot = slot.Add(time.Hour) {
		clk.Set(slot.Add(time.Minute))
		poke(t, bc)
		pokeJob(t, sj)
		slots++
		waitForRuns(t, sj, slots)
	}
	results := map[bankingv1alpha1.RunResult]int{}
	for _, r := range sj.Status.RecentRuns {
		results[r.Result]++
	}
	if results[bankingv1alpha1.RunSucceeded] > 4*2 || results[bankingv1alpha1.RunDeferred] < slots-8 {
		t.Fatalf("over %d hourly slots: %v", slots, results)
	}
	if n := sb.ErrorTotal(sandbox.CallFilter{Connection: connID, Error: "provider_request_limit_exceeded"}); n != 0 {
		t.Fatalf("the sandbox refused %d calls over the limit: the operator sent a 5th call", n)
	}
	if got := sb.CallTotal(sandbox.CallFilter{Connection: connID, Endpoint: "GET /data/v1/accounts/{account_id}/transactions"}); got == 0 {
		t.Fatal("no transactions were fetched at all")
	}
	if err := hasJobCondition(sj, bankingv1alpha1.ConditionReady, metav1.ConditionTrue, bankingv1alpha1.ReasonBudgetExhausted); err != nil &&
		sj.Status.RecentRuns[0].Result == bankingv1alpha1.RunDeferred {
		t.Fatal(err)
	}
}

// TestAsyncRunsCompleteByWebhookAndByPolling covers both ways async results arrive.
func TestAsyncRunsCompleteByWebhookAndByPolling(t *testing.T) {
	ns := newNamespace(t, "async")
	bc := readyConnection(t, ns, "olga")

	accepted := webhooksAccepted(t)
	once := newSyncJob(ns, "olga-once", "olga", "", bankingv1alpha1.SyncModeAsync)
	create(t, once)
	waitForRuns(t, once, 1)
	if r := once.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded || len(r.Counts) == 0 {
		t.Fatalf("webhook run: %+v", r)
	}
	if webhooksAccepted(t) <= accepted {
		t.Fatalf("the run completed without a webhook: %+v; accepted %v", once.Status, webhooksAccepted(t))
	}
	if err := hasJobCondition(once, bankingv1alpha1.ConditionReady, metav1.ConditionTrue, bankingv1alpha1.ReasonCompleted); err != nil {
		t.Fatal(err)
	}

	// The provider never calls back: polling collects the results.
	sb.SetWebhookDelivery(false)
	t.Cleanup(func() { sb.SetWebhookDelivery(true) })
	accepted = webhooksAccepted(t)
	clk.Advance(8 * time.Hour) // a fresh unattended budget for the same endpoints
	poke(t, bc)
	waitFor(t, bc, isReady)
	polled := newSyncJob(ns, "olga-polled", "olga", "", bankingv1alpha1.SyncModeAsync)
	create(t, polled)
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(polled), polled); err != nil {
			return err
		}
		if r := polled.Status.ActiveRun; r == nil || r.NextPollAt == nil {
			return fmt.Errorf("not waiting for async results yet")
		}
		return nil
	})
	// No webhook comes: each time the poll is due (the timer the test stands in for),
	// the operator asks the provider, until the results are ready.
	testenv.Eventually(t, 60*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(polled), polled); err != nil {
			return err
		}
		if run := polled.Status.ActiveRun; run != nil {
			clk.Set(run.NextPollAt.Time)
			pokeJob(t, polled)
			return fmt.Errorf("still waiting for results (%d polls)", run.PollAttempts)
		}
		return nil
	})
	waitForRuns(t, polled, 1)
	if r := polled.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("polled run: %+v", r)
	}
	if webhooksAccepted(t) != accepted {
		t.Fatal("a webhook arrived although delivery was off")
	}
}

// TestJobWaitsForItsConnection: a job whose connection is not Ready waits with a
// clear reason instead of failing, and runs once the connection is Ready.
func TestJobWaitsForItsConnection(t *testing.T) {
	ns := newNamespace(t, "wait")
	sj := newSyncJob(ns, "pat-once", "pat", "", bankingv1alpha1.SyncModeSync)
	create(t, sj)
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		return hasJobCondition(sj, bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonWaitingForConnection)
	})
	readyConnection(t, ns, "pat")
	waitForRuns(t, sj, 1)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("run after the connection became Ready: %+v", r)
	}
}

func hasJobCondition(sj *bankingv1alpha1.SyncJob, condType string, status metav1.ConditionStatus, reason string) error {
	c := apimeta.FindStatusCondition(sj.Status.Conditions, condType)
	if c == nil {
		return fmt.Errorf("no %s condition", condType)
	}
	if c.Status != status || c.Reason != reason {
		return fmt.Errorf("%s = %s/%s (%s), want %s/%s", condType, c.Status, c.Reason, c.Message, status, reason)
	}
	return nil
}

// nextSlot is the first multiple of every (in UTC) after t.
func nextSlot(t time.Time, every time.Duration) time.Time {
	return t.Truncate(every).Add(every)
}

// webhooksAccepted reads consent_operator_webhooks_total{result="accepted"}.
func webhooksAccepted(t *testing.T) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "consent_operator_webhooks_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelValue(m, "result") == "accepted" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
