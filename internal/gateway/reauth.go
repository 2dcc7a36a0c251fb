package gateway

import (
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// reauthRequestTTL bounds a re-authentication request: the user is waiting for it.
const reauthRequestTTL = 5 * time.Minute

// startReauthentication opens a re-consent through the provider's re-authentication
// journey. The provider keeps the state it is given when the link is made, so the
// link is made for this browser, now: the gateway hands a request naming the browser
// to the reconciler (status.handoff, which does not use the journey up) and sends the
// browser to a page that waits for the link.
func (s *Server) startReauthentication(w http.ResponseWriter, r *http.Request, bc *bankingv1alpha1.BankConnection) {
	browser, err := s.ensureBrowserSecret(w, r)
	var id string
	if err == nil {
		id, err = journey.NewBrowserSecret() // any 256 random bits
	}
	if err != nil {
		s.Log.Error(err, "Starting a re-authentication")
		writePage(w, pageUnavailable)
		return
	}
	a := bc.Status.Authorization
	st := journey.State{Namespace: bc.Namespace, Name: bc.Name, UID: string(bc.UID), Nonce: a.Nonce,
		Browser: journey.BrowserHash(browser), Expiry: s.Clock.Now().Add(reauthRequestTTL), Request: id}
	err = s.patchHandoff(r.Context(), bc, st, bankingv1alpha1.HandoffStatus{Nonce: a.Nonce,
		ExpiresAt:      metav1.NewTime(st.Expiry.UTC().Truncate(time.Second)),
		Reauthenticate: &bankingv1alpha1.ReauthenticationRequest{ID: id, Browser: st.Browser}})
	if s.handoffFailed(w, r, bc, err, "Asking for a re-authentication link") {
		return
	}
	ticket, err := s.Journeys.SealTicket(st)
	if err != nil {
		writePage(w, pageUnavailable)
		return
	}
	http.Redirect(w, r, s.base()+"/reauth/"+ticket, http.StatusSeeOther)
}

// reauth waits (bounded) for the reconciler's re-authentication link for this
// browser's request and sends the browser there; when the provider could not make
// one, or it does not come in time, the browser goes through a full journey instead.
func (s *Server) reauth(w http.ResponseWriter, r *http.Request) {
	st, ok := s.waitingBrowser(w, r, "re-authentication")
	if !ok {
		return
	}
	if st.Request == "" {
		s.refuse(w, r, "not a re-authentication ticket", pageInvalidLink)
		return
	}
	bc, v := s.waitFor(r.Context(), st, func(bc *bankingv1alpha1.BankConnection) waited {
		if a := bc.Status.Authorization; a == nil || a.Nonce != st.Nonce || handedOff(bc, st.Nonce) {
			return journeyGone
		}
		if l := bc.Status.Authorization.ReauthenticationLink; l != nil && l.RequestID == st.Request {
			return waitDone
		}
		return stillWaiting
	})
	link := ""
	if v == waitDone {
		link = bc.Status.Authorization.ReauthenticationLink.URL
	}
	switch {
	case v == journeyGone:
		s.refuse(w, r, "journey used or superseded", pageInvalidLink)
	case link != "":
		http.Redirect(w, r, link, http.StatusFound)
	default:
		target, err := s.providerLink(w, r, bc, "")
		if err != nil {
			writePage(w, pageUnavailable)
			return
		}
		http.Redirect(w, r, target, http.StatusFound)
	}
}
