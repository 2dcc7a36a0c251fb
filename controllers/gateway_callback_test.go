package controllers_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/testenv"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// noRedirects is an HTTP client that shows the gateway's own answers.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get fetches u without following redirects and returns the status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// pendingConnection creates a V1 connection and waits for its journey.
func pendingConnection(t *testing.T, prefix, name string) *bankingv1alpha1.BankConnection {
	t.Helper()
	bc := newConnection(newNamespace(t, prefix), name)
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	if !isConnectLink(bc) {
		t.Fatalf("connect link not published: %q", bc.Status.ConnectURL)
	}
	return bc
}

// toProvider opens the connect link in b and returns the provider's link it was sent
// to (with the gateway's state), without going on to the bank.
func toProvider(t *testing.T, b *testenv.Browser, link string) *url.URL {
	t.Helper()
	var at *url.URL
	b.Stop = func(u *url.URL) bool {
		if u.Host != gatewayHost() && at == nil {
			at = u
			return true
		}
		return u.Host == "localhost:3000"
	}
	resp, err := b.Get(link, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if at == nil {
		t.Fatalf("the connect link answered %d, not a redirect to the provider", resp.StatusCode)
	}
	return at
}

// atBank completes the bank's pages in b from the provider link and returns the page
// the journey ended on (the return URL redirect is not followed).
func atBank(t *testing.T, b *testenv.Browser, providerLink *url.URL) testenv.Page {
	t.Helper()
	b.Stop = func(u *url.URL) bool { return u.Host == "localhost:3000" }
	page, err := b.Visit(providerLink.String())
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// journeyUnchanged asserts a refused attempt changed nothing: no handoff, no token
// Secret, no code exchange, the same journey.
func journeyUnchanged(t *testing.T, bc *bankingv1alpha1.BankConnection, exchanges int64) {
	t.Helper()
	var now bankingv1alpha1.BankConnection
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), &now); err != nil {
		t.Fatal(err)
	}
	if now.Status.Handoff != nil || now.Status.Authorization == nil || now.Status.Authorization.Nonce != bc.Status.Authorization.Nonce {
		t.Fatalf("the journey changed: handoff %+v, authorization %+v", now.Status.Handoff, now.Status.Authorization)
	}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: bc.Namespace, Name: bc.Name + "-token"}, &corev1.Secret{}); err == nil {
		t.Fatal("a token Secret was written")
	}
	if got := tokenCalls(); got != exchanges {
		t.Fatalf("%d code exchanges were attempted", got-exchanges)
	}
}

func randomSecret(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestConnectLinkIsACapability: names alone start nothing, and every link that is not
// currently valid gets the same page, whether the connection exists or not.
func TestConnectLinkIsACapability(t *testing.T) {
	bc := pendingConnection(t, "capability", "dave")
	wantStatus, wantBody := get(t, gatewayURL+"/connect/"+randomSecret(t))
	if wantStatus != http.StatusNotFound || !strings.Contains(wantBody, "Link not valid") {
		t.Fatalf("unknown link: HTTP %d %q", wantStatus, wantBody)
	}
	for name, u := range map[string]string{
		"namespace and name":      fmt.Sprintf("%s/connect/%s/%s", gatewayURL, bc.Namespace, bc.Name),
		"name as the secret":      gatewayURL + "/connect/" + bc.Name,
		"a truncated real secret": bc.Status.ConnectURL[:len(bc.Status.ConnectURL)-1],
	} {
		if code, body := get(t, u); code != wantStatus || body != wantBody {
			t.Errorf("%s: HTTP %d, want the neutral %d page", name, code, wantStatus)
		}
	}

	// The real link sets the browser cookie and sends it on with an opaque state and PKCE.
	b := testenv.NewBrowser()
	provider := toProvider(t, b, bc.Status.ConnectURL)
	q := provider.Query()
	state := q.Get("state")
	if state == "" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
		t.Fatalf("provider link lacks state or PKCE: %s", provider.Redacted())
	}
	for _, leak := range []string{bc.Namespace, bc.Name, bc.Spec.UserRef, string(bc.UID), bc.Status.Authorization.Nonce} {
		if strings.Contains(state, leak) {
			t.Errorf("the state shows %q", leak)
		}
	}
	if len(b.Cookies(testenv.MustParseURL(t, gatewayURL))) != 1 {
		t.Fatalf("the browser holds %d gateway cookies, want 1", len(b.Cookies(testenv.MustParseURL(t, gatewayURL))))
	}

	// The provider link published in status, used without the gateway, completes nothing.
	exchanges := tokenCalls()
	page := atBank(t, testenv.NewBrowser(), testenv.MustParseURL(t, bc.Status.AuthorizationURL))
	if page.Status != http.StatusBadRequest {
		t.Fatalf("a journey that skipped the connect link ended with HTTP %d, want 400", page.Status)
	}
	journeyUnchanged(t, bc, exchanges)
}

