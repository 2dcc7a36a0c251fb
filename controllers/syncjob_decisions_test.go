package controllers

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/syncrun"
)

// TestSCAFallback: a transactions window refused as reaching past the SCA window is
// narrowed to its part inside it, or, when all of it is older, skipped by moving the
// watermark; any other refusal, resource or window inside the SCA window is left to
// the run's ordinary failure handling.
func TestSCAFallback(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	floor := syncrun.SCAFloor(now)
	sca := &provider.Error{Reason: provider.ReasonSCAExceeded}
	tx := func(from, to time.Time) provider.Fetch {
		return provider.Fetch{Resource: provider.ResourceTransactions, AccountID: "acc", From: from, To: to}
	}
	cases := []struct {
		name      string
		f         provider.Fetch
		err       error
		handled   bool
		retry     []provider.Fetch
		watermark time.Time // zero: none recorded
	}{
		{name: "not a provider error", f: tx(floor.AddDate(0, 0, -10), now), err: errors.New("dial tcp: refused")},
		{name: "another refusal", f: tx(floor.AddDate(0, 0, -10), now), err: &provider.Error{Reason: provider.ReasonAccessDenied}},
		{name: "not transactions", f: provider.Fetch{Resource: provider.ResourceBalance, AccountID: "acc"}, err: sca},
		{name: "already inside the window", f: tx(floor, now), err: sca},
		{name: "straddles the floor: narrowed", f: tx(floor.AddDate(0, 0, -10), now), err: sca,
			handled: true, retry: []provider.Fetch{tx(floor, now)}},
		{name: "wholly older: skipped", f: tx(floor.AddDate(0, 0, -30), floor), err: sca,
			handled: true, watermark: floor},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &jobScope{sj: &bankingv1alpha1.SyncJob{}, now: now}
			retry, handled := scaFallback(s, "store-acc", tc.f, tc.err)
			if handled != tc.handled || len(retry) != len(tc.retry) {
				t.Fatalf("scaFallback = %v, %v; want %v, %v", retry, handled, tc.retry, tc.handled)
			}
			for i := range retry {
				if !retry[i].From.Equal(tc.retry[i].From) || !retry[i].To.Equal(tc.retry[i].To) || retry[i].Resource != tc.retry[i].Resource {
					t.Fatalf("retry[%d] = %+v, want %+v", i, retry[i], tc.retry[i])
				}
			}
			marks := s.sj.Status.Watermarks
			switch {
			case tc.watermark.IsZero() && len(marks) != 0:
				t.Fatalf("watermarks = %+v, want none", marks)
			case !tc.watermark.IsZero() && (len(marks) != 1 || marks[0].AccountID != "store-acc" || !marks[0].TransactionsThrough.Time.Equal(tc.watermark)):
				t.Fatalf("watermarks = %+v, want store-acc through %v", marks, tc.watermark)
			}
		})
	}
}

