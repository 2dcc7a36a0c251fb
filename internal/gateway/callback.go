package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/journey"
)

// maxFormBytes bounds a form_post callback body.
const maxFormBytes = 64 << 10

// maxCodeLength bounds an authorization code.
const maxCodeLength = 2048

// callback ends a journey at the gateway: it checks the state and the browser, then
// hands the code to the reconciler. Nothing here calls the provider or writes a Secret.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	if err := r.ParseForm(); err != nil {
		s.refuse(w, r, "unreadable form", pageBadRequest)
		return
	}
	if r.Form.Get("state") == "" && (r.Form.Get("connection_id") != "" || r.Form.Get("error") != "") {
		s.noStateReturn(w, r)
		return
	}
	st, err := s.Journeys.OpenState(r.Form.Get("state"), s.Clock.Now())
	switch {
	case errors.Is(err, journey.ErrExpired):
		s.refuse(w, r, "expired state", pageExpired)
		return
	case err != nil:
		s.refuse(w, r, "invalid state", pageBadRequest)
		return
	}
	if !s.allowConnection(w, r, st.Namespace, st.Name) {
		return
	}
	bc := &bankingv1alpha1.BankConnection{}
	key := types.NamespacedName{Namespace: st.Namespace, Name: st.Name}
	if err := s.Client.Get(r.Context(), key, bc); err != nil || string(bc.UID) != st.UID || !bc.DeletionTimestamp.IsZero() {
		if err != nil && !apierrors.IsNotFound(err) {
			s.Log.Error(err, "Reading BankConnection for callback", "bankconnection", key)
			writePage(w, pageUnavailable)
			return
		}
		s.refuse(w, r, "unknown connection", pageInvalidLink)
		return
	}
	if keptByProvider(bc) {
		// Codat's return authorises nothing: the reconciler asks Codat.
		s.providerReturn(w, r, bc)
		return
	}
	if !s.sameBrowser(w, r, st) {
		return
	}
	s.handOff(w, r, bc, st)
}

// sameBrowser requires the cookie the state was bound to. A cross-site form_post
// carries no SameSite=Lax cookie, so such a POST is first posted again from the
// gateway's own page.
func (s *Server) sameBrowser(w http.ResponseWriter, r *http.Request, st journey.State) bool {
	b := s.browserSecret(r)
	if b != "" && journey.BrowserHash(b) == st.Browser {
		return true
	}
	if b == "" && r.Method == http.MethodPost && r.PostForm.Get(repostMarker) == "" {
		fields := r.PostForm
		writeRepost(w, s.Links().CallbackURL(), fields)
		return false
	}
	s.refuse(w, r, "callback from another browser", pageStartAgain)
	return false
}

// handOff records the code for the reconciler and sends the browser to its outcome
// page; a declined or failed journey goes back to the application at once.
func (s *Server) handOff(w http.ResponseWriter, r *http.Request, bc *bankingv1alpha1.BankConnection, st journey.State) {
	if done := s.finishedJourney(w, r, bc, st); done {
		return
	}
	if e := r.Form.Get("error"); e != "" {
		// The journey stays usable: the user may try again from the same link.
		result, p := "failed", pageFailed
		if e == "access_denied" {
			result, p = "declined", pageDeclined
			s.event(bc, corev1.EventTypeNormal, bankingv1alpha1.ReasonUserDeclined, "Authorize", "The user cancelled the consent journey")
		} else {
			s.event(bc, corev1.EventTypeWarning, bankingv1alpha1.ReasonAuthorizationFailed, "Authorize", "The provider ended the consent journey with an error")
		}
		s.toApplication(w, r, bc, result, p)
		return
	}
	code := r.Form.Get("code")
	if code == "" || len(code) > maxCodeLength {
		s.refuse(w, r, "no usable code", pageBadRequest)
		return
	}
	if err := s.writeHandoff(r.Context(), bc, st, code); s.handoffFailed(w, r, bc, err, "Handing the authorization code to the reconciler") {
		return
	}
	s.Log.V(1).Info("Authorization code handed to the reconciler", "bankconnection", client.ObjectKeyFromObject(bc))
	s.toOutcome(w, r, st)
}

