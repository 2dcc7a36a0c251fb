package tokensecret

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// Store reads and writes token Secrets. The manager caches token Secrets as metadata
// only: decisions are made from the annotations written with the tokens (Load), and
// the token values are read from the apiserver only when a provider call needs them
// (LoadTokens) and around a refresh, so a stale cache can never hand out an old token.
type Store struct {
	// Client writes, and reads token Secrets' metadata from the manager's cache
	// (metav1.PartialObjectMetadata: the cache holds no whole Secret).
	Client client.Client
	// Reader reads the apiserver directly (encryption keys, whole token Secrets).
	Reader client.Reader
}

// Snapshot is what a token Secret says about its tokens. A snapshot read from the
// cache holds metadata only: the facts below, but not the token values, which
// Tokens refuses to return (ErrNoTokenValues) until Store.LoadTokens has read them.
type Snapshot struct {
	// Meta is the Secret's metadata; nil when there is no Secret.
	Meta *metav1.ObjectMeta
	// HasTokens is false for a Secret created before the consent completed, or none.
	HasTokens bool
	// HasRefreshToken is true when the Secret holds a refresh token.
	HasRefreshToken bool
	// ExpiresAt is when the access token expires (zero when unknown).
	ExpiresAt time.Time
	// InFlight is true when a refresh was interrupted (see the package comment).
	InFlight bool
	// GrantedAt is when the consent journey that issued these tokens completed.
	GrantedAt time.Time
	// RefreshedAt is when these tokens were obtained (AnnotationRefreshedAt).
	RefreshedAt time.Time
	// Journey is the consent journey that issued these tokens (AnnotationJourney).
	Journey string

	// values is true when tokens holds the token values: the whole Secret was read
	// from the apiserver (secret is that Secret), or the tokens were just stored.
	values bool
	tokens provider.Tokens
	secret *corev1.Secret
}

// ErrNoTokenValues means a snapshot holds the token Secret's metadata only: the token
// values must be read with Store.LoadTokens.
var ErrNoTokenValues = errors.New("the token Secret snapshot holds metadata only, not the token values")

// HoldsValues reports whether the snapshot was read whole, token values included (or
// there is no Secret, so no values to hold).
func (s Snapshot) HoldsValues() bool { return s.values || s.Meta == nil }

// Tokens returns the token values: zero when the Secret holds none, ErrNoTokenValues
// when the snapshot holds metadata only.
func (s Snapshot) Tokens() (provider.Tokens, error) {
	if !s.HoldsValues() {
		return provider.Tokens{}, ErrNoTokenValues
	}
	return s.tokens, nil
}

// WithTokens returns the snapshot after t was stored (a refresh, an extension), its
// facts updated to t's.
func (s Snapshot) WithTokens(t provider.Tokens, obtained time.Time) Snapshot {
	s.tokens, s.HasTokens, s.HasRefreshToken, s.ExpiresAt = t, true, t.RefreshToken != "", t.ExpiresAt
	s.InFlight, s.RefreshedAt, s.values = false, obtained, true
	// The Secret read before is no longer the stored version: nothing may update it.
	s.secret = nil
	return s
}

// facts are what the reconciler decides on, as the annotations of a token Secret
// written by this version record them.
type facts struct {
	expiresAt       time.Time
	hasRefreshToken bool
}

// metadataFacts decodes the annotations Encode writes. ok is false when they are
// missing or malformed: a Secret written by an older version (or without tokens),
// whose facts are only in its data.
func metadataFacts(annotations map[string]string) (f facts, ok bool) {
	exp, okExp := annotations[AnnotationExpiresAt]
	hasRefresh, okRefresh := annotations[AnnotationHasRefreshToken]
	if !okExp || !okRefresh {
		return facts{}, false
	}
	var err error
	if f.expiresAt, err = time.Parse(time.RFC3339, exp); err != nil {
		return facts{}, false
	}
	if f.hasRefreshToken, err = strconv.ParseBool(hasRefresh); err != nil {
		return facts{}, false
	}
	return f, true
}

