package tokensecret

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/provider"
)

// Keys of the token Secret.
const (
	KeyAccessToken  = "access_token"
	KeyRefreshToken = "refresh_token"
	KeyTokenType    = "token_type"
	KeyExpiresAt    = "expires_at"
	KeyScope        = "scope"
)

// AnnotationRefreshInFlight is set on the token Secret while a refresh is at the
// provider; its value is the time the refresh started (RFC 3339).
const AnnotationRefreshInFlight = "banking.consent-operator.dev/refresh-in-flight"

// AnnotationGrantedAt records when the Secret's tokens were granted by a consent
// journey (RFC 3339). Refreshes keep it; a new consent journey replaces it.
const AnnotationGrantedAt = "banking.consent-operator.dev/granted-at"

// AnnotationRefreshedAt records when the Secret's tokens were obtained (RFC 3339): a
// refresh's start, a consent journey's completion, an extension. It is written with
// the tokens, in the same write, so a refresh costs no status write: the connection's
// status changes only when something its readers act on does.
const AnnotationRefreshedAt = "banking.consent-operator.dev/refreshed-at"

// AnnotationExpiresAt records when the Secret's access token expires (RFC 3339), the
// value of its expires_at key. AnnotationHasRefreshToken is "true" when the Secret
// holds a refresh token, else "false". Both are written by the BankConnection
// reconciler, with the tokens, in the same write (Encode): the manager caches token
// Secrets as metadata only, and these are what it decides on at every reconcile
// without reading the tokens themselves (see Store.Load).
const (
	AnnotationExpiresAt       = "banking.consent-operator.dev/expires-at"
	AnnotationHasRefreshToken = "banking.consent-operator.dev/has-refresh-token"
)

// RefreshedAt returns when s's tokens were obtained: the refreshed-at annotation, else
// the grant time, else zero.
func RefreshedAt(s metav1.Object) time.Time {
	if t, err := time.Parse(time.RFC3339, s.GetAnnotations()[AnnotationRefreshedAt]); err == nil {
		return t
	}
	return GrantedAt(s)
}

// AnnotationJourney records which consent journey (its nonce) issued the Secret's
// tokens. Written with the tokens, by the BankConnection reconciler.
const AnnotationJourney = "banking.consent-operator.dev/journey"

// Journey returns the journey recorded on s, "" when none.
func Journey(s metav1.Object) string { return s.GetAnnotations()[AnnotationJourney] }

// GrantedAt returns the grant time recorded on s, zero when none.
func GrantedAt(s metav1.Object) time.Time {
	t, err := time.Parse(time.RFC3339, s.GetAnnotations()[AnnotationGrantedAt])
	if err != nil {
		return time.Time{}
	}
	return t
}

func setGrantedAt(s *corev1.Secret, at time.Time) {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[AnnotationGrantedAt] = at.UTC().Format(time.RFC3339)
}

// sealedKeys are encrypted when a Sealer is configured; the others are not secret.
var sealedKeys = []string{KeyAccessToken, KeyRefreshToken}

// Name returns the token Secret's name for bc.
func Name(bc *bankingv1alpha1.BankConnection) string {
	if bc.Spec.TokenSecret != nil && bc.Spec.TokenSecret.Name != "" {
		return bc.Spec.TokenSecret.Name
	}
	return bc.Name + "-token"
}

// Decode reads the tokens from a token Secret. A Secret without an access token holds
// no tokens (ok is false).
func Decode(s *corev1.Secret, sealer *Sealer) (t provider.Tokens, ok bool, err error) {
	if len(s.Data[KeyAccessToken]) == 0 {
		return provider.Tokens{}, false, nil
	}
	get := func(key string) (string, error) {
		v := s.Data[key]
		if sealer == nil || len(v) == 0 || !contains(sealedKeys, key) {
			return string(v), nil
		}
		plain, err := sealer.open(v, aad(s, key))
		if err != nil {
			return "", fmt.Errorf("key %s: %w", key, err)
		}
		return string(plain), nil
	}
	if t.AccessToken, err = get(KeyAccessToken); err != nil {
		return provider.Tokens{}, false, err
	}
	if t.RefreshToken, err = get(KeyRefreshToken); err != nil {
		return provider.Tokens{}, false, err
	}
	t.TokenType = string(s.Data[KeyTokenType])
	t.Scope = string(s.Data[KeyScope])
	if exp := string(s.Data[KeyExpiresAt]); exp != "" {
		if t.ExpiresAt, err = time.Parse(time.RFC3339, exp); err != nil {
			return provider.Tokens{}, false, fmt.Errorf("key %s is not an RFC 3339 time", KeyExpiresAt)
		}
	}
	return t, true, nil
}

