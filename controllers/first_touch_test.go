package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// kstatusOf computes the status Flux and kpt would see for obj.
func kstatusOf(t *testing.T, obj client.Object) status.Status {
	t.Helper()
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	res, err := status.Compute(&unstructured.Unstructured{Object: u})
	if err != nil {
		t.Fatalf("kstatus: %v", err)
	}
	return res.Status
}

// observed waits until the controller has written status for obj's current generation
// with a Ready condition, and returns that condition.
func observed(t *testing.T, obj client.Object, conds func() []metav1.Condition, observedGen func() int64) *metav1.Condition {
	t.Helper()
	var ready *metav1.Condition
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		if observedGen() != obj.GetGeneration() {
			return fmt.Errorf("observedGeneration %d, generation %d", observedGen(), obj.GetGeneration())
		}
		ready = apimeta.FindStatusCondition(conds(), bankingv1alpha1.ConditionReady)
		if ready == nil {
			return fmt.Errorf("no Ready condition yet")
		}
		return nil
	})
	return ready
}

func TestFirstTouchSetsReadyUnknownAndObservedGeneration(t *testing.T) {
	ns := newNamespace(t, "first-touch")
	ctx := context.Background()

	bc := newConnection(ns, "alice")
	sj := &bankingv1alpha1.SyncJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "alice-daily"},
		Spec: bankingv1alpha1.SyncJobSpec{
			ConnectionRef: bankingv1alpha1.LocalReference{Name: "alice"},
			Resources:     []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceAccounts},
		},
	}

	// kstatus must not read a freshly created object as Current.
	for _, obj := range []client.Object{bc, sj} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		obj    client.Object
		conds  func() []metav1.Condition
		gen    func() int64
		status metav1.ConditionStatus
		reason string
	}{
		{bc, func() []metav1.Condition { return bc.Status.Conditions }, func() int64 { return bc.Status.ObservedGeneration },
			metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization},
		// A job whose connection is not Ready is not Ready either (and not stalled).
		{sj, func() []metav1.Condition { return sj.Status.Conditions }, func() int64 { return sj.Status.ObservedGeneration },
			metav1.ConditionFalse, bankingv1alpha1.ReasonWaitingForConnection},
	} {
		ready := observed(t, tc.obj, tc.conds, tc.gen)
		if ready.Status != tc.status || ready.Reason != tc.reason {
			t.Errorf("%T: Ready = %s/%s, want %s/%s", tc.obj, ready.Status, ready.Reason, tc.status, tc.reason)
		}
		if ready.ObservedGeneration != tc.obj.GetGeneration() {
			t.Errorf("%T: Ready.observedGeneration = %d, want %d", tc.obj, ready.ObservedGeneration, tc.obj.GetGeneration())
		}
		if got := kstatusOf(t, tc.obj); got != status.InProgressStatus {
			t.Errorf("%T: kstatus = %s, want InProgress", tc.obj, got)
		}
	}

	// A spec change is observed: observedGeneration follows the generation.
	bc.Spec.Suspend = true
	if err := env.Client.Update(ctx, bc); err != nil {
		t.Fatal(err)
	}
	observed(t, bc, func() []metav1.Condition { return bc.Status.Conditions }, func() int64 { return bc.Status.ObservedGeneration })
	if bc.Generation < 2 {
		t.Fatalf("generation did not move: %d", bc.Generation)
	}
}