// snapshotOf is the metadata part of a snapshot, from meta's annotations.
func snapshotOf(meta *metav1.ObjectMeta, f facts) Snapshot {
	return Snapshot{Meta: meta, HasTokens: true, HasRefreshToken: f.hasRefreshToken, ExpiresAt: f.expiresAt,
		InFlight: RefreshInFlight(meta), GrantedAt: GrantedAt(meta), RefreshedAt: RefreshedAt(meta), Journey: Journey(meta)}
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

// secretGVK names Secrets for metadata reads from the cache.
var secretGVK = corev1.SchemeGroupVersion.WithKind("Secret")

// Load reads the token Secret. A missing Secret is an empty Snapshot, not an error.
//
// fresh reads the whole Secret from the apiserver: the snapshot holds the token values.
// Otherwise Load reads the Secret's metadata from the manager's cache and the snapshot
// holds the facts only (Snapshot.Tokens refuses; LoadTokens reads the values when a
// provider call needs them). A Secret without the annotations Encode writes (written
// by an older version, or holding no tokens) is read whole from the apiserver instead:
// one direct read, until the next write of its tokens adds them (no write is made just
// to add them).
func (st *Store) Load(ctx context.Context, bc *bankingv1alpha1.BankConnection, sealer *Sealer, fresh bool) (Snapshot, error) {
	if fresh {
		return st.loadWhole(ctx, bc, sealer)
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(secretGVK)
	if err := st.Client.Get(ctx, types.NamespacedName{Namespace: bc.Namespace, Name: Name(bc)}, m); err != nil {
		if apierrors.IsNotFound(err) {
			return Snapshot{}, nil
		}
		return Snapshot{}, fmt.Errorf("reading token Secret metadata: %w", err)
	}
	// The cache admits only Secrets of the token type (a field selector on the
	// server), so the metadata's owner is what is left to check.
	if !hasOwner(m, bc) {
		return Snapshot{}, &UnusableError{"Secret " + m.Name + " exists and is not this connection's token Secret"}
	}
	f, ok := metadataFacts(m.Annotations)
	if !ok {
		return st.loadWhole(ctx, bc, sealer) // the fallback described above
	}
	return snapshotOf(&m.ObjectMeta, f), nil
}

// LoadTokens returns the token values of *snap, reading the whole Secret from the
// apiserver when snap holds metadata only; *snap is then the whole snapshot, so a
// second call (within a reconcile) reads nothing.
func (st *Store) LoadTokens(ctx context.Context, bc *bankingv1alpha1.BankConnection, sealer *Sealer, snap *Snapshot) (provider.Tokens, error) {
	if snap.HoldsValues() {
		return snap.tokens, nil
	}
	whole, err := st.loadWhole(ctx, bc, sealer)
	if err != nil {
		return provider.Tokens{}, err
	}
	*snap = whole
	return whole.tokens, nil
}

// loadWhole reads the whole token Secret from the apiserver.
func (st *Store) loadWhole(ctx context.Context, bc *bankingv1alpha1.BankConnection, sealer *Sealer) (Snapshot, error) {
	s := &corev1.Secret{}
	if err := st.Reader.Get(ctx, types.NamespacedName{Namespace: bc.Namespace, Name: Name(bc)}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return Snapshot{}, nil
		}
		return Snapshot{}, fmt.Errorf("reading token Secret: %w", err)
	}
	if err := CheckOwned(s, bc); err != nil {
		return Snapshot{}, err
	}
	return decodeSnapshot(s, sealer)
}

// decodeSnapshot is the snapshot of a whole Secret. Its facts come from the annotations
// when present, as for a snapshot from the cache, so both views of one version of the
// Secret agree; from the data otherwise (a Secret written by an older version).
func decodeSnapshot(s *corev1.Secret, sealer *Sealer) (Snapshot, error) {
	t, ok, err := Decode(s, sealer)
	if err != nil {
		return Snapshot{}, &UnusableError{fmt.Sprintf("token Secret %s: %v", s.Name, err)}
	}
	f, annotated := metadataFacts(s.Annotations)
	if !annotated {
		f = facts{expiresAt: t.ExpiresAt, hasRefreshToken: t.RefreshToken != ""}
	}
	snap := snapshotOf(&s.ObjectMeta, f)
	snap.HasTokens = ok
	if !ok {
		snap.HasRefreshToken, snap.ExpiresAt = false, time.Time{}
	}
	snap.secret, snap.tokens, snap.values = s, t, true
	return snap, nil
}

// saveBackoff bounds Save's retries: about 10 s in all, enough to ride out a conflict
// storm or an apiserver restart.
var saveBackoff = wait.Backoff{Steps: 8, Duration: 50 * time.Millisecond, Factor: 2, Jitter: 0.2}

// Save stores t, obtained at obtained, creating the Secret if needed and clearing the
// in-flight marker. Every failure but an unusable Secret is retried with a fresh read:
// losing a rotated refresh token is not an option, so a conflict or a brief apiserver
// outage never makes Save give up at once.
func (st *Store) Save(ctx context.Context, bc *bankingv1alpha1.BankConnection, t provider.Tokens, sealer *Sealer, obtained time.Time) error {
	_, err := st.save(ctx, bc, t, sealer, grant{obtained: obtained}, saveStart{})
	return err
}

// SaveRefreshed is Save for the tokens of a refresh that marked (MarkInFlight) the
// Secret of snap: its first attempt updates that version without reading it again; a
// conflict is retried as Save does.
func (st *Store) SaveRefreshed(ctx context.Context, bc *bankingv1alpha1.BankConnection, t provider.Tokens, sealer *Sealer, obtained time.Time,
	marked Snapshot) error {
	_, err := st.save(ctx, bc, t, sealer, grant{obtained: obtained}, saveStart{from: marked.secret})
	return err
}

// SaveGrant stores the tokens of a completed consent journey, recording when it
// completed (so the reconciler reads the new consent's times) and which journey it
// was (so a reconcile that crashed after this write never redeems the code twice).
// prev is the snapshot the caller read: a Secret it did not see is created without
// reading first (a first consent; a Secret the cache did not show yet makes the create
// fail and is then read and updated). It returns the whole snapshot of what it stored.
func (st *Store) SaveGrant(ctx context.Context, bc *bankingv1alpha1.BankConnection, t provider.Tokens, sealer *Sealer, at time.Time,
	journeyNonce string, prev Snapshot) (Snapshot, error) {
	stored, err := st.save(ctx, bc, t, sealer, grant{at: at, journey: journeyNonce, obtained: at}, saveStart{absent: prev.Meta == nil})
	if err != nil {
		return Snapshot{}, err
	}
	return decodeSnapshot(stored, sealer)
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

// saveStart is what the first attempt of a save knows, so it need not read the Secret:
// that there is none (absent), or its latest version (from). Retries read.
type saveStart struct {
	absent bool
	from   *corev1.Secret
}

// save writes t into bc's token Secret and returns the Secret as stored.
func (st *Store) save(ctx context.Context, bc *bankingv1alpha1.BankConnection, t provider.Tokens, sealer *Sealer, g grant, start saveStart) (*corev1.Secret, error) {
	retriable := func(err error) bool {
		var unusable *UnusableError
		return !errors.As(err, &unusable) && ctx.Err() == nil
	}
	var stored *corev1.Secret
	err := retry.OnError(saveBackoff, retriable, func() error {
		s := &corev1.Secret{}
		var err error
		switch {
		case start.absent:
			err = apierrors.NewNotFound(corev1.Resource("secrets"), Name(bc))
		case start.from != nil:
			s = start.from.DeepCopy()
		default:
			err = st.Reader.Get(ctx, types.NamespacedName{Namespace: bc.Namespace, Name: Name(bc)}, s)
		}
		start = saveStart{} // a retry reads first
		if apierrors.IsNotFound(err) {
			s = New(bc)
			g.apply(s)
			if err := Encode(s, t, sealer); err != nil {
				return err
			}
			err = st.Client.Create(ctx, s)
			if apierrors.IsAlreadyExists(err) {
				// Created concurrently, or not in the caller's view yet: retry as an update.
				return apierrors.NewConflict(corev1.Resource("secrets"), s.Name, err)
			}
			stored = s
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
		stored = s
		return st.Client.Update(ctx, s)
	})
	if err != nil {
		return nil, fmt.Errorf("storing tokens in Secret %s: %w", Name(bc), err)
	}
	return stored, nil
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
	if snap.secret == nil {
		// An update of a Secret without its data would erase the tokens.
		return fmt.Errorf("marking refresh in flight: %w", ErrNoTokenValues)
	}
	s := snap.secret.DeepCopy()
	MarkRefreshInFlight(s, now)
	if err := st.Client.Update(ctx, s); err != nil {
		if apierrors.IsConflict(err) {
			return ErrChanged
		}
		return fmt.Errorf("marking refresh in flight on Secret %s: %w", s.Name, err)
	}
	snap.secret.ResourceVersion = s.ResourceVersion
	snap.secret.Annotations = s.Annotations
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
