package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/repo"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/testenv"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// TestBankConnectionLifecycle tells the main user story: a connection waits for the
// user, becomes Ready once they consent at the mock bank, keeps its token fresh for a
// day, warns before the 90-day consent ends, is extended where allowed, stalls when a
// consent ends unextended, and revokes at the provider when deleted.
func TestBankConnectionLifecycle(t *testing.T) {
	s := newLifecycleStory(t)
	chapter(t, "1 pending", s.pending)
	chapter(t, "2 consent", s.consent)
	chapter(t, "3 steady state is quiet", func(t *testing.T) { assertQuiet(t, s.alice) })
	chapter(t, "4 a day of refreshes", s.dayOfRefreshes)
	chapter(t, "5 day 83 warns", s.expiring)
	chapter(t, "6 extended", s.extended)
	chapter(t, "7 past day 90", s.expired)
	chapter(t, "8 delete", s.deleted)
}

// lifecycleStory holds the fixtures of TestBankConnectionLifecycle: alice (who
// consents as john/eternal and wants a 7-day warning) and bob (john/doe).
type lifecycleStory struct {
	start      time.Time // the shared clock may have moved in earlier tests
	ns         string
	alice, bob *bankingv1alpha1.BankConnection
	wantExpiry time.Time // the first consent's end, 90 days after start
}

func newLifecycleStory(t *testing.T) *lifecycleStory {
	s := &lifecycleStory{start: clk.Now(), ns: newNamespace(t, "lifecycle")}
	s.alice = newConnection(s.ns, "alice")
	s.alice.Spec.Reconsent = &bankingv1alpha1.ReconsentSpec{NotifyBefore: &metav1.Duration{Duration: 7 * 24 * time.Hour}}
	s.bob = newConnection(s.ns, "bob")
	create(t, s.alice)
	create(t, s.bob)
	return s
}

func (s *lifecycleStory) both() []*bankingv1alpha1.BankConnection {
	return []*bankingv1alpha1.BankConnection{s.alice, s.bob}
}

// pending: a stable connect link, Ready=Unknown, kstatus InProgress.
func (s *lifecycleStory) pending(t *testing.T) {
	for _, bc := range s.both() {
		waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
		if !isConnectLink(bc) || bc.Status.AuthorizationURL == "" {
			t.Fatalf("%s: links not published: connect=%q auth=%q", bc.Name, bc.Status.ConnectURL, bc.Status.AuthorizationURL)
		}
		if got := kstatusOf(t, bc); got != status.InProgressStatus {
			t.Fatalf("%s pending: kstatus %s, want InProgress", bc.Name, got)
		}
	}
}

// consent: the user consents through the gateway's connect link and the mock bank.
func (s *lifecycleStory) consent(t *testing.T) {
	alice := s.alice
	for _, bc := range s.both() {
		password := map[string]string{"alice": "eternal", "bob": "doe"}[bc.Name]
		page := consentJourney(t, bc, password)
		if page.Status != http.StatusSeeOther || page.URL.Host != gatewayHost() {
			t.Fatalf("%s: journey ended at %s with %d, want the gateway's 303 to the return URL", bc.Name, page.URL, page.Status)
		}
		waitFor(t, bc, isReady)
		if got := kstatusOf(t, bc); got != status.CurrentStatus {
			t.Fatalf("%s ready: kstatus %s, want Current", bc.Name, got)
		}
	}
	s.wantExpiry = s.start.Add(90 * 24 * time.Hour).Truncate(time.Second)
	if c := alice.Status.Consent; c == nil || c.ExpiresAt == nil || !c.ExpiresAt.Time.Equal(s.wantExpiry) || c.Status != bankingv1alpha1.ConsentActive {
		t.Fatalf("consent not read from /me: %+v", alice.Status.Consent)
	}
	secret := tokenSecretOf(t, alice)
	if secret.Type != bankingv1alpha1.SecretTypeToken || secret.Labels[bankingv1alpha1.LabelManagedBy] != bankingv1alpha1.ManagedByValue ||
		len(secret.OwnerReferences) != 1 || secret.OwnerReferences[0].UID != alice.UID {
		t.Fatalf("token Secret not typed, labelled and owned: %+v", secret.ObjectMeta)
	}
	assertTokenWorks(t, alice)
	assertKubectlWait(t, s.ns, "alice", "Ready")
}

