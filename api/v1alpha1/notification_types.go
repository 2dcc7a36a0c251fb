package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NotificationDefaultsConfigMap is the well-known name of the ConfigMap that gives a
// namespace's default notification destination (keys NotificationDefaultsURL,
// NotificationDefaultsSecretName and NotificationDefaultsSecretKey), used by every
// BankConnection of the namespace without spec.notifications.
const NotificationDefaultsConfigMap = "consent-operator-notifications"

// Keys of the NotificationDefaultsConfigMap.
const (
	NotificationDefaultsURL        = "url"
	NotificationDefaultsSecretName = "signingSecretName"
	NotificationDefaultsSecretKey  = "signingSecretKey"
)

// NotificationSpec says where the operator sends signed events about a connection and
// its SyncJobs (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature).
type NotificationSpec struct {
	// URL receives the events as HTTP POSTs of JSON.
	// It must be https: the manager refuses http unless started with --notifications-allow-http, and refuses loopback, link-local and cloud metadata addresses unless --notifications-allow-cidrs admits them.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['https', 'http'] && url(self).getHostname() != ''",message="url must be an absolute https URL"
	URL string `json:"url"`

	// SigningSecretRef names the key of a Secret in this namespace that holds the signing secret: "whsec_" followed by base64 of 24 to 64 random bytes, as the Standard Webhooks libraries generate.
	// The operator reads it directly when it signs, never from another namespace.
	// +required
	SigningSecretRef SecretKeyReference `json:"signingSecretRef"`
}

// NotificationType names an event sent to the notification URL.
// +kubebuilder:validation:Enum=connection.ready;consent.expiring;consent.expired;consent.revoked;connection.reauthorization_required;connection.refresh_token_lost;sync.completed;sync.failed
type NotificationType string

const (
	NotificationConnectionReady         NotificationType = "connection.ready"
	NotificationConsentExpiring         NotificationType = "consent.expiring"
	NotificationConsentExpired          NotificationType = "consent.expired"
	NotificationConsentRevoked          NotificationType = "consent.revoked"
	NotificationReauthorizationRequired NotificationType = "connection.reauthorization_required"
	NotificationRefreshTokenLost        NotificationType = "connection.refresh_token_lost"
	NotificationSyncCompleted           NotificationType = "sync.completed"
	NotificationSyncFailed              NotificationType = "sync.failed"
)

// MaxPendingNotifications bounds status.notifications.pending: past it the oldest
// event is dropped (and counted), so a dead destination cannot grow the object.
const MaxPendingNotifications = 20

// NotificationStatus is the outbox of an object's events and the account of their
// delivery. The outbox is written in the same status write that records the
// transition it reports, so an event is never lost between the two, not even by a crash.
type NotificationStatus struct {
	// Pending are the events not yet acknowledged as delivered (or given up), oldest first.
	// Written by this object's own reconciler (BankConnection or SyncJob), which drops the ids the notifier acknowledged.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Pending []NotificationEvent `json:"pending,omitempty"`

	// Dropped counts events discarded unsent because pending was full.
	// Written by this object's own reconciler.
	// +optional
	Dropped int64 `json:"dropped,omitempty"`

	// Delivery is the notifier's account of sending pending.
	// Written by the notifier (the leader's delivery workers) only.
	// +optional
	Delivery *NotificationDelivery `json:"delivery,omitempty"`
}

// NotificationEvent is one event waiting to be delivered.
type NotificationEvent struct {
	// ID is the event's webhook-id: a hash of the object's UID, the event type and what the event is about (the consent, the run), so an event observed again has the same id.
	// +required
	// +kubebuilder:validation:MaxLength=64
	ID string `json:"id"`
	// Type is the event's type.
	// +required
	Type NotificationType `json:"type"`
	// OccurredAt is when the operator observed the transition.
	// +required
	OccurredAt metav1.Time `json:"occurredAt"`
	// Reason is the condition reason behind the event.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason,omitempty"`
	// Message is the condition message behind the event.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// ConsentExpiresAt is when the consent ends (consent events).
	// +optional
	ConsentExpiresAt *metav1.Time `json:"consentExpiresAt,omitempty"`
	// ReconsentURL is the link to send the user to (consent.expiring and the events that need a new consent).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	ReconsentURL string `json:"reconsentURL,omitempty"`
	// Run is the finished run (sync events).
	// +optional
	Run *NotificationRun `json:"run,omitempty"`
}

// NotificationRun describes the run a sync event is about.
type NotificationRun struct {
	// ID is the run's id.
	// +required
	ID string `json:"id"`
	// Result is how the run ended.
	// +required
	Result RunResult `json:"result"`
	// Counts are the records fetched and newly stored, per resource.
	// +optional
	// +listType=atomic
	Counts []ResourceCount `json:"counts,omitempty"`
	// Error says what failed.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Error string `json:"error,omitempty"`
}

// NotificationDelivery is the notifier's account of delivering an object's events.
type NotificationDelivery struct {
	// Acknowledged are ids of pending events that were delivered or given up; the reconciler removes them from pending.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=40
	Acknowledged []string `json:"acknowledged,omitempty"`
	// LastDelivered is the last event the destination accepted (a 2xx answer).
	// +optional
	LastDelivered *DeliveredNotification `json:"lastDelivered,omitempty"`
	// Failures counts the failed attempts of the oldest pending event.
	// +optional
	Failures int32 `json:"failures,omitempty"`
	// LastError says why the last attempt failed (empty after a success).
	// +optional
	// +kubebuilder:validation:MaxLength=512
	LastError string `json:"lastError,omitempty"`
	// NextAttemptAt is when the oldest pending event is tried again.
	// +optional
	NextAttemptAt *metav1.Time `json:"nextAttemptAt,omitempty"`
}

// DeliveredNotification names a delivered event.
type DeliveredNotification struct {
	// ID is the event's webhook-id.
	// +required
	ID string `json:"id"`
	// Type is the event's type.
	// +required
	Type NotificationType `json:"type"`
	// At is when the destination accepted it.
	// +required
	At metav1.Time `json:"at"`
}
