package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/notify"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// notificationTimeout bounds one delivery attempt in these tests: long, so that a
// delivery queued behind a hanging destination would miss the live one's deadline.
const notificationTimeout = 20 * time.Second

// signingSecret is a Standard Webhooks secret (whsec_ and base64 of 32 bytes).
const signingSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// delivery is one POST a receiver got.
type delivery struct {
	header  http.Header
	body    []byte
	payload notify.Payload
	// verified is the Standard Webhooks library's verdict on the signature.
	verified error
}

// receiver is an application's notification endpoint over a real socket.
type receiver struct {
	srv *httptest.Server
	wh  *standardwebhooks.Webhook
	mu  sync.Mutex
	got []delivery
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(signingSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{wh: wh}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{header: req.Header.Clone(), body: body}
		// The operator's clock is the suite's simulated one, months from the wall
		// clock the library's tolerance check uses: the signature is checked alone,
		// and the timestamp against the simulated clock below.
		d.verified = r.wh.VerifyIgnoringTimestamp(body, req.Header)
		if err := json.Unmarshal(body, &d.payload); err != nil && d.verified == nil {
			d.verified = err
		}
		r.mu.Lock()
		r.got = append(r.got, d)
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// waitFor returns the first delivery of an event type for a connection.
func (r *receiver) waitFor(t *testing.T, timeout time.Duration, eventType bankingv1alpha1.NotificationType, connection string) delivery {
	t.Helper()
	var found delivery
	testenv.Eventually(t, timeout, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, d := range r.got {
			if d.payload.Type == eventType && d.payload.Data.Connection == connection {
				found = d
				return nil
			}
		}
		return fmt.Errorf("no %s event for %s among %d deliveries", eventType, connection, len(r.got))
	})
	if found.verified != nil {
		t.Fatalf("%s: the signature does not verify with the Standard Webhooks library: %v", eventType, found.verified)
	}
	ts, err := strconv.ParseInt(found.header.Get(notify.HeaderTimestamp), 10, 64)
	if err != nil || ts < t0.Unix() || ts > clk.Now().Unix() {
		t.Fatalf("%s: webhook-timestamp %q is not a time of the operator's clock", eventType, found.header.Get(notify.HeaderTimestamp))
	}
	return found
}

// hooksSecret creates the signing Secret in ns.
func hooksSecret(t *testing.T, ns string) {
	t.Helper()
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "hooks"}, StringData: map[string]string{"secret": signingSecret}})
}

func notifyTo(bc *bankingv1alpha1.BankConnection, url string) *bankingv1alpha1.BankConnection {
	bc.Spec.Notifications = &bankingv1alpha1.NotificationSpec{URL: url,
		SigningSecretRef: bankingv1alpha1.SecretKeyReference{Name: "hooks", Key: "secret"}}
	return bc
}

// outboxDrained waits until every event of bc was delivered and dropped from pending.
func outboxDrained(t *testing.T, bc *bankingv1alpha1.BankConnection, lastType bankingv1alpha1.NotificationType) {
	t.Helper()
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		n := bc.Status.Notifications
		if n == nil || n.Delivery == nil || n.Delivery.LastDelivered == nil || n.Delivery.LastDelivered.Type != lastType {
			return fmt.Errorf("last delivered is not %s: %+v", lastType, n)
		}
		if len(n.Pending) != 0 || n.Delivery.LastError != "" {
			return fmt.Errorf("outbox not drained: %+v", n)
		}
		return nil
	})
}

// tellStory holds what the chapters of TestNotificationsTellTheApplication share: the
// application's receiver, the namespace and walt's connection, and the revocation's
// event once it arrived.
type tellStory struct {
	app     *receiver
	ns      string
	walt    *bankingv1alpha1.BankConnection
	want    bankingv1alpha1.NotificationType
	revoked delivery
}

// TestNotificationsTellTheApplication: an application that names a URL and a
// signing Secret hears, signed, that its user's connection is ready, that the
// consent is about to end (with the link to renew it), that a sync stored data (with
// counts) and that the bank revoked the consent (with the link to consent again),
// each event once, under an id that stays the same however often it is observed.
func TestNotificationsTellTheApplication(t *testing.T) {
	s := &tellStory{app: newReceiver(t), ns: newNamespace(t, "notify")}
	hooksSecret(t, s.ns)
	chapter(t, "1 connection ready", s.connectionReady)
	chapter(t, "2 consent expiring", s.consentExpiring)
	chapter(t, "3 sync completed", s.syncCompleted)
	chapter(t, "4 consent revoked", s.consentRevoked)
	chapter(t, "5 each event once", s.eachEventOnce)
}

