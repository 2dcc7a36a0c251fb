package controllers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// TestReconsentThroughReauthentication: a user whose consent ended re-consents through
// TrueLayer's re-authentication journey (POST /v1/reauthuri: straight to the same bank,
// no bank selection). The link is made when the user's browser opens the connect link,
// with a state sealed for that browser: the provider's link completed in another
// browser changes nothing, and the user, opening the connect link again, connects.
func TestReconsentThroughReauthentication(t *testing.T) {
	ns := newNamespace(t, "reauth")
	bc := readyConnection(t, ns, "kate")
	if err := sb.ExpireConsent(connectionID(t, bc)); err != nil {
		t.Fatal(err)
	}
	forceRefresh(t, bc)
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if a := bc.Status.Authorization; a == nil || !a.Reauthentication || bc.Status.ReconsentURL == "" || !isConnectLink(bc) {
			return fmt.Errorf("no re-authentication journey yet: %+v", bc.Status.Authorization)
		}
		return nil
	})
	reauths := callsTo("POST /v1/reauthuri")

	// The user opens the link: a re-authentication session at the same bank.
	user := testenv.NewBrowser()
	link := toProvider(t, user, bc.Status.ReconsentURL)
	if !strings.Contains(link.RawQuery, "session_id=") {
		t.Fatalf("the user was sent to %s, not a re-authentication session", link.Redacted())
	}
	if got := callsTo("POST /v1/reauthuri") - reauths; got != 1 {
		t.Fatalf("%d re-authentication links made, want 1", got)
	}
	// Someone else completes that provider link first: refused at the callback.
	exchanges := tokenCalls()
	if page := atBank(t, testenv.NewBrowser(), link); page.Status != http.StatusForbidden {
		t.Fatalf("the provider link completed in another browser: HTTP %d, want 403", page.Status)
	}
	if tokenCalls() != exchanges {
		t.Fatal("a code was redeemed for another browser")
	}

	// The user opens the connect link again: a new link for this browser, and Ready.
	again := toProvider(t, user, bc.Status.ReconsentURL)
	if again.String() == link.String() {
		t.Fatal("the second opening got the used provider link")
	}
	page := atBank(t, user, again)
	if page.Status != http.StatusSeeOther && page.Status != http.StatusOK {
		t.Fatalf("re-authentication ended with HTTP %d at %s: %.300s", page.Status, page.URL.Redacted(), page.Body)
	}
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if j := bc.Status.LastJourney; j == nil || j.Result != bankingv1alpha1.JourneyConnected {
			return fmt.Errorf("last journey %+v", bc.Status.LastJourney)
		}
		return isReady(bc)
	})
	if bc.Status.Consent == nil || !bc.Status.Consent.ExpiresAt.After(clk.Now()) {
		t.Fatalf("the consent did not renew: %+v", bc.Status.Consent)
	}
}
