package controllers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// readyConnection creates a connection and completes its consent through the gateway.
func readyConnection(t *testing.T, ns, name string) *bankingv1alpha1.BankConnection {
	t.Helper()
	return connect(t, newConnection(ns, name))
}

// connect creates bc and completes its consent through the gateway.
func connect(t *testing.T, bc *bankingv1alpha1.BankConnection) *bankingv1alpha1.BankConnection {
	t.Helper()
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	if page := consentJourney(t, bc, "doe"); page.Status != http.StatusSeeOther {
		t.Fatalf("consent journey ended with HTTP %d at %s", page.Status, page.URL.Redacted())
	}
	waitFor(t, bc, isReady)
	return bc
}

var refreshRequests int

// failTokenCalls makes the sandbox answer the operator's next count token calls with
// the OAuth error code, until the test ends.
func failTokenCalls(t *testing.T, code string, count int) {
	t.Helper()
	t.Cleanup(sb.ClearFaults)
	if _, err := sb.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: code, Endpoint: "POST /connect/token", Client: testClientID, Count: count}); err != nil {
		t.Fatal(err)
	}
}

// forceRefresh sets the refresh-requested-at annotation to a new value.
func forceRefresh(t *testing.T, bc *bankingv1alpha1.BankConnection) string {
	t.Helper()
	refreshRequests++
	v := "req-" + strconv.Itoa(refreshRequests)
	annotate(t, bc, map[string]string{bankingv1alpha1.AnnotationRefreshRequestedAt: v})
	return v
}

// refreshHandled: the refresh request v was handled, and the connection is Ready.
func refreshHandled(v string) func(*bankingv1alpha1.BankConnection) error {
	return func(bc *bankingv1alpha1.BankConnection) error {
		if bc.Status.LastHandledRefreshAt != v {
			return errString("refresh request not acknowledged")
		}
		return isReady(bc)
	}
}

func TestForcedRefreshIsAcknowledged(t *testing.T) {
	ns := newNamespace(t, "force")
	bc := readyConnection(t, ns, "erin")
	before := tokenCalls()
	v := forceRefresh(t, bc)
	waitFor(t, bc, refreshHandled(v))
	if got := tokenCalls() - before; got != 1 {
		t.Fatalf("forced refresh made %d token calls, want 1", got)
	}
	assertQuiet(t, bc)
}

func TestMissingCredentialsStall(t *testing.T) {
	ns := newNamespace(t, "nocreds")
	bc := newConnection(ns, "frank")
	bc.Spec.ClientSecretRef.Name = "does-not-exist"
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonInvalidClientCredentials))
	if got := kstatusOf(t, bc); got != status.FailedStatus {
		t.Fatalf("kstatus %s, want Failed", got)
	}
	// Creating the Secret and touching the object recovers it.
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "does-not-exist"},
		StringData: map[string]string{"client_id": testClientID, "client_secret": testClientSecret},
	})
	poke(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
}

func TestRejectedClientCredentialsStall(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "badcreds")
	bc := readyConnection(t, ns, "grace")
	creds := &corev1.Secret{}
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "truelayer-client"}, creds); err != nil {
		t.Fatal(err)
	}
	creds.Data["client_secret"] = []byte("wrong-secret")
	if err := env.Client.Update(ctx, creds); err != nil {
		t.Fatal(err)
	}
	forceRefresh(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonInvalidClientCredentials))
	if err := hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonInvalidClientCredentials)(bc); err != nil {
		t.Fatal(err)
	}
	assertQuiet(t, bc) // stalled: no retries until a human acts
}

// TestProviderOutageBacksOff checks a provider outage is not Stalled: Ready keeps its
// status while the current token works, the message says why, and the operator makes
// exactly one call per backoff step until the provider is back.
func TestProviderOutageBacksOff(t *testing.T) {
	ns := newNamespace(t, "outage")
	bc := readyConnection(t, ns, "heidi")
	failTokenCalls(t, "provider_error", 3)
	before := tokenCalls()
	forceRefresh(t, bc)
	for attempt := int32(1); attempt <= 3; attempt++ {
		waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
			if bc.Status.Token == nil || bc.Status.Token.FailedAttempts != attempt {
				return errString("attempt not recorded yet")
			}
			return hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionTrue, bankingv1alpha1.ReasonProviderUnavailable)(bc)
		})
		if err := hasCondition(bankingv1alpha1.ConditionReconciling, metav1.ConditionTrue, bankingv1alpha1.ReasonProviderUnavailable)(bc); err != nil {
			t.Fatal(err)
		}
		if got := tokenCalls() - before; got != int64(attempt) {
			t.Fatalf("after %d failures: %d token calls", attempt, got)
		}
		assertQuiet(t, bc) // inside the backoff window: no call
		clk.Advance(consent.Backoff(string(bc.UID), attempt) + time.Second)
		poke(t, bc)
	}
	waitFor(t, bc, isReady)
	if got := tokenCalls() - before; got != 4 {
		t.Fatalf("outage of 3 failures cost %d token calls, want 4", got)
	}
	if bc.Status.Token.FailedAttempts != 0 {
		t.Fatalf("failures not reset after recovery")
	}
	if _, err := kstatusComputed(t, bc); err != nil {
		t.Fatal(err)
	}
}