// connectionReady: walt consents and the application hears connection.ready, signed.
func (s *tellStory) connectionReady(t *testing.T) {
	t.Helper()
	app, ns := s.app, s.ns
	// A connection whose warning window covers nearly the whole consent.
	s.walt = notifyTo(newConnection(ns, "walt"), app.srv.URL+"/hooks")
	s.walt.Spec.Reconsent = &bankingv1alpha1.ReconsentSpec{NotifyBefore: &metav1.Duration{Duration: 2136 * time.Hour}}
	consented(t, s.walt)
	waitFor(t, s.walt, isReady)

	ready := app.waitFor(t, 30*time.Second, bankingv1alpha1.NotificationConnectionReady, "walt")
	if d := ready.payload.Data; d.Namespace != ns || d.UserRef != "user-walt" || d.Provider != "TrueLayer" || d.Reason != bankingv1alpha1.ReasonAuthorized || d.SyncJob != "" {
		t.Fatalf("connection.ready payload: %s", ready.body)
	}
	if ready.header.Get("Content-Type") != "application/json" || !strings.HasPrefix(ready.header.Get(notify.HeaderID), "msg_") {
		t.Fatalf("connection.ready headers: %v", ready.header)
	}
}

// consentExpiring: a day on, the application hears the consent is about to end, with
// the link to renew it.
func (s *tellStory) consentExpiring(t *testing.T) {
	t.Helper()
	app, walt := s.app, s.walt
	// A day on, the warning window (89 days of a 90-day consent) begins.
	clk.Advance(25 * time.Hour)
	poke(t, walt)
	expiring := app.waitFor(t, 30*time.Second, bankingv1alpha1.NotificationConsentExpiring, "walt")
	waitFor(t, walt, func(bc *bankingv1alpha1.BankConnection) error {
		if bc.Status.ReconsentURL == "" {
			return fmt.Errorf("no re-consent link")
		}
		return nil
	})
	if d := expiring.payload.Data; d.ReconsentURL != walt.Status.ReconsentURL || d.ConsentExpiresAt == nil ||
		!d.ConsentExpiresAt.Equal(walt.Status.Consent.ExpiresAt.Time) || d.Reason != bankingv1alpha1.ReasonConsentExpiringSoon {
		t.Fatalf("consent.expiring payload %s; status reconsentURL %q, consent %+v", expiring.body, walt.Status.ReconsentURL, walt.Status.Consent)
	}
}

// syncCompleted: a sync tells the application what it fetched and stored.
func (s *tellStory) syncCompleted(t *testing.T) {
	t.Helper()
	app, ns := s.app, s.ns
	// A sync: completed, with what it fetched and stored.
	ctx := context.Background()
	sj := newSyncJob(ns, "walt-once", "walt", "", bankingv1alpha1.SyncModeSync)
	create(t, sj)
	waitForRuns(t, sj, 1)
	completed := app.waitFor(t, 30*time.Second, bankingv1alpha1.NotificationSyncCompleted, "walt")
	run := completed.payload.Data.Run
	if completed.payload.Data.SyncJob != "walt-once" || run == nil || run.ID != sj.Status.RecentRuns[0].ID || run.Result != string(bankingv1alpha1.RunSucceeded) {
		t.Fatalf("sync.completed payload: %s", completed.body)
	}
	stored := map[string]int64{}
	for _, c := range run.Counts {
		stored[c.Resource] = c.Fetched
	}
	for _, c := range sj.Status.RecentRuns[0].Counts {
		if stored[string(c.Resource)] != c.Fetched {
			t.Fatalf("sync.completed counts %+v, the run's %+v", run.Counts, sj.Status.RecentRuns[0].Counts)
		}
	}
	if stored[string(bankingv1alpha1.ResourceTransactions)] == 0 {
		t.Fatalf("sync.completed counts no transactions: %s", completed.body)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sj), sj); err != nil {
			return err
		}
		if n := sj.Status.Notifications; n == nil || len(n.Pending) != 0 || n.Delivery == nil || n.Delivery.LastDelivered == nil ||
			n.Delivery.LastDelivered.ID != completed.header.Get(notify.HeaderID) {
			return fmt.Errorf("the job's outbox is not drained: %+v", n)
		}
		return nil
	})
}

