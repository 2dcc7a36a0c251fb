package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// TestDataLeavesWithTheConnection: deleting a connection erases every row fetched
// through it (the finalizer does, before the object goes), its job says it waits for
// a connection, and another connection's rows stay; with dataRetention Retain the
// rows stay too.
func TestDataLeavesWithTheConnection(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "erase")
	gone := readyConnection(t, ns, "olga")
	kept := newConnection(ns, "pete")
	kept.Spec.DataRetention = bankingv1alpha1.DataRetentionRetain
	create(t, kept)
	waitFor(t, kept, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	consentJourney(t, kept, "doe")
	waitFor(t, kept, isReady)
	other := readyConnection(t, ns, "quin")

	var jobs []*bankingv1alpha1.SyncJob
	for _, bc := range []*bankingv1alpha1.BankConnection{gone, kept, other} {
		sj := newSyncJob(ns, bc.Name+"-once", bc.Name, "", bankingv1alpha1.SyncModeSync)
		create(t, sj)
		jobs = append(jobs, sj)
	}
	counts := func(bc *bankingv1alpha1.BankConnection) store.Counts {
		t.Helper()
		c, err := testStore.Counts(ctx, storeKey(bc))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for i, sj := range jobs {
		waitForRuns(t, sj, 1)
		if c := counts([]*bankingv1alpha1.BankConnection{gone, kept, other}[i]); c.Transactions == 0 || c.Accounts == 0 {
			t.Fatalf("job %d stored %+v", i, c)
		}
	}
	before := counts(other)

	deleteAndWait(t, gone)
	deleteAndWait(t, kept)
	if c := counts(gone); c != (store.Counts{}) {
		t.Fatalf("after deleting the connection the store still holds %+v", c)
	}
	if runs, err := testStore.ListSyncRuns(ctx, store.RunQuery{Namespace: ns, SyncJob: "olga-once"}); err != nil || len(runs) != 0 {
		t.Fatalf("sync runs of the deleted connection: %d (%v)", len(runs), err)
	}
	if c := counts(kept); c.Transactions == 0 {
		t.Fatal("dataRetention Retain: the rows were erased")
	}
	if c := counts(other); c != before {
		t.Fatalf("another connection's rows changed: %+v -> %+v", before, c)
	}
	if n := countEvents(t, gone, bankingv1alpha1.ReasonDataErased, 1); n != 1 {
		t.Fatalf("%d DataErased events, want 1", n)
	}
	// The deleted connection's job is no longer Ready.
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(jobs[0]), jobs[0]); err != nil {
			return err
		}
		if err := hasJobCondition(jobs[0], bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonWaitingForConnection); err != nil {
			return fmt.Errorf("job of the deleted connection: %w", err)
		}
		return nil
	})
	// Its series leave with it: the connection's (conditions, expiry, the job budget's)
	// once it is deleted, the job's once the job is.
	testenv.Eventually(t, 30*time.Second, func() error {
		if got := seriesOf(t, ns, "olga"); len(got) != 0 {
			return fmt.Errorf("series of the deleted connection: %v", got)
		}
		return nil
	})
	if got := seriesOf(t, ns, "olga-once"); len(got) == 0 {
		t.Fatal("the job's run series are missing before the job is deleted: the check below could not fail")
	}
	deleteAndWait(t, jobs[0])
	testenv.Eventually(t, 30*time.Second, func() error {
		if got := seriesOf(t, ns, "olga-once"); len(got) != 0 {
			return fmt.Errorf("series of the deleted SyncJob: %v", got)
		}
		return nil
	})
	if got := seriesOf(t, ns, "quin"); len(got) == 0 {
		t.Fatal("the remaining connection has no series")
	}
}

// seriesOf lists the metric series (family names) of one object: namespace, and name
// or connection.
func seriesOf(t *testing.T, namespace, name string) []string {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if labelValue(m, "namespace") == namespace && (labelValue(m, "name") == name || labelValue(m, "connection") == name) {
				out = append(out, f.GetName())
			}
		}
	}
	return out
}
