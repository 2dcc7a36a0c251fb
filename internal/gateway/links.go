package gateway

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/journey"
)

// Links are the gateway's public URLs. The manager publishes them (status.connectURL,
// the redirect URI, run webhook URLs) while the gateway, another process, serves them;
// both build them from the same public URL and journey keys.
type Links struct {
	// PublicURL is how users and providers reach the gateway, e.g. https://banking.example.com.
	PublicURL string
	// Keys seal the run webhook tokens.
	Keys *journey.Keys
}

// ConnectURL is the link handed to users for a journey: /connect/{secret}.
func (l Links) ConnectURL(secret string) string {
	return l.base() + "/connect/" + url.PathEscape(secret)
}

// CallbackURL is the OAuth redirect URI registered with the providers.
func (l Links) CallbackURL() string { return l.base() + "/callback" }

// WebhookURL is the async webhook URL of a SyncJob run that started at started. Its
// token is sealed with the journey keys (it shows nothing) and stops working
// WebhookTokenTTL after the run started.
func (l Links) WebhookURL(namespace, name, runID string, started time.Time) (string, error) {
	tok, err := l.Keys.SealWebhookToken(journey.WebhookToken{Namespace: namespace, Name: name, RunID: runID, Expiry: started.Add(WebhookTokenTTL)})
	if err != nil {
		return "", fmt.Errorf("sealing the webhook token of run %s: %w", runID, err)
	}
	return l.base() + "/webhooks/truelayer/" + tok, nil
}

func (l Links) base() string { return strings.TrimRight(l.PublicURL, "/") }