// Encode writes t into s's data, replacing any previous tokens, and the facts the
// reconciler decides on into its annotations (AnnotationExpiresAt,
// AnnotationHasRefreshToken), so that the one write storing the tokens records both.
func Encode(s *corev1.Secret, t provider.Tokens, sealer *Sealer) error {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[AnnotationExpiresAt] = t.ExpiresAt.UTC().Format(time.RFC3339)
	s.Annotations[AnnotationHasRefreshToken] = strconv.FormatBool(t.RefreshToken != "")
	data := map[string]string{
		KeyAccessToken:  t.AccessToken,
		KeyRefreshToken: t.RefreshToken,
		KeyTokenType:    t.TokenType,
		KeyScope:        t.Scope,
		KeyExpiresAt:    t.ExpiresAt.UTC().Format(time.RFC3339),
	}
	s.Data = make(map[string][]byte, len(data))
	for k, v := range data {
		if v == "" {
			continue
		}
		if sealer != nil && contains(sealedKeys, k) {
			sealed, err := sealer.seal([]byte(v), aad(s, k))
			if err != nil {
				return err
			}
			s.Data[k] = sealed
			continue
		}
		s.Data[k] = []byte(v)
	}
	return nil
}

// New returns an empty token Secret for bc: typed, labelled as managed and owned by bc.
func New(bc *bankingv1alpha1.BankConnection) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: bc.Namespace, Name: Name(bc)},
		Type:       bankingv1alpha1.SecretTypeToken,
	}
	Adopt(s, bc)
	return s
}

// Adopt makes s a managed token Secret of bc (labels, type and controller ownerRef).
func Adopt(s *corev1.Secret, bc *bankingv1alpha1.BankConnection) {
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Labels[bankingv1alpha1.LabelManagedBy] = bankingv1alpha1.ManagedByValue
	s.Labels[bankingv1alpha1.LabelConnection] = bc.Name
	if !hasOwner(s, bc) {
		isController, block := true, true
		s.OwnerReferences = append(s.OwnerReferences, metav1.OwnerReference{
			APIVersion:         bankingv1alpha1.GroupVersion.String(),
			Kind:               "BankConnection",
			Name:               bc.Name,
			UID:                bc.UID,
			Controller:         &isController,
			BlockOwnerDeletion: &block,
		})
	}
}

// CheckOwned refuses a Secret that exists but belongs to something else, so the
// operator never overwrites a Secret a user created with the same name.
func CheckOwned(s *corev1.Secret, bc *bankingv1alpha1.BankConnection) error {
	if s.Type != bankingv1alpha1.SecretTypeToken || !hasOwner(s, bc) {
		return &UnusableError{"Secret " + s.Name + " exists and is not this connection's token Secret"}
	}
	return nil
}

// MarkRefreshInFlight sets the in-flight marker.
func MarkRefreshInFlight(s *corev1.Secret, now time.Time) {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[AnnotationRefreshInFlight] = now.UTC().Format(time.RFC3339)
}

// ClearRefreshInFlight removes the in-flight marker.
func ClearRefreshInFlight(s *corev1.Secret) { delete(s.Annotations, AnnotationRefreshInFlight) }

// RefreshInFlight reports whether the marker is set.
func RefreshInFlight(s metav1.Object) bool {
	_, ok := s.GetAnnotations()[AnnotationRefreshInFlight]
	return ok
}

func hasOwner(s metav1.Object, bc *bankingv1alpha1.BankConnection) bool {
	for _, o := range s.GetOwnerReferences() {
		if o.UID == bc.UID && o.Kind == "BankConnection" {
			return true
		}
	}
	return false
}

func aad(s *corev1.Secret, key string) string {
	return strings.Join([]string{s.Namespace, s.Name, key}, "/")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