// consentRevoked: the bank revokes the consent and the application hears it must get
// a new one.
func (s *tellStory) consentRevoked(t *testing.T) {
	t.Helper()
	app, walt := s.app, s.walt
	// The bank revokes the consent: the application is told to get a new one.
	if err := sb.RevokeConnection(connectionID(t, walt)); err != nil {
		t.Fatal(err)
	}
	forceRefresh(t, walt)
	waitFor(t, walt, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, ""))
	s.want = map[string]bankingv1alpha1.NotificationType{
		bankingv1alpha1.ReasonConsentRevoked:          bankingv1alpha1.NotificationConsentRevoked,
		bankingv1alpha1.ReasonReauthorizationRequired: bankingv1alpha1.NotificationReauthorizationRequired,
	}[conditionReason(walt, bankingv1alpha1.ConditionStalled)]
	want := s.want
	if want == "" {
		t.Fatalf("a revoked consent stalled with %s", conditionReason(walt, bankingv1alpha1.ConditionStalled))
	}
	s.revoked = app.waitFor(t, 30*time.Second, want, "walt")
	revoked := s.revoked
	outboxDrained(t, walt, want)
	if revoked.payload.Data.ReconsentURL == "" || revoked.payload.Data.ReconsentURL != walt.Status.ReconsentURL {
		t.Fatalf("%s payload has no re-consent link: %s (status %q)", want, revoked.body, walt.Status.ReconsentURL)
	}
}

// eachEventOnce: every event arrived once, under the id status reports.
func (s *tellStory) eachEventOnce(t *testing.T) {
	t.Helper()
	app, ns, walt, want, revoked := s.app, s.ns, s.walt, s.want, s.revoked
	// Each event arrived once, with an id of its own and the id status reports.
	app.mu.Lock()
	ids := map[string]int{}
	for _, d := range app.got {
		ids[d.header.Get(notify.HeaderID)]++
	}
	app.mu.Unlock()
	for id, n := range ids {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	if len(ids) != 4 {
		t.Errorf("%d distinct events, want 4 (ready, expiring, sync completed, %s, and no other)", len(ids), want)
	}
	if walt.Status.Notifications.Delivery.LastDelivered.ID != revoked.header.Get(notify.HeaderID) {
		t.Fatalf("status names %s as last delivered, the receiver got %s", walt.Status.Notifications.Delivery.LastDelivered.ID, revoked.header.Get(notify.HeaderID))
	}
	if notificationCount(t, ns, notify.OutcomeDelivered) != 4 {
		t.Fatalf("delivered metric %v, want 4", notificationCount(t, ns, notify.OutcomeDelivered))
	}
}

// TestNotificationsDeadDestinationDelaysNothingElse: one tenant's notification URL
// hangs and another's refuses connections; a second tenant's connection still
// becomes Ready and is notified in normal time, while the dead ones retry with
// backoff and say why in status.
func TestNotificationsDeadDestinationDelaysNothingElse(t *testing.T) {
	hanging := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // never answers
	}))
	t.Cleanup(hanging.Close)
	refusing := closedPortURL(t)

	dead := newNamespace(t, "notify-dead")
	hooksSecret(t, dead)
	mallory := notifyTo(newConnection(dead, "mallory"), hanging.URL+"/hooks")
	oscar := notifyTo(newConnection(dead, "oscar"), refusing+"/hooks")
	consented(t, mallory)
	consented(t, oscar)
	waitFor(t, mallory, hasPending)

	// The other tenant, while mallory's delivery hangs.
	app := newReceiver(t)
	alive := newNamespace(t, "notify-alive")
	hooksSecret(t, alive)
	trent := notifyTo(newConnection(alive, "trent"), app.srv.URL+"/hooks")
	consented(t, trent)
	waitFor(t, trent, isReady)
	// Well inside the hanging attempt's timeout: it did not wait behind it.
	app.waitFor(t, notificationTimeout/2, bankingv1alpha1.NotificationConnectionReady, "trent")
	outboxDrained(t, trent, bankingv1alpha1.NotificationConnectionReady)

	// The dead ones are Ready too (their reconciles never waited), and retry.
	waitFor(t, oscar, isReady)
	waitFor(t, oscar, failedOnce)
	if !strings.Contains(oscar.Status.Notifications.Delivery.LastError, "connection refused") {
		t.Fatalf("oscar's lastError %q does not say the connection was refused", oscar.Status.Notifications.Delivery.LastError)
	}
	testenv.Eventually(t, 2*notificationTimeout, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(mallory), mallory); err != nil {
			return err
		}
		return failedOnce(mallory)
	})
	if !strings.Contains(mallory.Status.Notifications.Delivery.LastError, "did not answer in time") {
		t.Fatalf("mallory's lastError %q does not say the destination timed out", mallory.Status.Notifications.Delivery.LastError)
	}

	assertBackoffDoubles(t, oscar)
	if notificationCount(t, dead, notify.OutcomeFailed) < 2 || notificationCount(t, dead, notify.OutcomeTimeout) < 1 {
		t.Fatalf("failure metrics: failed %v, timeout %v", notificationCount(t, dead, notify.OutcomeFailed), notificationCount(t, dead, notify.OutcomeTimeout))
	}
}

