package gateway

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/index"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// IndexJourneyNonce is the BankConnection field index on status.authorization.nonce,
// which the manager registers so /connect finds a link's connection in the cache.
const IndexJourneyNonce = "status.authorization.nonce"

// JourneyNonceOf is the indexer function of IndexJourneyNonce.
var JourneyNonceOf = index.Field(func(bc *bankingv1alpha1.BankConnection) string {
	if a := bc.Status.Authorization; a != nil {
		return a.Nonce
	}
	return ""
})

// maxSecretLength bounds the secret read from a connect link.
const maxSecretLength = 128

// connect starts a journey: it binds the browser with a cookie and sends it to the
// provider's link with a sealed state naming that browser. Opening a link consumes
// nothing (link previewers and a user's second try open it too); the callback does.
func (s *Server) connect(w http.ResponseWriter, r *http.Request) {
	secret := r.PathValue("secret")
	if len(secret) == 0 || len(secret) > maxSecretLength {
		s.refuse(w, r, "malformed link", pageInvalidLink)
		return
	}
	bc, ok := s.awaitJourney(r, secret)
	if !ok {
		s.refuse(w, r, "unknown, used or expired link", pageInvalidLink)
		return
	}
	if !s.allowConnection(w, r, bc.Namespace, bc.Name) {
		return
	}
	bank := r.URL.Query().Get("bank")
	if bank != "" && !offers(bc, bank) {
		s.refuse(w, r, "a bank the connection does not offer", pageUnknownBank)
		return
	}
	if bc.Status.Authorization.Reauthentication && bank == "" {
		s.startReauthentication(w, r, bc)
		return
	}
	target, err := s.providerLink(w, r, bc, bank)
	if err != nil {
		s.Log.Error(err, "Starting a consent journey", "bankconnection", client.ObjectKeyFromObject(bc))
		writePage(w, pageUnavailable)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// DefaultLinkGrace is how long /connect waits for its cache to show a link it does not
// know: an application may send its user the moment status.connectURL is written,
// before this replica's cache has seen it. Every unknown link waits the same, so the
// wait tells nothing; the per-client bucket bounds how many wait at once.
const DefaultLinkGrace = 2 * time.Second

// awaitJourney is journeyFor, waiting up to the link grace for a link the cache lacks.
func (s *Server) awaitJourney(r *http.Request, secret string) (*bankingv1alpha1.BankConnection, bool) {
	grace := s.LinkGrace
	if grace <= 0 {
		grace = DefaultLinkGrace
	}
	deadline := time.Now().Add(grace)
	for {
		if bc, ok := s.journeyFor(r, secret); ok {
			return bc, true
		}
		if !time.Now().Before(deadline) {
			return nil, false
		}
		select {
		case <-r.Context().Done():
			return nil, false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// journeyFor finds the connection whose current journey has this link secret, from
// the cache: a link that is unknown, expired, already handed off or whose connection
// is being deleted finds nothing, and all of them look the same to the caller.
func (s *Server) journeyFor(r *http.Request, secret string) (*bankingv1alpha1.BankConnection, bool) {
	list := &bankingv1alpha1.BankConnectionList{}
	if err := s.Client.List(r.Context(), list, client.MatchingFields{IndexJourneyNonce: secret}); err != nil || len(list.Items) != 1 {
		return nil, false
	}
	bc := &list.Items[0]
	a := bc.Status.Authorization
	switch {
	case !bc.DeletionTimestamp.IsZero(), a == nil, a.Nonce != secret, !s.Clock.Now().Before(a.ExpiresAt.Time),
		bc.Status.AuthorizationURL == "", handedOff(bc, secret):
		return nil, false
	}
	return bc, true
}

// handedOff is true when the journey's callback has already been accepted (a code
// was handed over; a re-authentication request does not use the journey up).
func handedOff(bc *bankingv1alpha1.BankConnection, nonce string) bool {
	h := bc.Status.Handoff
	return h != nil && h.Nonce == nonce && h.Code != ""
}

// providerLink is the provider's link for the journey with the gateway's state added:
// sealed over the connection, the journey and this browser. TrueLayer's v3 return
// carries no state, so its link goes out as the provider gave it.
func (s *Server) providerLink(w http.ResponseWriter, r *http.Request, bc *bankingv1alpha1.BankConnection, bank string) (string, error) {
	if consent.KeptByProvider(bc.Spec.Provider, bc.Spec.DataAPI) && bc.Spec.Provider != bankingv1alpha1.ProviderCodat {
		return bc.Status.AuthorizationURL, nil
	}
	browser, err := s.ensureBrowserSecret(w, r)
	if err != nil {
		return "", err
	}
	expiry := s.Clock.Now().Add(stateTTL)
	if a := bc.Status.Authorization.ExpiresAt.Time; a.Before(expiry) {
		expiry = a
	}
	state, err := s.Journeys.SealState(journey.State{
		Namespace: bc.Namespace, Name: bc.Name, UID: string(bc.UID), Nonce: bc.Status.Authorization.Nonce,
		Browser: journey.BrowserHash(browser), Expiry: expiry,
	})
	if err != nil {
		return "", err
	}
	u, err := url.Parse(bc.Status.AuthorizationURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("state", state)
	if bank != "" {
		// The bank the user chose on the application's screen, which TrueLayer requires
		// to be among the link's providers.
		q.Set("provider_id", bank)
		if ps := strings.Fields(q.Get("providers")); !slices.Contains(ps, bank) {
			q.Set("providers", strings.Join(append(ps, bank), " "))
		}
	}
	// Spaces as %20, not '+': TrueLayer's dialog is known to mishandle '+'.
	u.RawQuery = plusAsSpace(q.Encode())
	return u.String(), nil
}

func plusAsSpace(q string) string { return strings.ReplaceAll(q, "+", "%20") }
