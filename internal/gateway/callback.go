package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// maxFormBytes bounds a form_post callback body.
const maxFormBytes = 64 << 10

// connect redirects to the connection's current authorization link.
func (s *Server) connect(w http.ResponseWriter, r *http.Request) {
	bc := &bankingv1alpha1.BankConnection{}
	key := types.NamespacedName{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	if err := s.Client.Get(r.Context(), key, bc); err != nil {
		if apierrors.IsNotFound(err) {
			writePage(w, http.StatusNotFound, "Unknown link", "This connection link does not exist.")
			return
		}
		s.Log.Error(err, "Reading BankConnection for connect link", "bankconnection", key)
		writePage(w, http.StatusServiceUnavailable, "Try again shortly", "The service is temporarily unavailable.")
		return
	}
	if bc.Status.AuthorizationURL != "" {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, bc.Status.AuthorizationURL, http.StatusFound)
		return
	}
	if apimeta.IsStatusConditionTrue(bc.Status.Conditions, bankingv1alpha1.ConditionReady) {
		writePage(w, http.StatusOK, "Already connected", "Your bank account is connected; there is nothing to do.")
		return
	}
	w.Header().Set("Retry-After", "5")
	writePage(w, http.StatusServiceUnavailable, "Almost ready", "Your link is being prepared. Please try again in a few seconds.")
}

// callback completes a consent journey.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	if err := r.ParseForm(); err != nil {
		writePage(w, http.StatusBadRequest, "Invalid request", "The request could not be read.")
		return
	}
	if r.Form.Get("state") == "" && (r.Form.Get("connection_id") != "" || r.Form.Get("error") != "") {
		s.noStateReturn(w, r)
		return
	}
	st, err := s.Key.Verify(r.Form.Get("state"), s.Clock.Now())
	switch {
	case errors.Is(err, ErrStateExpired):
		writePage(w, http.StatusGone, "Link expired", "This link has expired. Please start again from the link you were given.")
		return
	case err != nil:
		s.Log.Info("Callback with an invalid state refused", "reason", err.Error())
		writePage(w, http.StatusBadRequest, "Invalid link", "This link is not valid.")
		return
	}
	key := types.NamespacedName{Namespace: st.Namespace, Name: st.Name}
	log := s.Log.WithValues("bankconnection", key)

	bc := &bankingv1alpha1.BankConnection{}
	if err := s.Reader.Get(ctx, key, bc); err != nil || string(bc.UID) != st.UID || !bc.DeletionTimestamp.IsZero() {
		if err != nil && !apierrors.IsNotFound(err) {
			log.Error(err, "Reading BankConnection for callback")
			writePage(w, http.StatusServiceUnavailable, "Try again shortly", "The service is temporarily unavailable.")
			return
		}
		writePage(w, http.StatusNotFound, "Unknown connection", "This link belongs to a connection that no longer exists.")
		return
	}
	if consent.KeptByProvider(bc.Spec.Provider, bc.Spec.DataAPI) {
		// The state only names the connection: the return authorises nothing, so it is
		// not single-use (Codat's link stays the same across re-authorisations).
		s.providerReturn(w, r, bc)
		return
	}
	if a := bc.Status.Authorization; a == nil || a.Nonce != st.Nonce {
		log.Info("Callback with a used or superseded state refused")
		writePage(w, http.StatusConflict, "Link already used", "This link has already been used. Start again from the link you were given.")
		return
	}
	if e := r.Form.Get("error"); e != "" {
		s.declined(bc, e)
		status, msg := http.StatusForbidden, "You cancelled the connection to your bank. Nothing was shared. You can start again from the link you were given."
		if e != "access_denied" {
			status, msg = http.StatusBadGateway, "The bank or provider could not complete the connection. Please try again from the link you were given."
		}
		writePage(w, status, "Not connected", msg)
		return
	}
	code := r.Form.Get("code")
	if code == "" {
		writePage(w, http.StatusBadRequest, "Invalid request", "The request has no authorization code.")
		return
	}

	if err := s.claim(ctx, bc, st.Nonce); err != nil {
		if errors.Is(err, errReplayed) {
			writePage(w, http.StatusConflict, "Link already used", "This link has already been used. Start again from the link you were given.")
			return
		}
		log.Error(err, "Claiming authorization")
		writePage(w, http.StatusServiceUnavailable, "Try again shortly", "The service is temporarily unavailable.")
		return
	}
	if err := s.complete(ctx, bc, provider.Callback{Code: code, Scope: r.Form.Get("scope")}); err != nil {
		log.Error(err, "Completing authorization")
		s.release(ctx, bc)
		s.event(bc, corev1.EventTypeWarning, "AuthorizationFailed", "Authorize", "The consent journey could not be completed: "+err.Error())
		writePage(w, http.StatusBadGateway, "Not connected", "The connection could not be completed. Please start again from the link you were given.")
		return
	}
	// No event here: the reconciler records the transition to Ready (one event, not two).
	log.Info("Consent journey completed")
	if bc.Spec.Redirect != nil && bc.Spec.Redirect.ReturnURL != "" {
		http.Redirect(w, r, bc.Spec.Redirect.ReturnURL, http.StatusSeeOther)
		return
	}
	writePage(w, http.StatusOK, "Connected", "Your bank account is connected. You can close this window.")
}

