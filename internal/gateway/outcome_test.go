package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// TestOutcomePage: the page after the callback shows what the reconciler recorded,
// says the connection is being finished while it has not, and sends the user back to
// the application with the result.
func TestOutcomePage(t *testing.T) {
	e := newFuzzCallbackEnv(t)
	handoff := &bankingv1alpha1.HandoffStatus{Nonce: fuzzNonce, Code: "sealed", ExpiresAt: metav1.NewTime(now.Add(time.Minute))}
	outcome := func(r bankingv1alpha1.JourneyResult) *bankingv1alpha1.JourneyOutcome {
		return &bankingv1alpha1.JourneyOutcome{Nonce: fuzzNonce, Result: r, CompletedAt: metav1.NewTime(now)}
	}
	cases := []struct {
		name        string
		status      bankingv1alpha1.BankConnectionStatus
		cookie      string
		wantCode    int
		wantInBody  string
		wantLocated string
	}{
		{"connected", bankingv1alpha1.BankConnectionStatus{Handoff: handoff, LastJourney: outcome(bankingv1alpha1.JourneyConnected)}, fuzzBrowser,
			http.StatusSeeOther, "", "https://app.example/done?connection=alice&result=connected"},
		{"failed", bankingv1alpha1.BankConnectionStatus{Handoff: handoff, LastJourney: outcome(bankingv1alpha1.JourneyFailed)}, fuzzBrowser,
			http.StatusSeeOther, "", "https://app.example/done?connection=alice&result=failed"},
		{"different bank", bankingv1alpha1.BankConnectionStatus{Handoff: handoff, LastJourney: outcome(bankingv1alpha1.JourneyDifferentBank)}, fuzzBrowser,
			http.StatusOK, "new connection", ""},
		{"still being finished", bankingv1alpha1.BankConnectionStatus{Handoff: handoff,
			Authorization: &bankingv1alpha1.AuthorizationStatus{Nonce: fuzzNonce, ExpiresAt: metav1.NewTime(now.Add(time.Hour))}}, fuzzBrowser,
			http.StatusOK, `http-equiv="refresh"`, ""},
		{"moved on", bankingv1alpha1.BankConnectionStatus{}, fuzzBrowser, http.StatusOK, "has finished", ""},
		{"another browser", bankingv1alpha1.BankConnectionStatus{Handoff: handoff, LastJourney: outcome(bankingv1alpha1.JourneyConnected)},
			"b3RoZXItYnJvd3Nlci1zZWNyZXQtb2YtMzItYnl0ZXM", http.StatusForbidden, "start again", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bc := &bankingv1alpha1.BankConnection{}
			bc.Namespace, bc.Name, bc.UID = fuzzNS, fuzzName, fuzzUID
			bc.Spec.Redirect = &bankingv1alpha1.RedirectSpec{ReturnURL: "https://app.example/done"}
			bc.Status = tc.status
			c := fake.NewClientBuilder().WithScheme(e.scheme).WithObjects(bc).WithStatusSubresource(bc).Build()
			s := &Server{Client: c, Reader: c, Journeys: e.keys, PublicURL: "https://gw.example", Clock: fuzzClock{}, Log: logr.Discard(),
				Limits: Limits{PerClient: -1, PerConnection: -1}, OutcomeWait: 200 * time.Millisecond}
			ticket, err := e.keys.SealTicket(journey.State{Namespace: fuzzNS, Name: fuzzName, UID: fuzzUID, Nonce: fuzzNonce,
				Browser: journey.BrowserHash(fuzzBrowser), Expiry: now.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			rec := serve(s.Handler(), "GET", "https://gw.example/outcome/"+ticket, &http.Cookie{Name: "__Host-consent-journey", Value: tc.cookie})
			if rec.Code != tc.wantCode || !strings.Contains(rec.Body.String(), tc.wantInBody) || rec.Header().Get("Location") != tc.wantLocated {
				t.Fatalf("HTTP %d to %q: %.300s; want %d to %q containing %q", rec.Code, rec.Header().Get("Location"), rec.Body.String(),
					tc.wantCode, tc.wantLocated, tc.wantInBody)
			}
		})
	}
}

// TestReauthenticationWait: the page a re-authenticating browser waits on sends it to
// the link the reconciler made for its request, falls back to a full journey when the
// provider gave none, and refuses another browser.
func TestReauthenticationWait(t *testing.T) {
	e := newFuzzCallbackEnv(t)
	auth := func(link *bankingv1alpha1.ReauthenticationLink) *bankingv1alpha1.AuthorizationStatus {
		return &bankingv1alpha1.AuthorizationStatus{Nonce: fuzzNonce, ExpiresAt: metav1.NewTime(now.Add(time.Hour)), Reauthentication: true,
			ReauthenticationLink: link}
	}
	cases := []struct {
		name, cookie, wantHost string
		auth                   *bankingv1alpha1.AuthorizationStatus
		wantCode               int
	}{
		{"link made", fuzzBrowser, "bank.example", auth(&bankingv1alpha1.ReauthenticationLink{RequestID: "req-1", URL: "https://bank.example/?session_id=s1"}), http.StatusFound},
		{"provider gave none: full journey", fuzzBrowser, "auth.example", auth(&bankingv1alpha1.ReauthenticationLink{RequestID: "req-1"}), http.StatusFound},
		{"not answered in time: full journey", fuzzBrowser, "auth.example", auth(nil), http.StatusFound},
		{"another browser", "b3RoZXItYnJvd3Nlci1zZWNyZXQtb2YtMzItYnl0ZXM", "", auth(nil), http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bc := &bankingv1alpha1.BankConnection{}
			bc.Namespace, bc.Name, bc.UID = fuzzNS, fuzzName, fuzzUID
			bc.Spec.Provider = bankingv1alpha1.ProviderTrueLayer
			bc.Status.Authorization = tc.auth
			bc.Status.AuthorizationURL = "https://auth.example/?client_id=x"
			c := fake.NewClientBuilder().WithScheme(e.scheme).WithObjects(bc).WithStatusSubresource(bc).Build()
			s := &Server{Client: c, Reader: c, Journeys: e.keys, PublicURL: "https://gw.example", Clock: fuzzClock{}, Log: logr.Discard(),
				Limits: Limits{PerClient: -1, PerConnection: -1}, OutcomeWait: 200 * time.Millisecond}
			ticket, err := e.keys.SealTicket(journey.State{Namespace: fuzzNS, Name: fuzzName, UID: fuzzUID, Nonce: fuzzNonce,
				Browser: journey.BrowserHash(fuzzBrowser), Expiry: now.Add(time.Hour), Request: "req-1"})
			if err != nil {
				t.Fatal(err)
			}
			rec := serve(s.Handler(), "GET", "https://gw.example/reauth/"+ticket, &http.Cookie{Name: "__Host-consent-journey", Value: tc.cookie})
			if rec.Code != tc.wantCode {
				t.Fatalf("HTTP %d, want %d: %.200s", rec.Code, tc.wantCode, rec.Body.String())
			}
			if tc.wantHost != "" && !strings.Contains(rec.Header().Get("Location"), "://"+tc.wantHost+"/") {
				t.Fatalf("sent to %q, want %s", rec.Header().Get("Location"), tc.wantHost)
			}
		})
	}
}
