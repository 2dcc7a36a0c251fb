package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

var notifyT0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// connWith returns a connection with the given conditions (type=status/reason).
func connWith(conds ...[3]string) *bankingv1alpha1.BankConnection {
	bc := &bankingv1alpha1.BankConnection{}
	bc.UID = "uid-1"
	granted := metav1.NewTime(notifyT0)
	ends := metav1.NewTime(notifyT0.Add(90 * 24 * time.Hour))
	bc.Status.Consent = &bankingv1alpha1.ConsentStatus{GrantedAt: &granted, ExpiresAt: &ends}
	bc.Status.ReconsentURL = "https://gw.example/connect/s3cret"
	for _, c := range conds {
		bc.Status.Conditions = append(bc.Status.Conditions, metav1.Condition{Type: c[0], Status: metav1.ConditionStatus(c[1]), Reason: c[2], Message: c[2] + " message"})
	}
	return bc
}

var (
	readyTrue    = [3]string{bankingv1alpha1.ConditionReady, "True", bankingv1alpha1.ReasonAuthorized}
	readyUnknown = [3]string{bankingv1alpha1.ConditionReady, "Unknown", bankingv1alpha1.ReasonAwaitingAuthorization}
	expiringTrue = [3]string{bankingv1alpha1.ConditionConsentExpiring, "True", bankingv1alpha1.ReasonConsentExpiringSoon}
	stalled      = func(reason string) [3]string { return [3]string{bankingv1alpha1.ConditionStalled, "True", reason} }
	readyFalse   = func(reason string) [3]string { return [3]string{bankingv1alpha1.ConditionReady, "False", reason} }
)

func TestConnectionEvents(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after *bankingv1alpha1.BankConnection
		want          []bankingv1alpha1.NotificationType
	}{
		{"consented", connWith(readyUnknown), connWith(readyTrue), []bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationConnectionReady}},
		{"nothing changed", connWith(readyTrue), connWith(readyTrue), nil},
		{"a provider outage is no news", connWith(readyTrue), connWith([3]string{bankingv1alpha1.ConditionReady, "True", bankingv1alpha1.ReasonProviderUnavailable}), nil},
		{"warning window", connWith(readyTrue), connWith(readyTrue, expiringTrue), []bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationConsentExpiring}},
		{"still expiring", connWith(readyTrue, expiringTrue), connWith(readyTrue, expiringTrue), nil},
		{"expired", connWith(readyTrue, expiringTrue), connWith(readyFalse(bankingv1alpha1.ReasonConsentExpired), stalled(bankingv1alpha1.ReasonConsentExpired)),
			[]bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationConsentExpired}},
		{"revoked", connWith(readyTrue), connWith(readyFalse(bankingv1alpha1.ReasonConsentRevoked), stalled(bankingv1alpha1.ReasonConsentRevoked)),
			[]bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationConsentRevoked}},
		{"re-authorization", connWith(readyTrue), connWith(readyFalse(bankingv1alpha1.ReasonReauthorizationRequired), stalled(bankingv1alpha1.ReasonReauthorizationRequired)),
			[]bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationReauthorizationRequired}},
		{"refresh token lost", connWith(readyTrue), connWith(readyFalse(bankingv1alpha1.ReasonRefreshInterrupted), stalled(bankingv1alpha1.ReasonRefreshInterrupted)),
			[]bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationRefreshTokenLost}},
		{"still stalled", connWith(stalled(bankingv1alpha1.ReasonConsentRevoked)), connWith(stalled(bankingv1alpha1.ReasonConsentRevoked)), nil},
		{"stalled for a reason the application cannot help", connWith(readyTrue), connWith(stalled(bankingv1alpha1.ReasonInvalidClientCredentials)), nil},
		{"consented inside the window", connWith(readyUnknown), connWith(readyTrue, expiringTrue),
			[]bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationConnectionReady, bankingv1alpha1.NotificationConsentExpiring}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := connectionEvents(tc.before, tc.after, notifyT0)
			if fmt.Sprint(typesOf(got)) != fmt.Sprint(tc.want) {
				t.Fatalf("events %v, want %v", typesOf(got), tc.want)
			}
			for _, ev := range got {
				needsLink := ev.Type != bankingv1alpha1.NotificationConnectionReady
				if needsLink != (ev.ReconsentURL != "") || ev.ConsentExpiresAt == nil || ev.Reason == "" {
					t.Errorf("%s: reconsentURL %q, consentExpiresAt %v, reason %q", ev.Type, ev.ReconsentURL, ev.ConsentExpiresAt, ev.Reason)
				}
			}
		})
	}
}

// The same transition observed again (a retried reconcile, a lagging cache, a
// restart) has the same id; another consent's has another.
func TestConnectionEventIDs(t *testing.T) {
	first := connectionEvents(connWith(readyUnknown), connWith(readyTrue), notifyT0)
	again := connectionEvents(connWith(readyUnknown), connWith(readyTrue), notifyT0.Add(time.Minute))
	if first[0].ID != again[0].ID {
		t.Fatalf("ids %s and %s for the same consent becoming ready", first[0].ID, again[0].ID)
	}
	reconsented := connWith(readyTrue)
	later := metav1.NewTime(notifyT0.Add(80 * 24 * time.Hour))
	reconsented.Status.Consent.GrantedAt = &later
	if next := connectionEvents(connWith(readyUnknown), reconsented, notifyT0); next[0].ID == first[0].ID {
		t.Fatal("a new consent's ready event has the old consent's id")
	}
}

