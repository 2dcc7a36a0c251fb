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
	s := &erasureStory{ns: newNamespace(t, "erase")}
	chapter(t, "three connections fill the store", s.fill)
	chapter(t, "deleting erases only the deleted connection's rows", s.erase)
	chapter(t, "the deleted connection's job waits for a connection", s.jobWaits)
	chapter(t, "the series leave with their objects", s.seriesLeave)
}

// erasureStory holds the fixtures of TestDataLeavesWithTheConnection: gone (olga) is
// deleted, kept (pete, dataRetention Retain) is deleted and keeps its rows, other
// (quin) stays; jobs are their SyncJobs in that order.
type erasureStory struct {
	ns                string
	gone, kept, other *bankingv1alpha1.BankConnection
	jobs              []*bankingv1alpha1.SyncJob
	before            store.Counts // other's rows before the deletes
}

func (s *erasureStory) fill(t *testing.T) {
	s.gone = readyConnection(t, s.ns, "olga")
	s.kept = newConnection(s.ns, "pete")
	s.kept.Spec.DataRetention = bankingv1alpha1.DataRetentionRetain
	create(t, s.kept)
	waitFor(t, s.kept, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	consentJourney(t, s.kept, "doe")
	waitFor(t, s.kept, isReady)
	s.other = readyConnection(t, s.ns, "quin")
	conns := []*bankingv1alpha1.BankConnection{s.gone, s.kept, s.other}
	for _, bc := range conns {
		sj := newSyncJob(s.ns, bc.Name+"-once", bc.Name, "", bankingv1alpha1.SyncModeSync)
		create(t, sj)
		s.jobs = append(s.jobs, sj)
	}
	for i, sj := range s.jobs {
		waitForRuns(t, sj, 1)
		if c := storeCounts(t, conns[i]); c.Transactions == 0 || c.Accounts == 0 {
			t.Fatalf("job %d stored %+v", i, c)
		}
	}
	s.before = storeCounts(t, s.other)
}

func (s *erasureStory) erase(t *testing.T) {
	ctx := context.Background()
	deleteAndWait(t, s.gone)
	deleteAndWait(t, s.kept)
	if c := storeCounts(t, s.gone); c != (store.Counts{}) {
		t.Fatalf("after deleting the connection the store still holds %+v", c)
	}
	if runs, err := testStore.ListSyncRuns(ctx, store.RunQuery{Namespace: s.ns, SyncJob: "olga-once"}); err != nil || len(runs) != 0 {
		t.Fatalf("sync runs of the deleted connection: %d (%v)", len(runs), err)
	}
	if c := storeCounts(t, s.kept); c.Transactions == 0 {
		t.Fatal("dataRetention Retain: the rows were erased")
	}
	if c := storeCounts(t, s.other); c != s.before {
		t.Fatalf("another connection's rows changed: %+v -> %+v", s.before, c)
	}
	if n := countEvents(t, s.gone, bankingv1alpha1.ReasonDataErased, 1); n != 1 {
		t.Fatalf("%d DataErased events, want 1", n)
	}
}

// jobWaits: the deleted connection's job is no longer Ready.
func (s *erasureStory) jobWaits(t *testing.T) {
	job := s.jobs[0]
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(job), job); err != nil {
			return err
		}
		if err := hasJobCondition(job, bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonWaitingForConnection); err != nil {
			return fmt.Errorf("job of the deleted connection: %w", err)
		}
		return nil
	})
}

// seriesLeave: the connection's series (conditions, expiry, the job budget's) leave
// once it is deleted, the job's once the job is.
func (s *erasureStory) seriesLeave(t *testing.T) {
	waitSeriesGone(t, s.ns, "olga", "connection")
	if got := seriesOf(t, s.ns, "olga-once"); len(got) == 0 {
		t.Fatal("the job's run series are missing before the job is deleted: the check below could not fail")
	}
	deleteAndWait(t, s.jobs[0])
	waitSeriesGone(t, s.ns, "olga-once", "SyncJob")
	if got := seriesOf(t, s.ns, "quin"); len(got) == 0 {
		t.Fatal("the remaining connection has no series")
	}
}

// storeCounts is what the store holds for bc.
func storeCounts(t *testing.T, bc *bankingv1alpha1.BankConnection) store.Counts {
	t.Helper()
	c, err := testStore.Counts(context.Background(), storeKey(bc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitSeriesGone waits until no metric series of the deleted object name (a what) is
// left in ns.
func waitSeriesGone(t *testing.T, ns, name, what string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		if got := seriesOf(t, ns, name); len(got) != 0 {
			return fmt.Errorf("series of the deleted %s: %v", what, got)
		}
		return nil
	})
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