// failedOnce: bc is Ready with its one event pending after a failed attempt.
func failedOnce(bc *bankingv1alpha1.BankConnection) error {
	if err := isReady(bc); err != nil {
		return err
	}
	n := bc.Status.Notifications
	if n == nil || len(n.Pending) != 1 || n.Delivery == nil || n.Delivery.Failures < 1 || n.Delivery.NextAttemptAt == nil {
		return fmt.Errorf("no failed attempt recorded: %+v", n)
	}
	return nil
}

// assertBackoffDoubles checks a failing delivery's backoff: nothing is tried before
// nextAttemptAt; after it, the next wait doubles.
func assertBackoffDoubles(t *testing.T, oscar *bankingv1alpha1.BankConnection) {
	t.Helper()
	d := oscar.Status.Notifications.Delivery
	failures, next := d.Failures, d.NextAttemptAt.Time
	clk.Advance(next.Sub(clk.Now()) + time.Second)
	poke(t, oscar)
	waitFor(t, oscar, func(bc *bankingv1alpha1.BankConnection) error {
		d := bc.Status.Notifications.Delivery
		if d.Failures != failures+1 {
			return fmt.Errorf("failures %d, want %d", d.Failures, failures+1)
		}
		return nil
	})
	d = oscar.Status.Notifications.Delivery
	if wait := d.NextAttemptAt.Sub(clk.Now().Truncate(time.Second)); wait != notify.Backoff(d.Failures) {
		t.Fatalf("after %d failures the next attempt is in %s, want %s", d.Failures, wait, notify.Backoff(d.Failures))
	}
}

func hasPending(bc *bankingv1alpha1.BankConnection) error {
	if n := bc.Status.Notifications; n == nil || len(n.Pending) == 0 {
		return fmt.Errorf("no pending notification")
	}
	return nil
}

