package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// pageUnknownBank answers a connect link with a bank the connection does not offer.
var pageUnknownBank = page{status: http.StatusBadRequest, title: "Unknown bank",
	message: "This bank cannot be chosen here. Please go back to the application and choose again."}

// banksResponse is what /connect/{secret}/banks answers.
type banksResponse struct {
	Banks []bankingv1alpha1.Bank `json:"banks"`
}

// banks serves the bank list of a journey (spec.bankSelection Application) to the
// application's own selection screen: the frontend asks the gateway, never the
// provider. It is guarded like the link itself and answers the same neutral 404.
// The application's origin (that of spec.redirect.returnURL) may read it (CORS).
func (s *Server) banks(w http.ResponseWriter, r *http.Request) {
	secret := r.PathValue("secret")
	if len(secret) > maxSecretLength {
		s.refuse(w, r, "malformed link", pageInvalidLink)
		return
	}
	bc, ok := s.awaitJourney(r, secret)
	if !ok || bc.Spec.BankSelection != bankingv1alpha1.BankSelectionApplication {
		s.refuse(w, r, "unknown, used or expired link", pageInvalidLink)
		return
	}
	if origin := applicationOrigin(bc); origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(banksResponse{Banks: append([]bankingv1alpha1.Bank{}, bc.Status.Banks...)})
}

// offers is true when the user may choose bank for bc's journey.
func offers(bc *bankingv1alpha1.BankConnection, bank string) bool {
	for _, b := range bc.Status.Banks {
		if b.ID == bank {
			return true
		}
	}
	return false
}

// applicationOrigin is the origin of spec.redirect.returnURL, "" when there is none.
func applicationOrigin(bc *bankingv1alpha1.BankConnection) string {
	if bc.Spec.Redirect == nil {
		return ""
	}
	u, err := url.Parse(bc.Spec.Redirect.ReturnURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