// TestVictimLinkCompletedInAnotherBrowser: an attacker who gets hold of the provider
// link the victim's browser was sent to (the state with it) and completes it in their
// own browser, or sends a bogus code with it, changes nothing; the victim then connects.
func TestVictimLinkCompletedInAnotherBrowser(t *testing.T) {
	bc := pendingConnection(t, "stolen", "erin")
	victim := testenv.NewBrowser()
	provider := toProvider(t, victim, bc.Status.ConnectURL)
	exchanges := tokenCalls()

	attacker := testenv.NewBrowser()
	page := atBank(t, attacker, provider)
	if page.Status != http.StatusForbidden || !strings.Contains(page.Body, "start again") {
		t.Fatalf("attacker's callback: HTTP %d %.200s, want 403 asking to start again", page.Status, page.Body)
	}
	journeyUnchanged(t, bc, exchanges)

	// A bogus code with the victim's state, as a query callback and as a form_post.
	state := provider.Query().Get("state")
	for _, send := range []func() (*http.Response, error){
		func() (*http.Response, error) {
			return noRedirects.Get(gatewayURL + "/callback?" + url.Values{"code": {"bogus"}, "state": {state}}.Encode())
		},
		func() (*http.Response, error) {
			return noRedirects.PostForm(gatewayURL+"/callback", url.Values{"code": {"bogus"}, "state": {state}, "gateway_repost": {"1"}})
		},
	} {
		resp, err := send()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("bogus code without the victim's cookie: HTTP %d, want 403", resp.StatusCode)
		}
	}
	journeyUnchanged(t, bc, exchanges)

	// The victim, in the browser that opened the link, still connects.
	page = atBank(t, victim, provider)
	if page.Status != http.StatusSeeOther || !strings.HasPrefix(page.URL.Path, "/outcome/") {
		t.Fatalf("victim's journey ended at %s with %d, want the outcome page's 303", page.URL.Redacted(), page.Status)
	}
	waitFor(t, bc, isReady)
	if tokenCalls() != exchanges+1 {
		t.Fatalf("%d code exchanges, want 1", tokenCalls()-exchanges)
	}
}