// closedPortURL is an http URL on loopback where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// notificationCount sums the notification metric of a namespace for one outcome.
func notificationCount(t *testing.T, ns, outcome string) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "consent_operator_notifications_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelValue(m, "namespace") == ns && labelValue(m, "outcome") == outcome {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// TestNotificationsRetryTheSameEvent: an endpoint that fails gets the same event
// again, under the same id and with the same body, until it accepts it; status says
// why it failed meanwhile and is clean afterwards.
func TestNotificationsRetryTheSameEvent(t *testing.T) {
	var mu sync.Mutex
	var attempts []delivery
	failing := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, delivery{header: r.Header.Clone(), body: body})
		if failing {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	ns := newNamespace(t, "notify-retry")
	hooksSecret(t, ns)
	peggy := notifyTo(newConnection(ns, "peggy"), srv.URL+"/hooks")
	consented(t, peggy)
	waitFor(t, peggy, func(bc *bankingv1alpha1.BankConnection) error {
		if n := bc.Status.Notifications; n == nil || n.Delivery == nil || n.Delivery.Failures < 1 {
			return fmt.Errorf("no failed attempt yet: %+v", n)
		}
		return nil
	})
	if got := peggy.Status.Notifications.Delivery.LastError; !strings.Contains(got, "answered HTTP 503") {
		t.Fatalf("lastError %q does not give the answer's status", got)
	}

	mu.Lock()
	failing = false
	mu.Unlock()
	clk.Advance(peggy.Status.Notifications.Delivery.NextAttemptAt.Sub(clk.Now()) + time.Second)
	poke(t, peggy)
	outboxDrained(t, peggy, bankingv1alpha1.NotificationConnectionReady)
	if d := peggy.Status.Notifications.Delivery; d.Failures != 0 || d.NextAttemptAt != nil {
		t.Fatalf("delivery state not reset after a success: %+v", d)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(attempts) < 2 {
		t.Fatalf("%d attempts, want a failed one and a delivered one", len(attempts))
	}
	first, last := attempts[0], attempts[len(attempts)-1]
	if first.header.Get(notify.HeaderID) != last.header.Get(notify.HeaderID) || string(first.body) != string(last.body) {
		t.Fatalf("the retry is another message: ids %s / %s, bodies %s / %s",
			first.header.Get(notify.HeaderID), last.header.Get(notify.HeaderID), first.body, last.body)
	}
	if last.header.Get(notify.HeaderID) != peggy.Status.Notifications.Delivery.LastDelivered.ID {
		t.Fatalf("status names %s as delivered, the endpoint accepted %s", peggy.Status.Notifications.Delivery.LastDelivered.ID, last.header.Get(notify.HeaderID))
	}
	wh, _ := standardwebhooks.NewWebhook(signingSecret)
	for i, a := range attempts {
		if err := wh.VerifyIgnoringTimestamp(a.body, a.header); err != nil {
			t.Fatalf("attempt %d is not signed: %v", i, err)
		}
	}
}

// TestNotificationsAreWrittenWithTheirTransition: the event is in the very status
// write that makes the connection Ready, so no crash can fall between the two. Every
// version of the object the apiserver hands out that shows the transition shows the
// event pending too (the endpoint refuses, so it stays pending).
func TestNotificationsAreWrittenWithTheirTransition(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(refusing.Close)
	ns := newNamespace(t, "notify-atomic")
	hooksSecret(t, ns)

	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(ctx, &bankingv1alpha1.BankConnectionList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	victor := notifyTo(newConnection(ns, "victor"), refusing.URL+"/hooks")
	consented(t, victor)

	versions := 0
	for e := range w.ResultChan() {
		bc, ok := e.Object.(*bankingv1alpha1.BankConnection)
		if !ok {
			t.Fatalf("watch: %v", e.Object)
		}
		versions++
		if isReady(bc) != nil {
			continue
		}
		n := bc.Status.Notifications
		if n == nil || len(n.Pending) == 0 || n.Pending[0].Type != bankingv1alpha1.NotificationConnectionReady {
			t.Fatalf("version %s is Ready without the connection.ready event pending: %+v", bc.ResourceVersion, n)
		}
		return
	}
	t.Fatalf("the watch ended after %d versions without the connection becoming Ready: %v", versions, ctx.Err())
}

// TestNotificationsNamespaceDefault: a namespace's consent-operator-notifications
// ConfigMap is the destination of every connection there without spec.notifications;
// another namespace's connections do not use it.
func TestNotificationsNamespaceDefault(t *testing.T) {
	app := newReceiver(t)
	ns := newNamespace(t, "notify-default")
	hooksSecret(t, ns)
	create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: bankingv1alpha1.NotificationDefaultsConfigMap},
		Data: map[string]string{
			bankingv1alpha1.NotificationDefaultsURL:        app.srv.URL + "/hooks",
			bankingv1alpha1.NotificationDefaultsSecretName: "hooks",
			bankingv1alpha1.NotificationDefaultsSecretKey:  "secret",
		}})
	ursula := newConnection(ns, "ursula")
	consented(t, ursula)
	ready := app.waitFor(t, 30*time.Second, bankingv1alpha1.NotificationConnectionReady, "ursula")
	if ready.payload.Data.Namespace != ns {
		t.Fatalf("payload: %s", ready.body)
	}
	outboxDrained(t, ursula, bankingv1alpha1.NotificationConnectionReady)

	// A namespace without the ConfigMap records nothing: no outbox, no writes for it.
	other := newNamespace(t, "notify-none")
	xavier := newConnection(other, "xavier")
	consented(t, xavier)
	waitFor(t, xavier, isReady)
	if xavier.Status.Notifications != nil {
		t.Fatalf("a connection with nowhere to send events has an outbox: %+v", xavier.Status.Notifications)
	}
}
