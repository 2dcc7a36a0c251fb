package gateway

import (
	"net/http"
	"net/url"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// outcome is the page the browser waits on after the callback. It shows the
// journey's outcome as soon as the reconciler records it, then sends the user back to
// the application; past OutcomeWait it says the connection is being finished and
// refreshes itself. Reloading it later still shows the outcome.
func (s *Server) outcome(w http.ResponseWriter, r *http.Request) {
	st, ok := s.waitingBrowser(w, r, "outcome")
	if !ok {
		return
	}
	bc, v := s.waitFor(r.Context(), st, func(bc *bankingv1alpha1.BankConnection) waited {
		if j := bc.Status.LastJourney; j != nil && j.Nonce == st.Nonce {
			return waitDone
		}
		// Still the current journey: the handoff this gateway just wrote may not be
		// in its cache yet. Neither current nor handed off: the connection moved on.
		if a := bc.Status.Authorization; !handedOff(bc, st.Nonce) && (a == nil || a.Nonce != st.Nonce) {
			return journeyGone
		}
		return stillWaiting
	})
	switch v {
	case journeyGone:
		writePage(w, pageFinished)
		return
	case stillWaiting:
		writePage(w, pageFinishing)
		return
	}
	switch bc.Status.LastJourney.Result {
	case bankingv1alpha1.JourneyConnected:
		s.toApplication(w, r, bc, "connected", pageConnected)
	case bankingv1alpha1.JourneyDifferentBank:
		// The user must read this one: the application gets the result from the button.
		writePage(w, pageDifferent.withLink(returnURL(bc, "failed"), "Back to the application"))
	default:
		s.toApplication(w, r, bc, "failed", pageFailed)
	}
}

// toApplication sends the user to spec.redirect.returnURL with the outcome in its
// query, or shows p when the connection names no return URL.
func (s *Server) toApplication(w http.ResponseWriter, r *http.Request, bc *bankingv1alpha1.BankConnection, result string, p page) {
	if target := returnURL(bc, result); target != "" {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	writePage(w, p)
}

// returnURL is the application's return URL with result and connection added.
func returnURL(bc *bankingv1alpha1.BankConnection, result string) string {
	if bc.Spec.Redirect == nil || bc.Spec.Redirect.ReturnURL == "" {
		return ""
	}
	u, err := url.Parse(bc.Spec.Redirect.ReturnURL)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("result", result)
	q.Set("connection", bc.Name)
	u.RawQuery = q.Encode()
	return u.String()
}
