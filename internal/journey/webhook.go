package journey

import (
	"encoding/json"
	"fmt"
	"time"
)

// WebhookToken is what the path token of a SyncJob run's async webhook carries,
// sealed: the run it wakes and when it stops working. Sealed, it shows nothing (no
// namespace, name or run id in the URL handed to the provider).
type WebhookToken struct {
	Namespace string    `json:"ns"`
	Name      string    `json:"n"`
	RunID     string    `json:"r"`
	Expiry    time.Time `json:"e"`
}

// SealWebhookToken seals a webhook token with the current key.
func (k *Keys) SealWebhookToken(t WebhookToken) (string, error) {
	t.Expiry = t.Expiry.UTC().Truncate(time.Second)
	payload, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encoding webhook token: %w", err)
	}
	return k.seal(purposeWebhook, payload, nil)
}

// OpenWebhookToken opens a webhook token and checks its expiry (ErrExpired).
func (k *Keys) OpenWebhookToken(sealed string, now time.Time) (WebhookToken, error) {
	payload, err := k.open(purposeWebhook, sealed, nil)
	if err != nil {
		return WebhookToken{}, err
	}
	var t WebhookToken
	if err := json.Unmarshal(payload, &t); err != nil || t.Namespace == "" || t.Name == "" || t.RunID == "" || t.Expiry.IsZero() {
		return WebhookToken{}, ErrInvalid
	}
	if !now.Before(t.Expiry) {
		return t, ErrExpired
	}
	return t, nil
}
