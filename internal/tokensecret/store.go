package tokensecret

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// Store reads and writes token Secrets. Reads for decisions go through the cache;
// everything that precedes or follows a provider call that rotates the refresh token
// reads the apiserver directly, so a stale cache can never hand out an old token.
type Store struct {
	// Client writes, and reads from the manager's cache (managed Secrets only).
	Client client.Client
	// Reader reads the apiserver directly (encryption keys, fresh token Secrets).
	Reader client.Reader
}

// Snapshot is a token Secret and the tokens it holds.
type Snapshot struct {
	Secret *corev1.Secret
	Tokens provider.Tokens
	// HasTokens is false for a Secret created before the consent completed, or none.
	HasTokens bool
	// InFlight is true when a refresh was interrupted (see the package comment).
	InFlight bool
	// GrantedAt is when the consent journey that issued these tokens completed.
	GrantedAt time.Time
	// RefreshedAt is when these tokens were obtained (AnnotationRefreshedAt).
	RefreshedAt time.Time
}

// Sealer returns the connection's Sealer, or nil when encryption is not configured.
func (st *Store) Sealer(ctx context.Context, bc *bankingv1alpha1.BankConnection) (*Sealer, error) {
	if bc.Spec.TokenSecret == nil || bc.Spec.TokenSecret.EncryptionKeyRef == nil {
		return nil, nil
	}
	ref := bc.Spec.TokenSecret.EncryptionKeyRef
	key := &corev1.Secret{}
	if err := st.Reader.Get(ctx, types.NamespacedName{Namespace: bc.Namespace, Name: ref.Name}, key); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &UnusableError{fmt.Sprintf("encryption key Secret %s not found", ref.Name)}
		}
		return nil, fmt.Errorf("reading encryption key Secret %s: %w", ref.Name, err)
	}
	raw, ok := key.Data[ref.Key]
	if !ok {
		return nil, &UnusableError{fmt.Sprintf("encryption key Secret %s has no key %q", ref.Name, ref.Key)}
	}
	var previous [][]byte
	if prev, ok := key.Data[ref.Key+PreviousKeySuffix]; ok {
		previous = append(previous, prev)
	}
	sealer, err := NewSealer(raw, previous...)
	if err != nil {
		return nil, &UnusableError{fmt.Sprintf("encryption key %s/%s: %v", ref.Name, ref.Key, err)}
	}
	return sealer, nil
}

// Load reads the token Secret. fresh bypasses the cache. A missing Secret is an empty
// Snapshot, not an error.
func (st *Store) Load(ctx context.Context, bc *bankingv1alpha1.BankConnection, sealer *Sealer, fresh bool) (Snapshot, error) {
	var r client.Reader = st.Client
	if fresh {
		r = st.Reader
	}
	s := &corev1.Secret{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: bc.Namespace, Name: Name(bc)}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return Snapshot{}, nil
		}
		return Snapshot{}, fmt.Errorf("reading token Secret: %w", err)
	}
	if err := CheckOwned(s, bc); err != nil {
		return Snapshot{}, err
	}
	t, ok, err := Decode(s, sealer)
	if err != nil {
		return Snapshot{}, &UnusableError{fmt.Sprintf("token Secret %s: %v", s.Name, err)}
	}
	return Snapshot{Secret: s, Tokens: t, HasTokens: ok, InFlight: RefreshInFlight(s), GrantedAt: GrantedAt(s), RefreshedAt: RefreshedAt(s)}, nil
}

// saveBackoff bounds Save's retries: about 10 s in all, enough to ride out a conflict
// storm or an apiserver restart.
var saveBackoff = wait.Backoff{Steps: 8, Duration: 50 * time.Millisecond, Factor: 2, Jitter: 0.2}

// Save stores t, obtained at obtained, creating the Secret if needed and clearing the
// in-flight marker. Every failure but an unusable Secret is retried with a fresh read:
// losing a rotated refresh token is not an option, so a conflict or a brief apiserver
// outage never makes Save give up at once.
func (st *Store) Save(ctx context.Context, bc *bankingv1alpha1.BankConnection, t provider.Tokens, sealer *Sealer, obtained time.Time) error {
	return st.save(ctx, bc, t, sealer, grant{obtained: obtained})
}