func TestRunEvents(t *testing.T) {
	job := func(runs ...bankingv1alpha1.RunRecord) *bankingv1alpha1.SyncJob {
		sj := &bankingv1alpha1.SyncJob{}
		sj.UID = "job-uid"
		sj.Status.RecentRuns = runs
		return sj
	}
	at := metav1.NewTime(notifyT0)
	run := func(id string, result bankingv1alpha1.RunResult) bankingv1alpha1.RunRecord {
		return bankingv1alpha1.RunRecord{ID: id, StartedAt: at, FinishedAt: &at, Result: result,
			Counts: []bankingv1alpha1.ResourceCount{{Resource: bankingv1alpha1.ResourceTransactions, Fetched: 7, Stored: 5}}}
	}
	for _, tc := range []struct {
		name          string
		before, after *bankingv1alpha1.SyncJob
		want          []bankingv1alpha1.NotificationType
	}{
		{"first run", job(), job(run("r1", bankingv1alpha1.RunSucceeded)), []bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationSyncCompleted}},
		{"partly stored is completed", job(), job(run("r1", bankingv1alpha1.RunPartiallySucceeded)), []bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationSyncCompleted}},
		{"failed", job(run("r1", bankingv1alpha1.RunSucceeded)), job(run("r2", bankingv1alpha1.RunFailed), run("r1", bankingv1alpha1.RunSucceeded)),
			[]bankingv1alpha1.NotificationType{bankingv1alpha1.NotificationSyncFailed}},
		{"deferred sent nothing", job(), job(run("r1", bankingv1alpha1.RunDeferred)), nil},
		{"already known", job(run("r1", bankingv1alpha1.RunSucceeded)), job(run("r1", bankingv1alpha1.RunSucceeded)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runEvents(tc.before, tc.after)
			if fmt.Sprint(typesOf(got)) != fmt.Sprint(tc.want) {
				t.Fatalf("events %v, want %v", typesOf(got), tc.want)
			}
			for _, ev := range got {
				if ev.Run == nil || ev.Run.ID != tc.after.Status.RecentRuns[0].ID || len(ev.Run.Counts) != 1 || ev.Run.Counts[0].Stored != 5 {
					t.Errorf("%s: run %+v", ev.Type, ev.Run)
				}
			}
		})
	}
}

func TestOutboxRecord(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	ctx := context.Background()
	ev := func(id string) bankingv1alpha1.NotificationEvent {
		return bankingv1alpha1.NotificationEvent{ID: id, Type: bankingv1alpha1.NotificationSyncCompleted}
	}
	withSpec := &bankingv1alpha1.BankConnection{Spec: bankingv1alpha1.BankConnectionSpec{Notifications: &bankingv1alpha1.NotificationSpec{URL: "https://app.example/hooks"}}}
	defaults := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-b", Name: bankingv1alpha1.NotificationDefaultsConfigMap},
		Data: map[string]string{bankingv1alpha1.NotificationDefaultsURL: "https://b.example/hooks"}}
	o := &Outbox{Reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(defaults).Build()}

	t.Run("no destination: nothing is recorded", func(t *testing.T) {
		var st *bankingv1alpha1.NotificationStatus
		o.record(ctx, &st, "tenant-a", &bankingv1alpha1.BankConnection{}, []bankingv1alpha1.NotificationEvent{ev("a")})
		if st != nil {
			t.Fatalf("recorded %+v with nowhere to send it", st)
		}
	})
	t.Run("the namespace's default is a destination", func(t *testing.T) {
		var st *bankingv1alpha1.NotificationStatus
		o.record(ctx, &st, "tenant-b", &bankingv1alpha1.BankConnection{}, []bankingv1alpha1.NotificationEvent{ev("a")})
		if st == nil || len(st.Pending) != 1 {
			t.Fatalf("outbox %+v", st)
		}
	})
	t.Run("an event observed again is kept once", func(t *testing.T) {
		st := &bankingv1alpha1.NotificationStatus{Pending: []bankingv1alpha1.NotificationEvent{ev("a")}}
		o.record(ctx, &st, "tenant-a", withSpec, []bankingv1alpha1.NotificationEvent{ev("a"), ev("b")})
		if got := idsOf(st.Pending); got != "[a b]" {
			t.Fatalf("pending %s, want [a b]", got)
		}
	})
	t.Run("acknowledged events leave, even with nothing new", func(t *testing.T) {
		st := &bankingv1alpha1.NotificationStatus{Pending: []bankingv1alpha1.NotificationEvent{ev("a"), ev("b")},
			Delivery: &bankingv1alpha1.NotificationDelivery{Acknowledged: []string{"a"}}}
		o.record(ctx, &st, "tenant-a", withSpec, nil)
		if got := idsOf(st.Pending); got != "[b]" {
			t.Fatalf("pending %s, want [b]", got)
		}
	})
	t.Run("a full outbox drops the oldest and counts it", func(t *testing.T) {
		st := &bankingv1alpha1.NotificationStatus{}
		var evs []bankingv1alpha1.NotificationEvent
		for i := 0; i < bankingv1alpha1.MaxPendingNotifications+3; i++ {
			evs = append(evs, ev(fmt.Sprint(i)))
		}
		o.record(ctx, &st, "tenant-a", withSpec, evs)
		if len(st.Pending) != bankingv1alpha1.MaxPendingNotifications || st.Pending[0].ID != "3" || st.Dropped != 3 {
			t.Fatalf("%d pending from %s, dropped %d", len(st.Pending), st.Pending[0].ID, st.Dropped)
		}
	})
}

func typesOf(evs []bankingv1alpha1.NotificationEvent) []bankingv1alpha1.NotificationType {
	var out []bankingv1alpha1.NotificationType
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func idsOf(evs []bankingv1alpha1.NotificationEvent) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return fmt.Sprint(out)
}