// TestReplayAndReload: after a journey completed, the same browser reloading the
// outcome page or re-sending the callback sees the outcome; other replays get the
// neutral page or a refusal; none of them writes or calls anything.
func TestReplayAndReload(t *testing.T) {
	bc := pendingConnection(t, "replay", "frank")
	link := bc.Status.ConnectURL
	b := testenv.NewBrowser()
	provider := toProvider(t, b, link)
	page := atBank(t, b, provider)
	if page.Status != http.StatusSeeOther {
		t.Fatalf("journey ended with HTTP %d at %s: %.400s", page.Status, page.URL.Redacted(), page.Body)
	}
	waitFor(t, bc, isReady)
	outcome := page.URL.String()
	if strings.Contains(outcome, "code=") || strings.Contains(outcome, "state=") {
		t.Fatalf("the outcome URL carries code or state: %s", outcome)
	}
	exchanges := tokenCalls()
	rv := bc.ResourceVersion

	// Reload of the outcome page: back to the application, connected.
	resp, err := b.Get(outcome, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "http://localhost:3000/done?connection=frank&result=connected" {
		t.Fatalf("reloaded outcome: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The link is spent: the neutral page, as for any unknown link.
	if code, body := get(t, link); code != http.StatusNotFound || !strings.Contains(body, "Link not valid") {
		t.Fatalf("used link: HTTP %d", code)
	}
	// Replays of the callback from another client: refused, rate limited past the
	// bucket, never a write or an exchange.
	assertReplaysRefused(t, provider.Query().Get("state"))
	if tokenCalls() != exchanges {
		t.Fatalf("replays caused %d code exchanges", tokenCalls()-exchanges)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), bc); err != nil || bc.ResourceVersion != rv {
		t.Fatalf("replays wrote the BankConnection (resourceVersion %s -> %s, %v)", rv, bc.ResourceVersion, err)
	}
	if n := countEvents(t, bc, bankingv1alpha1.ReasonAuthorized, 1); n != 1 {
		t.Fatalf("%d Authorized events, want 1", n)
	}
}

// assertReplaysRefused re-sends the callback of the journey state 200 times from
// another client: each is refused, with the security headers, and the bucket runs out.
func assertReplaysRefused(t *testing.T, state string) {
	t.Helper()
	var limited bool
	for i := 0; i < 200; i++ {
		resp, err := noRedirects.Get(gatewayURL + "/callback?" + url.Values{"code": {"replayed"}, "state": {state}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusForbidden:
		case http.StatusTooManyRequests:
			limited = true
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("replay %d: HTTP %d", i, resp.StatusCode)
		}
		for _, h := range []string{"X-Frame-Options", "Cache-Control", "Referrer-Policy"} {
			if resp.Header.Get(h) == "" {
				t.Fatalf("replay answer without %s", h)
			}
		}
	}
	if !limited {
		t.Fatal("200 replays were never rate limited")
	}
}

// TestDeclinedJourney: the user cancels at the bank; the application learns it, the
// link still works, nothing was written.
func TestDeclinedJourney(t *testing.T) {
	bc := pendingConnection(t, "declined", "gina")
	exchanges := tokenCalls()
	b := testenv.NewBrowser()
	b.Choice = "cancel"
	provider := toProvider(t, b, bc.Status.ConnectURL)
	page := atBank(t, b, provider)
	if page.Status != http.StatusSeeOther {
		t.Fatalf("declined journey ended with HTTP %d", page.Status)
	}
	journeyUnchanged(t, bc, exchanges)
	if code, _ := get(t, bc.Status.ConnectURL); code != http.StatusFound {
		t.Fatalf("after a decline the link answers %d, want it still usable", code)
	}
}

// TestReconsentAtAnotherBank: a re-consent that comes back from a different bank is
// revoked at the provider, the connection keeps its tokens, and the user is told; at
// the same bank it goes through.
func TestReconsentAtAnotherBank(t *testing.T) {
	ns := newNamespace(t, "otherbank")
	bc := newConnection(ns, "hana")
	bc.Spec.Providers = []string{"uk-cs-mock", "uk-ob-all"}
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	b := testenv.NewBrowser()
	b.Bank = "mock"
	atBank(t, b, toProvider(t, b, bc.Status.ConnectURL))
	waitFor(t, bc, isReady)
	if bc.Status.Consent == nil || bc.Status.Consent.ProviderID != "mock" {
		t.Fatalf("consent %+v, want bank mock", bc.Status.Consent)
	}

	// The bank revokes the consent: the operator asks the user to consent again. The
	// user consents at another bank, then at the same bank.
	secret := revokedByTheBank(t, bc)
	reconsentAtAnotherBank(t, bc, secret)

	// At the same bank, it goes through.
	same := testenv.NewBrowser()
	same.Bank = "mock"
	if page := atBank(t, same, toProvider(t, same, bc.Status.ReconsentURL)); page.Status != http.StatusSeeOther {
		t.Fatalf("re-consent at the same bank ended with HTTP %d at %s: %.400s", page.Status, page.URL.Redacted(), page.Body)
	}
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if j := bc.Status.LastJourney; j == nil || j.Result != bankingv1alpha1.JourneyConnected {
			return fmt.Errorf("last journey %+v", bc.Status.LastJourney)
		}
		return isReady(bc)
	})
}

// revokedByTheBank revokes bc's consent at the sandbox and waits for the re-consent
// link; it returns the token Secret as it was before.
func revokedByTheBank(t *testing.T, bc *bankingv1alpha1.BankConnection) *corev1.Secret {
	t.Helper()
	secret := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: bc.Namespace, Name: tokensecret.Name(bc)}, secret); err != nil {
		t.Fatal(err)
	}
	conn, ok := sb.ConnectionByRefreshToken(string(secret.Data["refresh_token"]))
	if !ok {
		t.Fatal("the sandbox does not know the stored refresh token")
	}
	if err := sb.RevokeConnection(conn.ID); err != nil {
		t.Fatal(err)
	}
	forceRefresh(t, bc)
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if bc.Status.ReconsentURL == "" || !isConnectLink(bc) {
			return fmt.Errorf("no re-consent link yet (conditions %+v)", bc.Status.Conditions)
		}
		return nil
	})
	return secret
}