// TestAsyncFor: which fetches go through the provider's async mode.
func TestAsyncFor(t *testing.T) {
	cases := []struct {
		name     string
		provider bankingv1alpha1.Provider
		dataAPI  bankingv1alpha1.DataAPI
		mode     bankingv1alpha1.SyncMode
		attended bool
		resource provider.Resource
		want     bool
	}{
		{name: "v1 transactions, unattended", provider: bankingv1alpha1.ProviderTrueLayer, dataAPI: bankingv1alpha1.DataAPIV1,
			resource: provider.ResourceTransactions, want: true},
		{name: "v1 transactions, attended: the user waits", provider: bankingv1alpha1.ProviderTrueLayer, dataAPI: bankingv1alpha1.DataAPIV1,
			attended: true, resource: provider.ResourceTransactions, want: false},
		{name: "v3 transactions, attended: always async", provider: bankingv1alpha1.ProviderTrueLayer, dataAPI: bankingv1alpha1.DataAPIV3,
			attended: true, resource: provider.ResourceTransactions, want: true},
		{name: "sync mode", provider: bankingv1alpha1.ProviderTrueLayer, dataAPI: bankingv1alpha1.DataAPIV1,
			mode: bankingv1alpha1.SyncModeSync, resource: provider.ResourceTransactions, want: false},
		{name: "accounts are small reads", provider: bankingv1alpha1.ProviderTrueLayer, dataAPI: bankingv1alpha1.DataAPIV1,
			resource: provider.ResourceAccounts, want: false},
		{name: "cards", provider: bankingv1alpha1.ProviderTrueLayer, resource: provider.ResourceCards, want: false},
		{name: "info", provider: bankingv1alpha1.ProviderTrueLayer, resource: provider.ResourceInfo, want: false},
		{name: "identity", provider: bankingv1alpha1.ProviderTrueLayer, resource: provider.ResourceIdentity, want: false},
		{name: "codat: its client queues pulls itself", provider: bankingv1alpha1.ProviderCodat,
			resource: provider.ResourceTransactions, want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sj := &bankingv1alpha1.SyncJob{}
			sj.Spec.Mode = tc.mode
			sj.Status.ActiveRun = &bankingv1alpha1.ActiveRun{Attended: tc.attended}
			bc := &bankingv1alpha1.BankConnection{}
			bc.Spec.Provider = tc.provider
			rc := &runContext{bc: bc, conn: provider.Connection{DataAPI: string(tc.dataAPI)}}
			if got := (&SyncJobReconciler{}).asyncFor(sj, rc, provider.Fetch{Resource: tc.resource}); got != tc.want {
				t.Fatalf("asyncFor = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestScheduleAnchor: slots are counted from the last run's, else from just before the
// published next one, else from the job's creation, never from the future.
func TestScheduleAnchor(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	last, next, created := now.Add(-6*time.Hour), now.Add(time.Hour), now.Add(-48*time.Hour)
	cases := []struct {
		name             string
		last, next, born *time.Time
		want             time.Time
	}{
		{name: "after a run", last: &last, next: &next, born: &created, want: last},
		{name: "before the first run", next: &next, born: &created, want: next.Add(-time.Nanosecond)},
		{name: "first sight", born: &created, want: created},
		{name: "created in the operator's future", born: ptr.To(now.Add(time.Minute)), want: now},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sj := &bankingv1alpha1.SyncJob{}
			sj.CreationTimestamp = metav1.NewTime(*tc.born)
			if tc.last != nil {
				sj.Status.LastScheduleTime = timePtr(*tc.last)
			}
			if tc.next != nil {
				sj.Status.NextScheduleTime = timePtr(*tc.next)
			}
			if got := scheduleAnchor(sj, now); !got.Equal(tc.want) {
				t.Fatalf("scheduleAnchor = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAttendedRequest: a run request is attended only when it is new and names the
// user's address.
func TestAttendedRequest(t *testing.T) {
	cases := []struct {
		name           string
		requested, ip  string
		alreadyHandled string
		want           bool
	}{
		{name: "new request with the user's address", requested: "2026-06-01T12:00:00Z", ip: "203.0.113.7", want: true},
		{name: "no address", requested: "2026-06-01T12:00:00Z"},
		{name: "no request", ip: "203.0.113.7"},
		{name: "request already handled", requested: "2026-06-01T12:00:00Z", ip: "203.0.113.7", alreadyHandled: "2026-06-01T12:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sj := &bankingv1alpha1.SyncJob{}
			sj.Annotations = map[string]string{}
			if tc.requested != "" {
				sj.Annotations[bankingv1alpha1.AnnotationRunRequestedAt] = tc.requested
			}
			if tc.ip != "" {
				sj.Annotations[bankingv1alpha1.AnnotationPSUIP] = tc.ip
			}
			sj.Status.LastHandledRunRequestAt = tc.alreadyHandled
			if got := attendedRequest(sj); got != tc.want {
				t.Fatalf("attendedRequest = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWantsAllData: only a Codat job reading both balances and transactions refreshes
// every data type at once.
func TestWantsAllData(t *testing.T) {
	both := []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceBalance, bankingv1alpha1.ResourceTransactions}
	cases := []struct {
		name      string
		provider  bankingv1alpha1.Provider
		resources []bankingv1alpha1.SyncResource
		want      bool
	}{
		{name: "codat, balances and transactions", provider: bankingv1alpha1.ProviderCodat, resources: both, want: true},
		{name: "codat, transactions only", provider: bankingv1alpha1.ProviderCodat, resources: both[1:]},
		{name: "codat, balances only", provider: bankingv1alpha1.ProviderCodat, resources: both[:1]},
		{name: "truelayer", provider: bankingv1alpha1.ProviderTrueLayer, resources: both},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bc, sj := &bankingv1alpha1.BankConnection{}, &bankingv1alpha1.SyncJob{}
			bc.Spec.Provider, sj.Spec.Resources = tc.provider, tc.resources
			if got := wantsAllData(bc, sj); got != tc.want {
				t.Fatalf("wantsAllData = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTaskRoundTrip: a queued fetch recorded in status as a ProviderTask comes back as
// the same fetch, so a run resumed by another replica or after a restart collects
// exactly what was asked.
func TestTaskRoundTrip(t *testing.T) {
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range []provider.Fetch{
		{Resource: provider.ResourceTransactions, AccountID: "acc", From: from, To: from.AddDate(0, 1, 0)},
		{Resource: provider.ResourceBalance, AccountID: "card", Card: true},
	} {
		task := taskOf(f, &provider.Task{ID: "task-1", ResultsURI: "https://results"})
		if task.TaskID != "task-1" || task.ResultsURI != "https://results" {
			t.Fatalf("taskOf(%+v) = %+v, want the provider's task id and results URI", f, task)
		}
		back := fetchOf(task)
		if back.Resource != f.Resource || back.AccountID != f.AccountID || back.Card != f.Card ||
			!back.From.Equal(f.From) || !back.To.Equal(f.To) {
			t.Fatalf("fetchOf(taskOf(%+v)) = %+v", f, back)
		}
	}
}