// SaveGrant stores the tokens of a completed consent journey, recording when it
// completed (so the reconciler reads the new consent's times) and which journey it
// was (so a reconcile that crashed after this write never redeems the code twice).
func (st *Store) SaveGrant(ctx context.Context, bc *bankingv1alpha1.BankConnection, t provider.Tokens, sealer *Sealer, at time.Time, journeyNonce string) error {
	return st.save(ctx, bc, t, sealer, grant{at: at, journey: journeyNonce, obtained: at})
}

// grant is what a write of tokens records on the Secret: when they were obtained and,
// for a consent journey, when and by which journey they were granted.
type grant struct {
	at       time.Time
	journey  string
	obtained time.Time
}

func (g grant) apply(s *corev1.Secret) {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	if !g.obtained.IsZero() {
		s.Annotations[AnnotationRefreshedAt] = g.obtained.UTC().Format(time.RFC3339)
	}
	if g.at.IsZero() {
		return
	}
	setGrantedAt(s, g.at)
	s.Annotations[AnnotationJourney] = g.journey
}

func (st *Store) save(ctx context.Context, bc *bankingv1alpha1.BankConnection, t provider.Tokens, sealer *Sealer, g grant) error {
	retriable := func(err error) bool {
		var unusable *UnusableError
		return !errors.As(err, &unusable) && ctx.Err() == nil
	}
	err := retry.OnError(saveBackoff, retriable, func() error {
		s := &corev1.Secret{}
		err := st.Reader.Get(ctx, types.NamespacedName{Namespace: bc.Namespace, Name: Name(bc)}, s)
		if apierrors.IsNotFound(err) {
			s = New(bc)
			g.apply(s)
			if err := Encode(s, t, sealer); err != nil {
				return err
			}
			err = st.Client.Create(ctx, s)
			if apierrors.IsAlreadyExists(err) {
				// Created concurrently: retry as an update.
				return apierrors.NewConflict(corev1.Resource("secrets"), s.Name, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		if err := CheckOwned(s, bc); err != nil {
			return err
		}
		Adopt(s, bc)
		ClearRefreshInFlight(s)
		g.apply(s)
		if err := Encode(s, t, sealer); err != nil {
			return err
		}
		return st.Client.Update(ctx, s)
	})
	if err != nil {
		return fmt.Errorf("storing tokens in Secret %s: %w", Name(bc), err)
	}
	return nil
}

// UnusableError means the token Secret cannot be used as configured (not owned by the
// connection, encryption key missing or wrong); a human must act.
type UnusableError struct{ msg string }

func (e *UnusableError) Error() string { return e.msg }

// ErrChanged means the token Secret changed since it was read; the caller reloads.
var ErrChanged = errors.New("token Secret changed since it was read")

// MarkInFlight sets the in-flight marker on snap's Secret, failing with ErrChanged if
// the Secret is no longer the version snap read: the refresh token about to be used is
// then known to be the latest one.
func (st *Store) MarkInFlight(ctx context.Context, snap Snapshot, now time.Time) error {
	s := snap.Secret.DeepCopy()
	MarkRefreshInFlight(s, now)
	if err := st.Client.Update(ctx, s); err != nil {
		if apierrors.IsConflict(err) {
			return ErrChanged
		}
		return fmt.Errorf("marking refresh in flight on Secret %s: %w", s.Name, err)
	}
	snap.Secret.ResourceVersion = s.ResourceVersion
	snap.Secret.Annotations = s.Annotations
	return nil
}

// ClearInFlight removes the marker after a refresh the provider answered with an
// error (the old refresh token is still the valid one).
func (st *Store) ClearInFlight(ctx context.Context, bc *bankingv1alpha1.BankConnection) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s := &corev1.Secret{}
		if err := st.Reader.Get(ctx, types.NamespacedName{Namespace: bc.Namespace, Name: Name(bc)}, s); err != nil {
			return client.IgnoreNotFound(err)
		}
		if !RefreshInFlight(s) {
			return nil
		}
		ClearRefreshInFlight(s)
		return st.Client.Update(ctx, s)
	})
}
