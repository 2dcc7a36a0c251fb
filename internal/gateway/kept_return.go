package gateway

import (
	"context"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/index"
)

// Returns from providers that keep the consent server-side (TrueLayer Data API v3,
// Codat). Such a return proves nothing: TrueLayer's v3 return carries only the data
// connection id (no state), and Codat's redirect carries the gateway's state only
// when the redirect URL is configured with a {state} parameter. So the gateway never
// records an authorisation from a return. It asks the reconciler to check with the
// provider now, through status.checkRequest (the reconciler acknowledges it in
// status.lastHandledCheckRequest), and the provider's answer decides. The worst a forged
// return can do is cause one early check, and minCheckRequestInterval bounds that.

// IndexDataConnectionID is the BankConnection field index on
// status.providerRefs.dataConnectionID, which the manager registers so the v3 return
// can find its connection.
const IndexDataConnectionID = "status.providerRefs.dataConnectionID"

// DataConnectionIDOf is the indexer function of IndexDataConnectionID.
var DataConnectionIDOf = index.Field(func(bc *bankingv1alpha1.BankConnection) string {
	if p := bc.Status.ProviderRefs; p != nil {
		return p.DataConnectionID
	}
	return ""
})

// minCheckRequestInterval is the least time between two check requests the gateway
// writes for one connection, so that repeated returns (reloads, or someone replaying
// a return URL) cost at most one write and one provider call per interval.
const minCheckRequestInterval = 10 * time.Second

// maxConnectionIDLength bounds the connection_id read from a v3 return.
const maxConnectionIDLength = 128

// noStateReturn handles a return without state: TrueLayer's v3 return
// (?connection_id=...), or its cancellation (?error=...).
func (s *Server) noStateReturn(w http.ResponseWriter, r *http.Request) {
	id := r.Form.Get("connection_id")
	if id == "" || len(id) > maxConnectionIDLength {
		if e := r.Form.Get("error"); e != "" && id == "" {
			// A cancelled v3 journey: nothing identifies the connection and nothing
			// changes; the connection stays pending (the provider reports the failure).
			writePage(w, pageNotCompleted)
			return
		}
		s.refuse(w, r, "malformed provider return", pageBadRequest)
		return
	}
	list := &bankingv1alpha1.BankConnectionList{}
	if err := s.Client.List(r.Context(), list, client.MatchingFields{IndexDataConnectionID: id}); err != nil {
		s.Log.Error(err, "Looking up the BankConnection of a v3 return")
		writePage(w, pageUnavailable)
		return
	}
	var found []*bankingv1alpha1.BankConnection
	for i := range list.Items {
		bc := &list.Items[i]
		if bc.DeletionTimestamp.IsZero() && consent.KeptByProvider(bc.Spec.Provider, bc.Spec.DataAPI) {
			found = append(found, bc)
		}
	}
	if len(found) != 1 {
		// Unknown (or, impossibly, shared) connection ids change nothing.
		s.refuse(w, r, "provider return for an unknown connection", pageInvalidLink)
		return
	}
	s.providerReturn(w, r, found[0])
}

// providerReturn ends the user's journey for a consent the provider keeps: it asks
// the reconciler to check with the provider and shows where to go next.
func (s *Server) providerReturn(w http.ResponseWriter, r *http.Request, bc *bankingv1alpha1.BankConnection) {
	log := s.Log.WithValues("bankconnection", client.ObjectKeyFromObject(bc))
	// Codat's redirect reports the end of Link in statusCode (403 when the user
	// cancelled); TrueLayer's cancellations carry error.
	if code, e := r.Form.Get("statusCode"), r.Form.Get("error"); e != "" || code != "" && code != "200" {
		s.event(bc, corev1.EventTypeNormal, bankingv1alpha1.ReasonUserDeclined, "Authorize", "The user left the provider's journey without authorising")
		writePage(w, pageNotCompleted)
		return
	}
	if err := s.requestCheck(r.Context(), bc); err != nil {
		log.Error(err, "Requesting a consent check after a provider return")
		writePage(w, pageUnavailable)
		return
	}
	log.Info("User returned from the provider; the reconciler confirms with the provider")
	if bc.Spec.Redirect != nil && bc.Spec.Redirect.ReturnURL != "" {
		http.Redirect(w, r, bc.Spec.Redirect.ReturnURL, http.StatusSeeOther)
		return
	}
	writePage(w, pageThanks)
}

// requestCheck asks the reconciler (status.checkRequest) to check the consent at the
// provider now. Nothing is written when the connection is already Ready, a request is
// still unhandled, or the last one is younger than minCheckRequestInterval.
func (s *Server) requestCheck(ctx context.Context, bc *bankingv1alpha1.BankConnection) error {
	if apimeta.IsStatusConditionTrue(bc.Status.Conditions, bankingv1alpha1.ConditionReady) &&
		!apimeta.IsStatusConditionTrue(bc.Status.Conditions, bankingv1alpha1.ConditionStalled) {
		return nil
	}
	if bc.Status.OpenCheckRequest() != nil {
		return nil // the reconciler has not handled the last request yet
	}
	now := s.Clock.Now().UTC().Truncate(time.Second)
	if c := bc.Status.CheckRequest; c != nil && !now.After(c.RequestedAt.Add(minCheckRequestInterval)) && !c.RequestedAt.After(now) {
		return nil
	}
	return requestCheck(ctx, s.Client, bc, bankingv1alpha1.CheckRequest{
		ID: "return/" + now.Format(time.RFC3339), Source: bankingv1alpha1.CheckSourceReturn, RequestedAt: metav1.NewTime(now)})
}

// Pages of the returns from providers that keep the consent.
var (
	pageNotCompleted = page{status: http.StatusForbidden, title: "Not connected",
		message: "The connection to your bank was not completed. Nothing was shared. You can start again from the application."}
	pageThanks = page{status: http.StatusOK, title: "Thank you",
		message: "Your bank connection is being confirmed with the provider. You can close this window."}
)
