package controllers

import (
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/notify"
)

// stallNotifications are the Stalled reasons an application is told about, and as
// which event.
var stallNotifications = map[string]bankingv1alpha1.NotificationType{
	bankingv1alpha1.ReasonConsentExpired:          bankingv1alpha1.NotificationConsentExpired,
	bankingv1alpha1.ReasonConsentRevoked:          bankingv1alpha1.NotificationConsentRevoked,
	bankingv1alpha1.ReasonReauthorizationRequired: bankingv1alpha1.NotificationReauthorizationRequired,
	bankingv1alpha1.ReasonRefreshInterrupted:      bankingv1alpha1.NotificationRefreshTokenLost,
}

// connectionEvents are the events of what changed between before and after, read
// from the conditions the reconcile just computed (the same comparison that records
// Kubernetes events): Ready became True, ConsentExpiring became True, or Stalled
// became True for a reason the user must act on.
func connectionEvents(before, after *bankingv1alpha1.BankConnection, now time.Time) []bankingv1alpha1.NotificationEvent {
	var out []bankingv1alpha1.NotificationEvent
	st := after.Status
	consentEnd := (*metav1.Time)(nil)
	if st.Consent != nil {
		consentEnd = st.Consent.ExpiresAt
	}
	newEvent := func(t bankingv1alpha1.NotificationType, c *metav1.Condition, subject string) bankingv1alpha1.NotificationEvent {
		return bankingv1alpha1.NotificationEvent{
			ID: notify.EventID(string(after.UID), string(t), subject), Type: t, OccurredAt: metav1.NewTime(now.UTC().Truncate(time.Second)),
			Reason: c.Reason, Message: truncate(c.Message, 1024), ConsentExpiresAt: consentEnd,
		}
	}
	if c := becameTrue(before, after, bankingv1alpha1.ConditionReady); c != nil && c.Reason == bankingv1alpha1.ReasonAuthorized {
		out = append(out, newEvent(bankingv1alpha1.NotificationConnectionReady, c, consentSubject(after, c)))
	}
	if c := becameTrue(before, after, bankingv1alpha1.ConditionConsentExpiring); c != nil {
		ev := newEvent(bankingv1alpha1.NotificationConsentExpiring, c, timeSubject(consentEnd, c))
		ev.ReconsentURL = st.ReconsentURL
		out = append(out, ev)
	}
	if c := apimeta.FindStatusCondition(st.Conditions, bankingv1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		was := apimeta.FindStatusCondition(before.Status.Conditions, bankingv1alpha1.ConditionStalled)
		if t, ok := stallNotifications[c.Reason]; ok && (was == nil || was.Status != metav1.ConditionTrue || was.Reason != c.Reason) {
			ev := newEvent(t, c, consentSubject(after, c))
			ev.ReconsentURL = st.ReconsentURL
			out = append(out, ev)
		}
	}
	return out
}

// becameTrue returns after's condition when it is True and was not in before.
func becameTrue(before, after *bankingv1alpha1.BankConnection, condType string) *metav1.Condition {
	c := apimeta.FindStatusCondition(after.Status.Conditions, condType)
	if c == nil || c.Status != metav1.ConditionTrue || apimeta.IsStatusConditionTrue(before.Status.Conditions, condType) {
		return nil
	}
	return c
}

// consentSubject names the consent an event is about (its grant, else its creation),
// so the same transition observed again gets the same id; the condition's transition
// time stands in before any consent is known.
func consentSubject(bc *bankingv1alpha1.BankConnection, c *metav1.Condition) string {
	if cs := bc.Status.Consent; cs != nil {
		if cs.GrantedAt != nil {
			return "granted:" + cs.GrantedAt.UTC().Format(time.RFC3339)
		}
		if cs.CreatedAt != nil {
			return "created:" + cs.CreatedAt.UTC().Format(time.RFC3339)
		}
	}
	return "since:" + c.LastTransitionTime.UTC().Format(time.RFC3339)
}

// timeSubject names an event by a time it is about (the consent's end for a warning).
func timeSubject(t *metav1.Time, c *metav1.Condition) string {
	if t != nil {
		return "at:" + t.UTC().Format(time.RFC3339)
	}
	return "since:" + c.LastTransitionTime.UTC().Format(time.RFC3339)
}