// dayOfRefreshes: every 50 simulated minutes the token is due; each poke causes
// exactly one refresh, and the token Secret always holds a valid token.
func (s *lifecycleStory) dayOfRefreshes(t *testing.T) {
	alice, bob := s.alice, s.bob
	for step := 0; step < 29; step++ {
		before := tokenCalls()
		clk.Advance(50 * time.Minute)
		poke(t, alice)
		poke(t, bob)
		waitFor(t, alice, func(bc *bankingv1alpha1.BankConnection) error {
			if at := refreshedAt(t, bc); !at.Equal(clk.Now().Truncate(time.Second)) {
				return fmt.Errorf("not refreshed at %s yet (last %s)", clk.Now(), at)
			}
			return isReady(bc)
		})
		waitFor(t, bob, func(bc *bankingv1alpha1.BankConnection) error {
			if at := refreshedAt(t, bc); !at.Equal(clk.Now().Truncate(time.Second)) {
				return fmt.Errorf("not refreshed at %s yet (last %s)", clk.Now(), at)
			}
			return nil
		})
		if got := tokenCalls() - before; got != 2 {
			t.Fatalf("step %d: %d token calls for two connections, want 2 (no hot loop, no missed refresh)", step, got)
		}
	}
	assertTokenWorks(t, alice)
	for _, bc := range s.both() {
		if n := sb.ErrorTotal(sandbox.CallFilter{Connection: connectionID(t, bc), Error: "invalid_grant"}); n != 0 {
			t.Fatalf("the sandbox answered %s's refreshes with invalid_grant %d times: a refresh token was lost", bc.Name, n)
		}
	}
}

// expiring: day 83, inside the 7-day warning window, with a re-consent link. Move
// there in steps that keep the refresh tokens in use (they lapse after 30 idle days).
func (s *lifecycleStory) expiring(t *testing.T) {
	for _, d := range []time.Duration{20, 20, 20, 22} {
		clk.Advance(d * 24 * time.Hour)
		poke(t, s.alice)
		poke(t, s.bob)
		now := clk.Now().Truncate(time.Second)
		for _, bc := range s.both() {
			waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
				if refreshedAt(t, bc).Before(now) {
					return fmt.Errorf("not refreshed after the jump to %s", now)
				}
				return nil
			})
		}
	}
	if day := int(clk.Now().Sub(s.start).Hours() / 24); day != 83 {
		t.Fatalf("test setup: day %d, want 83", day)
	}
	for _, bc := range s.both() {
		waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentExpiringSoon))
		if bc.Status.ReconsentURL == "" {
			t.Fatalf("%s: no re-consent link while expiring", bc.Name)
		}
		if err := isReady(bc); err != nil {
			t.Fatalf("%s: an expiring consent must stay Ready: %v", bc.Name, err)
		}
	}
}

// extended: alice's consent is extended by the provider without the user (john/eternal).
func (s *lifecycleStory) extended(t *testing.T) {
	alice := s.alice
	extendCalls := callsTo("POST /connections/extend") + callsTo("POST /data/v1/connections/extend")
	create(t, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "alice-user"},
		StringData: map[string]string{"name": "Alice Example", "email": "alice@example.com"},
	})
	patch := client.MergeFrom(alice.DeepCopy())
	alice.Spec.Reconsent.AutoExtend = true
	alice.Spec.Reconsent.UserSecretRef = &bankingv1alpha1.SecretReference{Name: "alice-user"}
	if err := env.Client.Patch(context.Background(), alice, patch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, alice, hasCondition(bankingv1alpha1.ConditionConsentExpiring, metav1.ConditionFalse, bankingv1alpha1.ReasonConsentValid))
	if !alice.Status.Consent.ExpiresAt.Time.After(s.wantExpiry) {
		t.Fatalf("extension did not move the consent end: %s", alice.Status.Consent.ExpiresAt)
	}
	if got := callsTo("POST /connections/extend") + callsTo("POST /data/v1/connections/extend") - extendCalls; got != 1 {
		t.Fatalf("%d extend calls, want 1", got)
	}
	assertTokenWorks(t, alice)
}

