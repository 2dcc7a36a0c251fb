package gateway

import (
	"encoding/json"
	"net/http"
	"regexp"
)

// V3WebhookPath is where TrueLayer sends Data API v3 webhooks: the one URI
// registered in TrueLayer's Console for the client (v3 has no per-request webhook
// URI).
const V3WebhookPath = "/webhooks/truelayer/v3"

// Data API v3 webhook types (data-api-v3.json, webhooks connection_management and
// transaction_requests).
const (
	V3ConnectionAuthorized        = "connection_authorized"
	V3ConnectionFailed            = "connection_failed"
	V3TransactionsRequestComplete = "transactions_request_completed"
	V3TransactionsRequestFailed   = "transactions_request_failed"
)

// V3Event is a Data API v3 webhook as far as the operator uses it. Nothing in it is
// trusted beyond naming what to look at: the operator then asks TrueLayer itself.
type V3Event struct {
	Type         string
	EventID      string
	ConnectionID string
	// Namespace and Name come from the connection's metadata (set when the
	// operator created it); connection_management events carry it.
	Namespace, Name string
	// RequestID names the transactions request (transaction_requests events).
	RequestID string
	// FailureReason is TrueLayer's reason of a failed connection or request.
	FailureReason string
	// Environment is the environment (Sandbox, Live) of the JWKS whose key signed
	// the webhook.
	Environment string
}

// v3WebhookBody covers both webhooks' schemas (ConnectionAuthorized,
// ConnectionFailed, TransactionsRequestWebhookCompleted/Failed).
type v3WebhookBody struct {
	Type          string            `json:"type"`
	EventVersion  int               `json:"event_version"`
	EventID       string            `json:"event_id"`
	ConnectionID  string            `json:"connection_id"`
	Metadata      map[string]string `json:"metadata"`
	RequestID     string            `json:"request_id"`
	FailureReason string            `json:"failure_reason"`
}

// v3ID bounds the ids and reasons taken from a v3 webhook (UUIDs, slugs).
var v3ID = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// V3WebhookHandler serves POST V3WebhookPath. Every webhook must carry a valid
// Tl-Signature (the v3 document marks it required) by a key of an allow-listed JWKS;
// an unsigned or invalid one gets 401 and wakes nothing. Like the v1 webhook it only
// wakes the operator: notify looks the named connection or run up and reports
// whether it knew it; the operator then confirms with TrueLayer using its own
// credentials. Any well-formed, verified event is answered 200 ("Webhook Handled"),
// known or not, so TrueLayer does not retry events of connections this operator
// does not manage.
func V3WebhookHandler(wh Webhooks, notify func(V3Event) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := wh.readBody(w, r)
		if !ok {
			return
		}
		env, ok := wh.verify(w, r, data)
		if !ok {
			return
		}
		var b v3WebhookBody
		if json.Unmarshal(data, &b) != nil || !validV3(b) {
			wh.count(webhookMalformed)
			http.Error(w, "malformed webhook body", http.StatusBadRequest)
			return
		}
		e := V3Event{Type: b.Type, EventID: b.EventID, ConnectionID: b.ConnectionID, RequestID: b.RequestID,
			Namespace: b.Metadata["namespace"], Name: b.Metadata["name"], Environment: env}
		if v3ID.MatchString(b.FailureReason) {
			e.FailureReason = b.FailureReason
		}
		result := webhookUnknown
		if notify(e) {
			result = webhookAccepted
		}
		wh.count(result)
		wh.Log.V(1).Info("Data API v3 webhook received", "type", e.Type, "connectionID", e.ConnectionID, "environment", env, "result", result)
		w.WriteHeader(http.StatusOK)
	})
}

func validV3(b v3WebhookBody) bool {
	if !v3ID.MatchString(b.EventID) || !v3ID.MatchString(b.ConnectionID) {
		return false
	}
	switch b.Type {
	case V3ConnectionAuthorized, V3ConnectionFailed:
		return true
	case V3TransactionsRequestComplete, V3TransactionsRequestFailed:
		return v3ID.MatchString(b.RequestID)
	}
	return false
}
