package faults

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/open"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
	"github.com/consent-operator/consent-operator/test/scale/harness"
)

// jobLookback is the SyncJobs' first window.
const jobLookback = 30 * 24 * time.Hour

func jobName(i int) string { return fmt.Sprintf("job-%05d", i) }

// newJob is a one-off SyncJob of connection i; later runs are requested with the user
// present (psu-ip), so the storm's many runs do not meet the unattended budget.
func newJob(i int) *bankingv1alpha1.SyncJob {
	mode := bankingv1alpha1.SyncModeSync
	if i%2 == 1 {
		mode = bankingv1alpha1.SyncModeAsync
	}
	return &bankingv1alpha1.SyncJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: jobName(i)},
		Spec: bankingv1alpha1.SyncJobSpec{
			ConnectionRef: bankingv1alpha1.LocalReference{Name: harness.ConnectionName(i)},
			Resources:     []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceAccounts, bankingv1alpha1.ResourceBalance, bankingv1alpha1.ResourceTransactions},
			Transactions: &bankingv1alpha1.TransactionWindow{
				Lookback: &metav1.Duration{Duration: jobLookback},
				Overlap:  &metav1.Duration{Duration: 24 * time.Hour},
			},
			Mode:         mode,
			HistoryLimit: ptr.To[int32](50),
		},
	}
}

// requestRuns asks every job for an attended run tagged value.
func requestRuns(ctx context.Context, c client.Client, jobs int, value string) error {
	return harness.Parallel(ctx, jobs, 8, func(ctx context.Context, i int) error {
		sj := &bankingv1alpha1.SyncJob{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: testNS, Name: jobName(i)}, sj); err != nil {
			return err
		}
		patch := client.MergeFrom(sj.DeepCopy())
		if sj.Annotations == nil {
			sj.Annotations = map[string]string{}
		}
		sj.Annotations[bankingv1alpha1.AnnotationRunRequestedAt] = value
		sj.Annotations[bankingv1alpha1.AnnotationPSUIP] = "203.0.113.9"
		return c.Patch(ctx, sj, patch)
	})
}

// waitForJobs waits until every job has handled the run request value and its last
// run succeeded.
func waitForJobs(ctx context.Context, c client.Client, jobs int, value string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		pending := 0
		var example string
		for i := 0; i < jobs; i++ {
			sj := &bankingv1alpha1.SyncJob{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: testNS, Name: jobName(i)}, sj); err != nil {
				pending++
				continue
			}
			done := sj.Status.LastHandledRunRequestAt == value && sj.Status.ActiveRun == nil &&
				len(sj.Status.RecentRuns) > 0 && sj.Status.RecentRuns[0].Result == bankingv1alpha1.RunSucceeded
			if !done {
				pending++
				if example == "" {
					example = fmt.Sprintf("%s: handled=%q active=%v runs=%d", sj.Name, sj.Status.LastHandledRunRequestAt, sj.Status.ActiveRun != nil, len(sj.Status.RecentRuns))
					if len(sj.Status.RecentRuns) > 0 {
						example += fmt.Sprintf(" last=%s %s", sj.Status.RecentRuns[0].Result, sj.Status.RecentRuns[0].Error)
					}
				}
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d jobs not done with %s (e.g. %s)", pending, jobs, value, example)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// checkStoredData compares each job's stored transactions with the sandbox's dataset:
// nothing stored twice, nothing that is not in the dataset, and everything of the
// dataset inside the window the runs covered.
func checkStoredData(ctx context.Context, c client.Client, sb *harness.Sandbox, storePath string, jobs int) (rows int, err error) {
	st, err := open.Open(ctx, storePath)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	for i := 0; i < jobs; i++ {
		sj := &bankingv1alpha1.SyncJob{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: testNS, Name: jobName(i)}, sj); err != nil {
			return rows, err
		}
		runs := sj.Status.RecentRuns
		first, last := runs[len(runs)-1].StartedAt.Time, runs[0].StartedAt.Time
		bc := &bankingv1alpha1.BankConnection{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: testNS, Name: harness.ConnectionName(i)}, bc); err != nil {
			return rows, err
		}
		sec, err := readTokenSecret(ctx, c, bc)
		if err != nil {
			return rows, err
		}
		info, ok := sb.ConnectionByRefreshToken(sec)
		if !ok {
			return rows, fmt.Errorf("%s: the sandbox does not know its refresh token", bc.Name)
		}
		ds, _ := sb.ConnectionDataset(info.ID)
		// Boundaries are second-precise in status: keep a second of slack each side.
		from, to := first.Add(-jobLookback).Add(time.Second), last.Add(-time.Second)
		for _, a := range ds.Accounts() {
			if a.IsCard() {
				continue
			}
			stored, err := st.ListTransactions(ctx, store.TransactionQuery{Key: store.ConnectionKey{Namespace: testNS, Connection: bc.Name, UID: string(bc.UID)}, AccountID: a.ID})
			if err != nil {
				return rows, err
			}
			inDataset := map[string]bool{}
			for _, tx := range ds.Transactions(a.ID, first.Add(-jobLookback-time.Hour), last.Add(time.Hour)) {
				inDataset[tx.NormalisedID] = true
			}
			seen := map[string]bool{}
			for _, tx := range stored {
				id := tx.NormalisedProviderTransactionID
				if seen[id] {
					return rows, fmt.Errorf("%s/%s: transaction %s stored twice", bc.Name, a.ID, id)
				}
				seen[id] = true
				if !inDataset[id] {
					return rows, fmt.Errorf("%s/%s: stored transaction %s is not in the bank's data", bc.Name, a.ID, id)
				}
			}
			rows += len(stored)
			for _, tx := range ds.Transactions(a.ID, from, to) {
				if !seen[tx.NormalisedID] {
					return rows, fmt.Errorf("%s/%s: transaction %s of %s is missing", bc.Name, a.ID, tx.NormalisedID, tx.Timestamp)
				}
			}
		}
	}
	return rows, nil
}

func readTokenSecret(ctx context.Context, c client.Client, bc *bankingv1alpha1.BankConnection) (string, error) {
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: bc.Namespace, Name: tokensecret.Name(bc)}, s); err != nil {
		return "", err
	}
	return string(s.Data[tokensecret.KeyRefreshToken]), nil
}
