package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"k8s.io/apimachinery/pkg/types"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// outcomePoll is how often the outcome page looks at the cache while it waits.
const outcomePoll = 50 * time.Millisecond

// outcome is the page the browser waits on after the callback. It shows the
// journey's outcome as soon as the reconciler records it, then sends the user back to
// the application; past OutcomeWait it says the connection is being finished and
// refreshes itself. Reloading it later still shows the outcome.
func (s *Server) outcome(w http.ResponseWriter, r *http.Request) {
	if !s.allowClient(w, r) {
		return
	}
	st, err := s.Journeys.OpenTicket(r.PathValue("ticket"), s.Clock.Now())
	if err != nil {
		s.refuse(w, r, "invalid or expired ticket", pageInvalidLink)
		return
	}
	if b := s.browserSecret(r); b == "" || journey.BrowserHash(b) != st.Browser {
		s.refuse(w, r, "outcome from another browser", pageStartAgain)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.outcomeWait())
	defer cancel()
	bc, result, err := s.waitForOutcome(ctx, st)
	switch {
	case errors.Is(err, errJourneyGone):
		writePage(w, pageFinished)
		return
	case err != nil:
		writePage(w, pageFinishing)
		return
	}
	switch result {
	case bankingv1alpha1.JourneyConnected:
		s.toApplication(w, r, bc, "connected", pageConnected)
	case bankingv1alpha1.JourneyDifferentBank:
		// The user must read this one: the application gets the result from the button.
		writePage(w, pageDifferent.withLink(returnURL(bc, "failed"), "Back to the application"))
	default:
		s.toApplication(w, r, bc, "failed", pageFailed)
	}
}

// waitForOutcome polls the cache until the reconciler records the journey's outcome.
// A journey that is neither pending nor finished any more (the connection moved on,
// or was deleted) is errJourneyGone.
func (s *Server) waitForOutcome(ctx context.Context, st journey.State) (*bankingv1alpha1.BankConnection, bankingv1alpha1.JourneyResult, error) {
	key := types.NamespacedName{Namespace: st.Namespace, Name: st.Name}
	tick := time.NewTicker(outcomePoll)
	defer tick.Stop()
	for {
		bc := &bankingv1alpha1.BankConnection{}
		// Read with a context the wait's deadline does not cancel: the deadline ends
		// the wait, it must not read as a journey that is gone.
		if err := s.Client.Get(context.WithoutCancel(ctx), key, bc); err != nil || string(bc.UID) != st.UID {
			return nil, "", errJourneyGone
		}
		if j := bc.Status.LastJourney; j != nil && j.Nonce == st.Nonce {
			return bc, j.Result, nil
		}
		// Still the current journey: the handoff this gateway just wrote may not be
		// in its cache yet. Neither current nor handed off: the connection moved on.
		if a := bc.Status.Authorization; !handedOff(bc, st.Nonce) && (a == nil || a.Nonce != st.Nonce) {
			return nil, "", errJourneyGone
		}
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-tick.C:
		}
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