// expired: past day 90 without an extension, bob stalls with ConsentExpired and makes
// no provider call; alice, extended, stays Ready.
func (s *lifecycleStory) expired(t *testing.T) {
	bob := s.bob
	clk.Advance(8 * 24 * time.Hour)
	callsBefore := sb.CallTotal(sandbox.CallFilter{Connection: connectionID(t, bob)})
	poke(t, bob)
	waitFor(t, bob, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentExpired))
	if err := hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonConsentExpired)(bob); err != nil {
		t.Fatal(err)
	}
	if got := kstatusOf(t, bob); got != status.FailedStatus {
		t.Fatalf("stalled: kstatus %s, want Failed", got)
	}
	if bob.Status.ReconsentURL == "" || bob.Status.Consent.Status != bankingv1alpha1.ConsentExpired {
		t.Fatalf("expired consent: reconsentURL=%q status=%s", bob.Status.ReconsentURL, bob.Status.Consent.Status)
	}
	poke(t, bob)
	waitFor(t, bob, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentExpired))
	if got := sb.CallTotal(sandbox.CallFilter{Connection: connectionID(t, bob)}) - callsBefore; got != 0 {
		t.Fatalf("an expired consent cost %d provider calls, want 0", got)
	}
	poke(t, s.alice)
	waitFor(t, s.alice, isReady)
	assertKubectlWait(t, s.ns, "bob", "Stalled")
}

// deleted: the consent is revoked at the provider and the token Secret goes.
func (s *lifecycleStory) deleted(t *testing.T) {
	aliceConn := connectionID(t, s.alice)
	deleteAndWait(t, s.alice)
	if info, _ := sb.Connection(aliceConn); info.Status != "Revoked" {
		t.Fatalf("sandbox connection %s is %q after delete, want Revoked", aliceConn, info.Status)
	}
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: s.ns, Name: "alice-token"}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("token Secret still present after delete: %v", err)
	}
}

func gatewayHost() string { return gatewayURL[len("http://"):] }

func tokenSecretOf(t *testing.T, bc *bankingv1alpha1.BankConnection) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: bc.Namespace, Name: tokensecret.Name(bc)}, s); err != nil {
		t.Fatalf("reading token Secret: %v", err)
	}
	return s
}

// assertTokenWorks reads /data/v1/me at the sandbox with the Secret's access token.
func assertTokenWorks(t *testing.T, bc *bankingv1alpha1.BankConnection) {
	t.Helper()
	s := tokenSecretOf(t, bc)
	req, _ := http.NewRequest(http.MethodGet, sbURL+"/data/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+string(s.Data[tokensecret.KeyAccessToken]))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the Secret's access token is refused by the provider: HTTP %d", resp.StatusCode)
	}
}

// connectionID finds the sandbox's connection behind bc's current refresh token.
func connectionID(t *testing.T, bc *bankingv1alpha1.BankConnection) string {
	t.Helper()
	s := tokenSecretOf(t, bc)
	info, ok := sb.ConnectionByRefreshToken(string(s.Data[tokensecret.KeyRefreshToken]))
	if !ok {
		t.Fatalf("the sandbox does not know %s's refresh token", bc.Name)
	}
	return info.ID
}

// assertQuiet pokes bc and checks, for a while, that the reconcile it causes makes no
// provider call and writes nothing.
func assertQuiet(t *testing.T, bc *bankingv1alpha1.BankConnection) {
	t.Helper()
	calls := sb.CallTotal(sandbox.CallFilter{})
	poke(t, bc) // bc now carries the resourceVersion of the poke itself
	rv := bc.ResourceVersion
	testenv.Consistently(t, 1500*time.Millisecond, func() error {
		var now bankingv1alpha1.BankConnection
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), &now); err != nil {
			return err
		}
		if now.ResourceVersion != rv {
			return fmt.Errorf("written with nothing due (resourceVersion %s -> %s):\nbefore %+v\nafter  %+v", rv, now.ResourceVersion, bc.Status, now.Status)
		}
		if got := sb.CallTotal(sandbox.CallFilter{}); got != calls {
			return fmt.Errorf("%d provider calls with nothing due", got-calls)
		}
		return nil
	})
}

// assertKubectlWait runs the real kubectl against the test apiserver.
func assertKubectlWait(t *testing.T, ns, name, condition string) {
	t.Helper()
	assets, err := repo.EnvtestAssets()
	if err != nil {
		t.Fatal(err)
	}
	kubectl := filepath.Join(assets, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl not built: run make envtest (%v)", err)
	}
	kubeconfig, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "-n", ns, "wait",
		"--for=condition="+condition, "bc/"+name, "--timeout=20s").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl wait --for=condition=%s bc/%s: %v\n%s", condition, name, err, out)
	}
}