// reconsentAtAnotherBank follows bc's re-consent link, edited to another bank: the
// consent is revoked at the provider, the old tokens (secret) kept, the user told.
func reconsentAtAnotherBank(t *testing.T, bc *bankingv1alpha1.BankConnection, secret *corev1.Secret) {
	t.Helper()
	// The re-consent preselects the connection's bank...
	other := testenv.NewBrowser()
	link := toProvider(t, other, bc.Status.ReconsentURL)
	if got := link.Query().Get("provider_id"); got != "mock" {
		t.Fatalf("the re-consent link preselects %q, want the connection's bank mock", got)
	}
	// ...but the user edits the link in the address bar and consents at another bank:
	// revoked at the provider, old tokens kept, the user told.
	q := link.Query()
	q.Set("provider_id", "ob-mock")
	link.RawQuery = q.Encode()
	revokes := callsTo("DELETE /api/delete")
	page := atBank(t, other, link)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "different bank") {
		t.Fatalf("re-consent at another bank ended with HTTP %d at %s: %.600s", page.Status, page.URL.Redacted(), page.Body)
	}
	if got := callsTo("DELETE /api/delete") - revokes; got != 1 {
		t.Fatalf("%d revocations of the other bank's consent, want 1", got)
	}
	after := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(secret), after); err != nil {
		t.Fatal(err)
	}
	if string(after.Data["access_token"]) != string(secret.Data["access_token"]) {
		t.Fatal("the other bank's tokens replaced the connection's")
	}
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if j := bc.Status.LastJourney; j == nil || j.Result != bankingv1alpha1.JourneyDifferentBank {
			return fmt.Errorf("last journey %+v", bc.Status.LastJourney)
		}
		if bc.Status.Consent == nil || bc.Status.Consent.ProviderID != "mock" || !isConnectLink(bc) {
			return fmt.Errorf("consent %+v or link %q changed", bc.Status.Consent, bc.Status.ConnectURL)
		}
		return nil
	})
	if n := countEvents(t, bc, bankingv1alpha1.ReasonDifferentBank, 1); n != 1 {
		t.Fatalf("%d DifferentBank events, want 1", n)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// countEvents counts the events of reason about bc (a series counts each occurrence),
// waiting until at least want have been recorded (events are written asynchronously).
func countEvents(t *testing.T, bc *bankingv1alpha1.BankConnection, reason string, want int) int {
	t.Helper()
	n := 0
	testenv.Eventually(t, 10*time.Second, func() error {
		list := &eventsv1.EventList{}
		if err := env.Client.List(context.Background(), list, client.InNamespace(bc.Namespace)); err != nil {
			return err
		}
		n = 0
		for _, e := range list.Items {
			if e.Regarding.Name != bc.Name || e.Reason != reason {
				continue
			}
			if e.Series != nil {
				n += int(e.Series.Count)
			} else {
				n++
			}
		}
		if n < want {
			return fmt.Errorf("%d %s events, want %d", n, reason, want)
		}
		return nil
	})
	return n
}