var errReplayed = errors.New("authorization already used")

// consumedNonce marks an authorization attempt whose state was used; the operator
// never signs a state with it, so it matches no callback.
const consumedNonce = "consumed"

// claimHold is how long a consumed attempt holds off a new link while its code is
// exchanged; a failed exchange releases it at once.
const claimHold = 5 * time.Minute

// claim consumes the nonce with an optimistic-locked status write, so two concurrent
// callbacks with the same state cannot both proceed.
func (s *Server) claim(ctx context.Context, bc *bankingv1alpha1.BankConnection, nonce string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if a := bc.Status.Authorization; a == nil || a.Nonce != nonce {
			return errReplayed
		}
		before := bc.DeepCopy()
		// The attempt stays in status, marked consumed, while the code is exchanged:
		// the reconciler keeps the link instead of minting a second one for a user
		// who is already through, and the state cannot be used again.
		bc.Status.Authorization = &bankingv1alpha1.AuthorizationStatus{
			Nonce: consumedNonce, ExpiresAt: metav1.NewTime(s.Clock.Now().Add(claimHold).UTC().Truncate(time.Second)),
		}
		err := s.Client.Status().Patch(ctx, bc, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		if apierrors.IsConflict(err) {
			if gerr := s.Reader.Get(ctx, client.ObjectKeyFromObject(bc), bc); gerr != nil {
				return gerr
			}
		}
		return err
	})
}

// release drops a consumed attempt after a failed exchange, so the reconciler
// publishes a new link at once (best effort: it also does when the hold ends).
func (s *Server) release(ctx context.Context, bc *bankingv1alpha1.BankConnection) {
	_ = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := s.Reader.Get(ctx, client.ObjectKeyFromObject(bc), bc); err != nil {
			return err
		}
		if a := bc.Status.Authorization; a == nil || a.Nonce != consumedNonce {
			return nil
		}
		before := bc.DeepCopy()
		bc.Status.Authorization = nil
		return s.Client.Status().Patch(ctx, bc, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
}

// complete exchanges the code, stores the tokens first, then records the new consent.
func (s *Server) complete(ctx context.Context, bc *bankingv1alpha1.BankConnection, cb provider.Callback) error {
	pc, err := s.Providers.For(string(bc.Spec.Provider))
	if err != nil {
		return err
	}
	conn, err := connection.Resolve(ctx, s.Reader, bc, s.CallbackURL())
	if err != nil {
		return err
	}
	grant, err := pc.CompleteAuthorization(ctx, conn, cb)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	if grant.Tokens != nil {
		sealer, err := s.Tokens.Sealer(ctx, bc)
		if err != nil {
			return err
		}
		if err := s.Tokens.SaveGrant(ctx, bc, *grant.Tokens, sealer, now); err != nil {
			return err
		}
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := s.Reader.Get(ctx, client.ObjectKeyFromObject(bc), bc); err != nil {
			return err
		}
		before := bc.DeepCopy()
		// The consent's times are the reconciler's to read: the token Secret's grant
		// time tells it they changed.
		bc.Status.AuthorizationURL = ""
		bc.Status.ReconsentURL = ""
		bc.Status.Authorization = nil
		connection.MergeRefs(bc, grant.Refs)
		if grant.Tokens != nil {
			exp, last := metav1.NewTime(grant.Tokens.ExpiresAt.UTC().Truncate(time.Second)), metav1.NewTime(now.UTC().Truncate(time.Second))
			bc.Status.Token = &bankingv1alpha1.TokenStatus{ExpiresAt: &exp, LastRefreshAt: &last}
		}
		if err := s.Client.Status().Patch(ctx, bc, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("recording consent: %w", err)
		}
		return nil
	})
}

func (s *Server) declined(bc *bankingv1alpha1.BankConnection, providerError string) {
	if providerError == "access_denied" {
		s.event(bc, corev1.EventTypeNormal, bankingv1alpha1.ReasonUserDeclined, "Authorize", "The user cancelled the consent journey")
		return
	}
	s.event(bc, corev1.EventTypeWarning, "AuthorizationFailed", "Authorize", "The provider ended the consent journey with an error")
}

func (s *Server) event(bc *bankingv1alpha1.BankConnection, kind, reason, action, note string) {
	if s.Recorder != nil {
		s.Recorder.Eventf(bc, nil, kind, reason, action, "%s", note)
	}
}
