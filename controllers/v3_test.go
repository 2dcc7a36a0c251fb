package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// undocumentedV3 are endpoints the sandbox once had that the published v3 document
// does not contain; the operator must never call them.
var undocumentedV3 = []string{"GET /v3/data-connections/{connection_id}", "DELETE /v3/data-connections/{connection_id}"}

func assertOnlyDocumentedV3(t *testing.T) {
	t.Helper()
	for _, ep := range undocumentedV3 {
		if n := callsTo(ep); n != 0 {
			t.Fatalf("%d calls to %s, which the v3 document does not contain", n, ep)
		}
	}
}

// newV3Connection returns a Data API v3 BankConnection for the mock bank.
func newV3Connection(ns, name string) *bankingv1alpha1.BankConnection {
	bc := newConnection(ns, name)
	bc.Spec.DataAPI = bankingv1alpha1.DataAPIV3
	bc.Spec.Providers = nil
	bc.Spec.ProviderID = "mock"
	bc.Spec.Scopes = []bankingv1alpha1.Scope{bankingv1alpha1.ScopeInfo, bankingv1alpha1.ScopeAccounts, bankingv1alpha1.ScopeTransactions}
	return bc
}

// readyV3Connection creates a Data API v3 connection and consents on the hosted page.
func readyV3Connection(t *testing.T, ns, name string) *bankingv1alpha1.BankConnection {
	t.Helper()
	bc := newV3Connection(ns, name)
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	clk.Advance(11 * time.Second) // past the gateway's minimum interval between check requests
	if page := consentJourney(t, bc, "doe"); page.Status != http.StatusSeeOther {
		t.Fatalf("v3 journey ended with %d at %s", page.Status, page.URL)
	}
	waitFor(t, bc, isReady)
	return bc
}

// TestV3SyncJob: a SyncJob on a Data API v3 connection reads accounts, the user's
// name and transactions (asynchronous transaction requests, collected by polling)
// into the store, on documented endpoints only.
func TestV3SyncJob(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "v3sync")
	bc := readyV3Connection(t, ns, "abel")
	sj := newSyncJob(ns, "abel-once", "abel", "", bankingv1alpha1.SyncModeAsync)
	sj.Spec.Resources = []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceAccounts, bankingv1alpha1.ResourceInfo, bankingv1alpha1.ResourceTransactions}
	create(t, sj)
	driveRun(t, sj)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("v3 run: %+v", r)
	}
	counts, err := testStore.Counts(ctx, storeKey(bc))
	if err != nil {
		t.Fatal(err)
	}
	if counts.Accounts == 0 || counts.Transactions == 0 || counts.Identities == 0 {
		t.Fatalf("the v3 run stored too little: %+v", counts)
	}
	if len(sj.Status.Watermarks) == 0 {
		t.Fatal("no watermarks recorded")
	}
	if callsTo("POST /v3/connected-accounts/{account_id}/transactions/requests") == 0 {
		t.Fatal("no transaction requests were made")
	}
	assertOnlyDocumentedV3(t)
}

// TestV3ExpiryStartsANewJourney: the v3 consent ends at the bank; the daily check
// (the document's only way to learn it, a data call) finds the connection no longer
// authorised, stalls it and publishes a new data connection's link; the user
// authorises that one and the connection is Ready again with the new id.
func TestV3ExpiryStartsANewJourney(t *testing.T) {
	ns := newNamespace(t, "v3expiry")
	bc := readyV3Connection(t, ns, "bea")
	old := bc.Status.ProviderRefs.DataConnectionID
	creates := callsTo("POST /v3/data-connections")
	if err := sb.ExpireConsent(old); err != nil {
		t.Fatal(err)
	}
	clk.Advance(24*time.Hour + time.Minute)
	poke(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentExpired))
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if bc.Status.ProviderRefs == nil || bc.Status.ProviderRefs.DataConnectionID == old || bc.Status.AuthorizationURL == "" {
			return fmt.Errorf("no new data connection for the re-consent: refs %+v, link %q", bc.Status.ProviderRefs, bc.Status.AuthorizationURL)
		}
		return nil
	})
	if got := callsTo("POST /v3/data-connections") - creates; got != 1 {
		t.Fatalf("%d data connections created for the re-consent, want 1", got)
	}
	// The check was a data call at the bank: it is in the unattended-call ledger.
	counted := 0
	for _, e := range bc.Status.UnattendedCalls {
		if e.AccountID == "" && e.Endpoint == "info" {
			counted = len(e.Calls)
		}
	}
	if counted != 1 {
		t.Fatalf("the daily check is not counted once in the ledger: %+v", bc.Status.UnattendedCalls)
	}
	fresh := bc.Status.ProviderRefs.DataConnectionID
	clk.Advance(11 * time.Second)
	if page := consentJourney(t, bc, "doe"); page.Status != http.StatusSeeOther {
		t.Fatalf("re-consent journey ended with %d at %s", page.Status, page.URL)
	}
	waitFor(t, bc, isReady)
	if bc.Status.ProviderRefs.DataConnectionID != fresh {
		t.Fatalf("data connection %s after the re-consent, want %s", bc.Status.ProviderRefs.DataConnectionID, fresh)
	}
	assertOnlyDocumentedV3(t)
}

