package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

func TestWakesReconciler(t *testing.T) {
	base := func() *bankingv1alpha1.BankConnection {
		bc := &bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{Name: "alice", Generation: 1,
			Annotations: map[string]string{"a": "1"}, Labels: map[string]string{"team": "x"}}}
		bc.Status.Handoff = &bankingv1alpha1.HandoffStatus{Nonce: "n1"}
		return bc
	}
	deleted := metav1.Now()
	tests := []struct {
		name   string
		change func(*bankingv1alpha1.BankConnection)
		want   bool
	}{
		{"a resync: nothing changed", func(*bankingv1alpha1.BankConnection) {}, false},
		{"its own status patch", func(bc *bankingv1alpha1.BankConnection) {
			bc.Status.ConnectURL = "https://gw/connect/x"
			bc.Status.Conditions = []metav1.Condition{{Type: bankingv1alpha1.ConditionReady, Status: metav1.ConditionTrue}}
		}, false},
		{"its own finalizer", func(bc *bankingv1alpha1.BankConnection) { bc.Finalizers = []string{bankingv1alpha1.FinalizerRevoke} }, false},
		{"a SyncJob's ledger and accounts", func(bc *bankingv1alpha1.BankConnection) {
			bc.Status.Accounts = []bankingv1alpha1.AccountStatus{{ID: "acc-1"}}
			bc.Status.UnattendedCalls = []bankingv1alpha1.UnattendedCallEntry{{AccountID: "acc-1", Endpoint: "balance"}}
		}, false},
		{"its own outbox", func(bc *bankingv1alpha1.BankConnection) {
			bc.Status.Notifications = &bankingv1alpha1.NotificationStatus{Pending: []bankingv1alpha1.NotificationEvent{{ID: "e1"}}}
		}, false},
		{"the spec", func(bc *bankingv1alpha1.BankConnection) { bc.Generation = 2 }, true},
		{"an annotation (refresh-requested-at)", func(bc *bankingv1alpha1.BankConnection) {
			bc.Annotations[bankingv1alpha1.AnnotationRefreshRequestedAt] = "now"
		}, true},
		{"a label", func(bc *bankingv1alpha1.BankConnection) { bc.Labels["team"] = "y" }, true},
		{"the deletion", func(bc *bankingv1alpha1.BankConnection) { bc.DeletionTimestamp = &deleted }, true},
		{"the gateway's handoff", func(bc *bankingv1alpha1.BankConnection) { bc.Status.Handoff.Code = "sealed" }, true},
		{"the gateway's check request", func(bc *bankingv1alpha1.BankConnection) {
			bc.Status.CheckRequest = &bankingv1alpha1.CheckRequest{ID: "c1", Source: bankingv1alpha1.CheckSourceReturn}
		}, true},
		{"the notifier's delivery record", func(bc *bankingv1alpha1.BankConnection) {
			bc.Status.Notifications = &bankingv1alpha1.NotificationStatus{Delivery: &bankingv1alpha1.NotificationDelivery{}}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := base(), base()
			tc.change(cur)
			if got := wakesReconciler(old, cur); got != tc.want {
				t.Errorf("wakesReconciler = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInitialListPriority(t *testing.T) {
	ready := &bankingv1alpha1.BankConnection{}
	ready.Status.ObservedGeneration = 1
	handedOff := ready.DeepCopy()
	handedOff.Status.Authorization = &bankingv1alpha1.AuthorizationStatus{Nonce: "n1"}
	handedOff.Status.Handoff = &bankingv1alpha1.HandoffStatus{Nonce: "n1", Code: "sealed"}
	tests := []struct {
		name     string
		bc       *bankingv1alpha1.BankConnection
		priority int
		raise    bool
	}{
		{"a connection reconciled before: the initial list's low priority", ready, 0, false},
		{"never reconciled: its user waits for the link", &bankingv1alpha1.BankConnection{}, 0, true},
		{"a code handed over before the restart: a user waits in a browser", handedOff, userPresentPriority, true},
	}
	for _, tc := range tests {
		priority, raise := initialListPriority(tc.bc)
		if priority != tc.priority || raise != tc.raise {
			t.Errorf("%s: initialListPriority = %d %v, want %d %v", tc.name, priority, raise, tc.priority, tc.raise)
		}
	}
}