// finishedJourney answers a callback for a journey already handed off: the user
// reloading the callback page, or going back to it, sees the outcome, not an error
// (the cookie already proved it is the same browser). A journey replaced by a newer
// one gets the neutral page.
func (s *Server) finishedJourney(w http.ResponseWriter, r *http.Request, bc *bankingv1alpha1.BankConnection, st journey.State) bool {
	if handedOff(bc, st.Nonce) || (bc.Status.LastJourney != nil && bc.Status.LastJourney.Nonce == st.Nonce) {
		s.toOutcome(w, r, st)
		return true
	}
	if a := bc.Status.Authorization; a == nil || a.Nonce != st.Nonce {
		s.refuse(w, r, "journey used or superseded", pageInvalidLink)
		return true
	}
	return false
}

// errJourneyGone means the journey was used or superseded while the handoff was
// being written.
var errJourneyGone = errors.New("the journey is no longer current")

// writeHandoff patches status.handoff with an optimistic lock on the version the
// journey was checked on, so two callbacks of one journey cannot both be accepted.
// Only a lost lock reads the apiserver directly, to check again on the latest version.
func (s *Server) writeHandoff(ctx context.Context, bc *bankingv1alpha1.BankConnection, st journey.State, code string) error {
	sealed, err := s.Journeys.SealCode(code, journey.Binding{Namespace: bc.Namespace, Name: bc.Name, UID: string(bc.UID), Nonce: st.Nonce})
	if err != nil {
		return err
	}
	expires := metav1.NewTime(s.Clock.Now().Add(s.codeLifetime()).UTC().Truncate(time.Second))
	return s.patchHandoff(ctx, bc, st, bankingv1alpha1.HandoffStatus{Nonce: st.Nonce, Code: sealed, ExpiresAt: expires})
}

// patchHandoff writes status.handoff for the journey st names, with an optimistic
// lock; errJourneyGone when the journey was used or superseded meanwhile.
func (s *Server) patchHandoff(ctx context.Context, bc *bankingv1alpha1.BankConnection, st journey.State, h bankingv1alpha1.HandoffStatus) error {
	for attempt := 0; attempt < 3; attempt++ {
		if a := bc.Status.Authorization; a == nil || a.Nonce != st.Nonce || handedOff(bc, st.Nonce) || string(bc.UID) != st.UID {
			return errJourneyGone
		}
		before := bc.DeepCopy()
		bc.Status.Handoff = h.DeepCopy()
		err := s.Client.Status().Patch(ctx, bc, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("writing the handoff: %w", err)
		}
		if err := s.Reader.Get(ctx, client.ObjectKeyFromObject(bc), bc); err != nil {
			if apierrors.IsNotFound(err) {
				return errJourneyGone
			}
			return fmt.Errorf("reading the BankConnection after a conflict: %w", err)
		}
	}
	return fmt.Errorf("writing the handoff: the BankConnection kept changing")
}

// handoffFailed answers the request when writing a handoff (doing) failed: a journey
// used or superseded meanwhile is an invalid link; anything else is logged, and the
// user is told to try again later. It reports whether err was a failure.
func (s *Server) handoffFailed(w http.ResponseWriter, r *http.Request, bc *bankingv1alpha1.BankConnection, err error, doing string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, errJourneyGone):
		s.refuse(w, r, "journey used or superseded", pageInvalidLink)
	default:
		s.Log.Error(err, doing, "bankconnection", client.ObjectKeyFromObject(bc))
		writePage(w, pageUnavailable)
	}
	return true
}

// toOutcome sends the browser to the page that waits for the reconciler's outcome.
func (s *Server) toOutcome(w http.ResponseWriter, r *http.Request, st journey.State) {
	st.Expiry = s.Clock.Now().Add(journeyCookieTTL)
	ticket, err := s.Journeys.SealTicket(st)
	if err != nil {
		s.Log.Error(err, "Sealing an outcome ticket")
		writePage(w, pageUnavailable)
		return
	}
	http.Redirect(w, r, s.base()+"/outcome/"+ticket, http.StatusSeeOther)
}

func (s *Server) event(bc *bankingv1alpha1.BankConnection, kind, reason, action, note string) {
	if s.Recorder != nil {
		s.Recorder.Eventf(bc, nil, kind, reason, action, "%s", note)
	}
}

// keptByProvider is true for consents the provider keeps (v3, Codat): their returns
// only ask the reconciler to check.
func keptByProvider(bc *bankingv1alpha1.BankConnection) bool {
	return consent.KeptByProvider(bc.Spec.Provider, bc.Spec.DataAPI)
}
