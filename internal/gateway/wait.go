package gateway

import (
	"context"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/types"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// outcomePoll is how often a waiting page looks at the cache.
const outcomePoll = 50 * time.Millisecond

// waitingBrowser opens the ticket of a page a browser waits on (the outcome, or a
// re-authentication link) and checks it is the browser the ticket was sealed for.
// It answers the request itself when not.
func (s *Server) waitingBrowser(w http.ResponseWriter, r *http.Request, what string) (journey.State, bool) {
	st, err := s.Journeys.OpenTicket(r.PathValue("ticket"), s.Clock.Now())
	if err != nil {
		s.refuse(w, r, "invalid or expired "+what+" ticket", pageInvalidLink)
		return journey.State{}, false
	}
	if b := s.browserSecret(r); b == "" || journey.BrowserHash(b) != st.Browser {
		s.refuse(w, r, what+" from another browser", pageStartAgain)
		return journey.State{}, false
	}
	return st, true
}

// waited is what a waiting page's check makes of the connection it reads.
type waited int

const (
	stillWaiting waited = iota
	waitDone
	journeyGone
)

// waitFor reads st's connection from the cache every outcomePoll, for at most the
// outcome wait, until check says done or gone. A connection deleted or recreated is
// gone; when the wait ends first it returns the last connection read, still waiting.
func (s *Server) waitFor(ctx context.Context, st journey.State, check func(*bankingv1alpha1.BankConnection) waited) (*bankingv1alpha1.BankConnection, waited) {
	ctx, cancel := context.WithTimeout(ctx, s.outcomeWait())
	defer cancel()
	key := types.NamespacedName{Namespace: st.Namespace, Name: st.Name}
	tick := time.NewTicker(outcomePoll)
	defer tick.Stop()
	for {
		bc := &bankingv1alpha1.BankConnection{}
		// Read with a context the wait's deadline does not cancel: the deadline ends
		// the wait, it must not read as a journey that is gone.
		if err := s.Client.Get(context.WithoutCancel(ctx), key, bc); err != nil || string(bc.UID) != st.UID {
			return nil, journeyGone
		}
		if v := check(bc); v != stillWaiting {
			return bc, v
		}
		select {
		case <-ctx.Done():
			return bc, stillWaiting
		case <-tick.C:
		}
	}
}
