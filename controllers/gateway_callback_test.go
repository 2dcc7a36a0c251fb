package controllers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// noRedirects is an HTTP client that shows the gateway's own answers.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func callback(t *testing.T, query url.Values) *http.Response {
	t.Helper()
	resp, err := noRedirects.Get(gatewayURL + "/callback?" + query.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// stateOf extracts the signed state from the connection's authorization link.
func stateOf(t *testing.T, bc *bankingv1alpha1.BankConnection) string {
	t.Helper()
	u, err := url.Parse(bc.Status.AuthorizationURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

// stateKey reads the operator's signing key, to build validly signed states for
// connections that do not exist.
func stateKey(t *testing.T) gateway.StateKey {
	t.Helper()
	s := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: "default", Name: "consent-operator-state-key"}, s); err != nil {
		t.Fatal(err)
	}
	return gateway.StateKey(s.Data["state-key"])
}

// codeFor asks the sandbox for a real authorization code for bc's link.
func codeFor(t *testing.T, bc *bankingv1alpha1.BankConnection) string {
	t.Helper()
	code, err := sb.Authorize(sandbox.AuthorizeRequest{
		ClientID: testClientID, RedirectURI: gatewayURL + "/callback",
		Scopes: []string{"info", "accounts", "balance", "transactions", "offline_access"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestCallbackRefusesBadStates checks that forged, expired, replayed and unknown
// states, and a cancelled journey, get their own page and status and change nothing.
func TestCallbackRefusesBadStates(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "callback")
	bc := newConnection(ns, "carol")
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	state := stateOf(t, bc)
	exchanges := tokenCalls()

	unchanged := func(t *testing.T) {
		t.Helper()
		var now bankingv1alpha1.BankConnection
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(bc), &now); err != nil {
			t.Fatal(err)
		}
		if now.Status.Authorization == nil || now.Status.Authorization.Nonce != bc.Status.Authorization.Nonce {
			t.Errorf("the authorization attempt changed")
		}
		err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "carol-token"}, &corev1.Secret{})
		if err == nil {
			t.Errorf("a token Secret was written")
		}
		if got := tokenCalls(); got != exchanges {
			t.Errorf("%d code exchanges were attempted", got-exchanges)
		}
	}

	forged := []byte(state)
	forged[len(forged)-2] ^= 1
	key := stateKey(t)
	ghost, err := key.Sign(gateway.State{Namespace: ns, Name: "nobody", UID: "uid", UserRef: "u", Nonce: "n", Expiry: clk.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	otherNonce, err := key.Sign(gateway.State{Namespace: ns, Name: bc.Name, UID: string(bc.UID), UserRef: bc.Spec.UserRef, Nonce: "stale", Expiry: clk.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	expired, err := key.Sign(gateway.State{Namespace: ns, Name: bc.Name, UID: string(bc.UID), UserRef: bc.Spec.UserRef,
		Nonce: bc.Status.Authorization.Nonce, Expiry: clk.Now().Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		query url.Values
		want  int
	}{
		{"no state", url.Values{"code": {"x"}}, http.StatusBadRequest},
		{"forged signature", url.Values{"code": {"x"}, "state": {string(forged)}}, http.StatusBadRequest},
		{"garbage", url.Values{"code": {"x"}, "state": {"not-a-state"}}, http.StatusBadRequest},
		{"oversized", url.Values{"code": {"x"}, "state": {strings.Repeat("a", 5000)}}, http.StatusBadRequest},
		{"expired", url.Values{"code": {"x"}, "state": {expired}}, http.StatusGone},
		{"unknown connection", url.Values{"code": {"x"}, "state": {ghost}}, http.StatusNotFound},
		{"superseded nonce", url.Values{"code": {"x"}, "state": {otherNonce}}, http.StatusConflict},
		{"user cancelled", url.Values{"error": {"access_denied"}, "state": {state}}, http.StatusForbidden},
		{"no code", url.Values{"state": {state}}, http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if resp := callback(t, tc.query); resp.StatusCode != tc.want {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tc.want)
			}
			unchanged(t)
		})
	}

	// A real code completes the journey once; replaying the same callback is refused.
	good := url.Values{"code": {codeFor(t, bc)}, "state": {state}}
	if resp := callback(t, good); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "http://localhost:3000/done" {
		t.Fatalf("valid callback: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	waitFor(t, bc, isReady)
	before := tokenCalls()
	good.Set("code", codeFor(t, bc))
	if resp := callback(t, good); resp.StatusCode != http.StatusConflict {
		t.Fatalf("replayed state: HTTP %d, want 409", resp.StatusCode)
	}
	if tokenCalls() != before {
		t.Fatalf("a replayed state caused a code exchange")
	}

	// A form_post callback (response_mode=form_post) is read like a query.
	resp, err := noRedirects.PostForm(gatewayURL+"/callback", url.Values{"state": {"forged.state"}, "code": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("form_post with a forged state: HTTP %d, want 400", resp.StatusCode)
	}
}

// TestConnectLink checks the stable link redirects to the current authorization link.
func TestConnectLink(t *testing.T) {
	ns := newNamespace(t, "connect")
	bc := newConnection(ns, "dave")
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	resp, err := noRedirects.Get(bc.Status.ConnectURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != bc.Status.AuthorizationURL {
		t.Fatalf("connect link: HTTP %d to %q, want 302 to the authorization link", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = noRedirects.Get(gatewayURL + "/connect/" + ns + "/nobody")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown connection: HTTP %d, want 404", resp.StatusCode)
	}

	// The link behind it is renewed when it expires; the connect URL stays the same.
	nonce := bc.Status.Authorization.Nonce
	clk.Advance(25 * time.Hour)
	poke(t, bc)
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), bc); err != nil {
			return err
		}
		if bc.Status.Authorization == nil || bc.Status.Authorization.Nonce == nonce {
			return errString("authorization link not renewed")
		}
		return nil
	})
}

type errString string

func (e errString) Error() string { return string(e) }