func TestRateLimitedBacksOff(t *testing.T) {
	ns := newNamespace(t, "ratelimit")
	bc := readyConnection(t, ns, "ivan")
	failTokenCalls(t, "provider_too_many_requests", 1)
	forceRefresh(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionTrue, bankingv1alpha1.ReasonRateLimited))
	clk.Advance(consent.BackoffCap)
	poke(t, bc)
	waitFor(t, bc, isReady)
}

func TestRevokedConsentStalls(t *testing.T) {
	ns := newNamespace(t, "revoked")
	bc := readyConnection(t, ns, "judy")
	if err := sb.RevokeConnection(connectionID(t, bc)); err != nil {
		t.Fatal(err)
	}
	forceRefresh(t, bc)
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if bc.Status.ReconsentURL == "" {
			return errString("no re-consent link yet")
		}
		return hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, "")(bc)
	})
	stalled := conditionReason(bc, bankingv1alpha1.ConditionStalled)
	if stalled != bankingv1alpha1.ReasonConsentRevoked && stalled != bankingv1alpha1.ReasonReauthorizationRequired {
		t.Fatalf("revoked consent stalled with %s", stalled)
	}
	if bc.Status.ReconsentURL == "" {
		t.Fatal("no re-consent link for a revoked consent")
	}
	assertQuiet(t, bc)
}

// TestInterruptedRefreshIsDetected simulates a manager killed between the provider's
// answer to a refresh and storing the new tokens: the stored refresh token has been
// rotated away. The operator must say so, not fail silently.
func TestInterruptedRefreshIsDetected(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "interrupted")

	// Marker left behind, but the provider never saw the request: the refresh is
	// simply done again and the marker cleared.
	kate := readyConnection(t, ns, "kate")
	markInFlight(t, kate)
	poke(t, kate)
	waitFor(t, kate, func(bc *bankingv1alpha1.BankConnection) error {
		if tokensecret.RefreshInFlight(tokenSecretOf(t, bc)) {
			return errString("marker still set")
		}
		return isReady(bc)
	})

	// Marker left behind and the provider rotated the token: the refresh token is lost.
	leo := readyConnection(t, ns, "leo")
	s := tokenSecretOf(t, leo)
	rotateBehindTheOperatorsBack(t, string(s.Data[tokensecret.KeyRefreshToken]))
	markInFlight(t, leo)
	poke(t, leo)
	waitFor(t, leo, func(bc *bankingv1alpha1.BankConnection) error {
		if bc.Status.ReconsentURL == "" {
			return errString("no re-consent link after a lost refresh token")
		}
		return hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonRefreshInterrupted)(bc)
	})
	// A refresh request retries the lost token; the answer is the same and so is the
	// cause the user is told: the token was lost to the interruption.
	v := forceRefresh(t, leo)
	waitFor(t, leo, func(bc *bankingv1alpha1.BankConnection) error {
		if bc.Status.LastHandledRefreshAt != v {
			return errString("refresh request not handled yet")
		}
		return hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonRefreshInterrupted)(bc)
	})
	_ = ctx
}

func markInFlight(t *testing.T, bc *bankingv1alpha1.BankConnection) {
	t.Helper()
	s := tokenSecretOf(t, bc)
	tokensecret.MarkRefreshInFlight(s, clk.Now())
	if err := env.Client.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// rotateBehindTheOperatorsBack uses the refresh token as the lost refresh would have.
func rotateBehindTheOperatorsBack(t *testing.T, refreshToken string) {
	t.Helper()
	resp, err := http.PostForm(sbURL+"/connect/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refreshToken},
		"client_id": {testClientID}, "client_secret": {testClientSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rotating the refresh token: HTTP %d", resp.StatusCode)
	}
}

func conditionReason(bc *bankingv1alpha1.BankConnection, condType string) string {
	for _, c := range bc.Status.Conditions {
		if c.Type == condType {
			return c.Reason
		}
	}
	return ""
}

// kstatusComputed checks kstatus can read the object (and says Current when Ready).
func kstatusComputed(t *testing.T, bc *bankingv1alpha1.BankConnection) (status.Status, error) {
	t.Helper()
	got := kstatusOf(t, bc)
	if got != status.CurrentStatus {
		return got, errString("kstatus " + string(got) + ", want Current")
	}
	return got, nil
}