// TestV3Webhooks: the documented connection_management and transaction_requests
// webhooks, sent to the gateway's Console URI, make the operator act without waiting
// for its schedule (the clock does not move): an authorised connection becomes
// Ready, a run's transactions request is collected, and a failed authorisation gets
// the user a new link. A malformed body is refused; an unknown connection changes
// nothing.
func TestV3Webhooks(t *testing.T) {
	ns := newNamespace(t, "v3hooks")

	// connection_authorized: authorised at the bank, not through the gateway's return.
	bc := newV3Connection(ns, "cleo")
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	if err := sb.AuthorizeV3(bc.Status.ProviderRefs.DataConnectionID, "john", "doe"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, bc, isReady)

	// transactions_request_completed wakes the run that waits for it.
	sj := newTransactionsJob(ns, "cleo-once", "cleo", "", bankingv1alpha1.SyncModeAsync)
	create(t, sj)
	waitForRuns(t, sj, 1)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("run woken by the v3 webhook: %+v", r)
	}

	connectionFailedGetsANewLink(t, ns)
	assertOnlyDocumentedV3(t)
}

// connectionFailedGetsANewLink: on connection_failed the user gets a new data
// connection's link; a malformed body is refused, an unknown connection changes
// nothing, and an unsigned or altered webhook wakes nothing.
func connectionFailedGetsANewLink(t *testing.T, ns string) {
	t.Helper()
	dora := newV3Connection(ns, "dora")
	create(t, dora)
	waitFor(t, dora, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	failed := dora.Status.ProviderRefs.DataConnectionID
	post := func(body string) int { t.Helper(); return sendV3Webhook(t, body, body, true) }
	event := func(typ, connID, extra string) string { return v3WebhookEvent(ns, "dora", typ, connID, extra) }
	if code := post(`{"type":"connection_failed"}`); code != http.StatusBadRequest {
		t.Fatalf("malformed webhook: HTTP %d, want 400", code)
	}
	if code := post(event("connection_failed", "00000000-0000-4000-8000-00000000dead", `"failed_at":"2026-01-05T09:00:00.000Z","failure_stage":"authorizing","failure_reason":"provider_rejected"`)); code != http.StatusOK {
		t.Fatalf("webhook for an unknown connection: HTTP %d, want 200", code)
	}
	// Unsigned, or signed over another body: 401, and nothing wakes.
	failedEvent := event("connection_failed", failed, `"failed_at":"2026-01-05T09:00:00.000Z","failure_stage":"authorizing","failure_reason":"provider_rejected"`)
	if code := sendV3Webhook(t, "", failedEvent, false); code != http.StatusUnauthorized {
		t.Fatalf("unsigned webhook: HTTP %d, want 401", code)
	}
	if code := sendV3Webhook(t, event("connection_authorized", failed, `"authorized_at":"2026-01-05T09:00:00.000Z"`), failedEvent, true); code != http.StatusUnauthorized {
		t.Fatalf("webhook replayed with a modified body: HTTP %d, want 401", code)
	}
	assertNoCalls(t, dora, sandbox.CallFilter{Client: testClientID, Endpoint: "POST /v3/data-connections"})
	if code := post(event("connection_failed", failed, `"failed_at":"2026-01-05T09:00:00.000Z","failure_stage":"authorizing","failure_reason":"provider_rejected"`)); code != http.StatusOK {
		t.Fatalf("connection_failed: HTTP %d, want 200", code)
	}
	waitFor(t, dora, func(bc *bankingv1alpha1.BankConnection) error {
		if bc.Status.ProviderRefs.DataConnectionID == failed {
			return fmt.Errorf("still the failed data connection %s", failed)
		}
		return hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization)(bc)
	})
	testenv.Eventually(t, 30*time.Second, func() error {
		evs := &eventsv1.EventList{}
		if err := env.Client.List(context.Background(), evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Reason == "AuthorizationFailed" && e.Regarding.Name == "dora" && strings.Contains(e.Note, "provider_rejected") {
				return nil
			}
		}
		return fmt.Errorf("no AuthorizationFailed event naming the reason")
	})
}

// sendV3Webhook posts sent as a webhook to the gateway, signed over signed when sign
// is set (an attacker edits the body after signing when the two differ).
func sendV3Webhook(t *testing.T, signed, sent string, sign bool) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, gatewayURL+gateway.V3WebhookPath, strings.NewReader(sent))
	if err != nil {
		t.Fatal(err)
	}
	if sign {
		if err := sb.SignWebhook(req, []byte(signed), sbURL+sandbox.WebhookJWKSPath); err != nil {
			t.Fatal(err)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// v3WebhookEvent is a documented webhook body of type typ about the data connection
// connID of BankConnection ns/name; extra holds the type's own fields.
func v3WebhookEvent(ns, name, typ, connID, extra string) string {
	return fmt.Sprintf(`{"type":%q,"event_version":1,"event_id":"%s","connection_id":%q,"metadata":{"namespace":%q,"name":%q},%s}`,
		typ, "ev-"+connID[:8], connID, ns, name, extra)
}
