package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/testenv"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

var nsCounter atomic.Int32

// newNamespace creates a namespace with the TrueLayer client credentials Secret.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "truelayer-client"},
		StringData: map[string]string{"client_id": testClientID, "client_secret": testClientSecret},
	}
	if err := env.Client.Create(ctx, creds); err != nil {
		t.Fatalf("creating client Secret: %v", err)
	}
	return ns
}

// newConnection returns a V1 BankConnection with the usual scopes.
func newConnection(ns, name string) *bankingv1alpha1.BankConnection {
	bc := providerConnection(ns, name, bankingv1alpha1.ProviderTrueLayer, "truelayer-client")
	bc.Spec.Providers = []string{"uk-cs-mock"}
	bc.Spec.Scopes = []bankingv1alpha1.Scope{bankingv1alpha1.ScopeInfo, bankingv1alpha1.ScopeAccounts,
		bankingv1alpha1.ScopeBalance, bankingv1alpha1.ScopeTransactions, bankingv1alpha1.ScopeOfflineAccess}
	return bc
}

// providerConnection is what every test connection has: the provider and its client
// Secret, the user user-{name}, and the application's return URL.
func providerConnection(ns, name string, p bankingv1alpha1.Provider, clientSecret string) *bankingv1alpha1.BankConnection {
	return &bankingv1alpha1.BankConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: bankingv1alpha1.BankConnectionSpec{
			Provider:        p,
			ClientSecretRef: bankingv1alpha1.SecretReference{Name: clientSecret},
			UserRef:         "user-" + name,
			Redirect:        &bankingv1alpha1.RedirectSpec{ReturnURL: "http://localhost:3000/done"},
		},
	}
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// waitFor polls bc until check passes.
func waitFor(t *testing.T, bc *bankingv1alpha1.BankConnection, check func(*bankingv1alpha1.BankConnection) error) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), bc); err != nil {
			return err
		}
		if bc.Status.ObservedGeneration != bc.Generation {
			return fmt.Errorf("observedGeneration %d != generation %d", bc.Status.ObservedGeneration, bc.Generation)
		}
		return check(bc)
	})
}

// hasCondition checks a condition's status and reason.
func hasCondition(condType string, status metav1.ConditionStatus, reason string) func(*bankingv1alpha1.BankConnection) error {
	return func(bc *bankingv1alpha1.BankConnection) error {
		c := apimeta.FindStatusCondition(bc.Status.Conditions, condType)
		if c == nil {
			return fmt.Errorf("no %s condition", condType)
		}
		if c.Status != status || (reason != "" && c.Reason != reason) {
			return fmt.Errorf("%s = %s/%s (%s), want %s/%s", condType, c.Status, c.Reason, c.Message, status, reason)
		}
		return nil
	}
}

func isReady(bc *bankingv1alpha1.BankConnection) error {
	return hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionTrue, bankingv1alpha1.ReasonAuthorized)(bc)
}

var pokes atomic.Int64

// poke makes the controller look at bc now. Tests move the shared clock; the
// controller's requeue timers run on real time, so the test asks for the reconcile
// the timer would have caused.
func poke(t *testing.T, bc *bankingv1alpha1.BankConnection) {
	t.Helper()
	annotate(t, bc, map[string]string{"test.consent-operator.dev/poke": strconv.FormatInt(pokes.Add(1), 10)})
}

// consentJourney plays the user: opens status.connectURL and completes the mock
// bank's dialog over real HTTP through the gateway, as john with the given password
// (providers-api.md §5: "doe" is a normal user, "eternal" one whose consent the
// provider extends without the user).
func consentJourney(t *testing.T, bc *bankingv1alpha1.BankConnection, password string) testenv.Page {
	t.Helper()
	b := testenv.NewBrowser()
	b.Password = password
	b.Stop = func(u *url.URL) bool { return u.Host == "localhost:3000" }
	page, err := b.Visit(bc.Status.ConnectURL)
	if err != nil {
		t.Fatalf("consent journey: %v", err)
	}
	return page
}

// tokenCalls counts the operator's calls to the token endpoint at the sandbox.
func tokenCalls() int64 {
	return sb.CallTotal(sandbox.CallFilter{Client: testClientID, Endpoint: "POST /connect/token"})
}

// callsTo counts the operator's calls to one sandbox endpoint (any client).
func callsTo(endpoint string) int64 {
	return sb.CallTotal(sandbox.CallFilter{Endpoint: endpoint})
}

// isConnectLink is true when status.connectURL is the gateway's link for the current
// journey: /connect/{secret}, the secret being the journey's nonce, unguessable.
func isConnectLink(bc *bankingv1alpha1.BankConnection) bool {
	a := bc.Status.Authorization
	return a != nil && len(a.Nonce) >= 43 && bc.Status.ConnectURL == gatewayURL+"/connect/"+a.Nonce
}

// refreshedAt is when bc's tokens were last obtained, from its token Secret (status
// holds no per-refresh times); zero before the first.
func refreshedAt(t *testing.T, bc *bankingv1alpha1.BankConnection) time.Time {
	t.Helper()
	sec := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: bc.Namespace, Name: tokensecret.Name(bc)}, sec); err != nil {
		return time.Time{}
	}
	return tokensecret.RefreshedAt(sec)
}

// tokenExpiresAt is when bc's access token expires, from its token Secret.
func tokenExpiresAt(t *testing.T, bc *bankingv1alpha1.BankConnection) time.Time {
	t.Helper()
	sec := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: bc.Namespace, Name: tokensecret.Name(bc)}, sec); err != nil {
		return time.Time{}
	}
	exp, _ := time.Parse(time.RFC3339, string(sec.Data[tokensecret.KeyExpiresAt]))
	return exp
}

// consented creates bc and consents at the sandbox's bank.
func consented(t *testing.T, bc *bankingv1alpha1.BankConnection) {
	t.Helper()
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	if page := consentJourney(t, bc, "doe"); page.Status != http.StatusSeeOther {
		t.Fatalf("consent journey of %s ended with HTTP %d", bc.Name, page.Status)
	}
	waitFor(t, bc, isReady)
}

// chapter runs one chapter of a story test as a subtest, and ends the story when it
// fails: each chapter starts from the fixtures the earlier ones left.
func chapter(t *testing.T, name string, run func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, run) {
		t.FailNow()
	}
}
