package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"

	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/webhooksig"
)

// maxWebhookBody bounds a provider's webhook body.
const maxWebhookBody = 64 << 10

// WebhookTokenTTL bounds a run's webhook token from the run's start. A provider
// answers an async call within minutes; a run still waiting a day later has its
// results collected by polling, so the URL given to the provider stops working.
const WebhookTokenTTL = 24 * time.Hour

// signatureTimeout bounds verifying one signature (a JWKS fetch at most).
const signatureTimeout = 10 * time.Second

// Webhook results counted by Webhooks.Observe.
const (
	webhookAccepted        = "accepted"
	webhookUnknown         = "unknown"
	webhookMalformed       = "malformed"
	webhookUnauthenticated = "unauthenticated"
)

// Webhooks holds what the webhook handlers share.
type Webhooks struct {
	// Keys opens the per-run webhook tokens (sealed by Server.WebhookURL).
	Keys  *journey.Keys
	Clock Clock
	// Signatures verifies Tl-Signature. Data API v3 webhooks are refused without it;
	// v1 async webhooks are checked when they carry one.
	Signatures *webhooksig.Verifier
	// Observe, when set, counts webhooks by result: accepted, unknown, malformed,
	// unauthenticated.
	Observe func(result string)
	Log     logr.Logger
}

func (wh Webhooks) count(result string) {
	if wh.Observe != nil {
		wh.Observe(result)
	}
}

// readBody reads a bounded webhook body; false means it was refused with 400.
func (wh Webhooks) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil || len(data) > maxWebhookBody {
		wh.count(webhookMalformed)
		http.Error(w, "malformed webhook body", http.StatusBadRequest)
		return nil, false
	}
	return data, true
}

// verify checks the request's Tl-Signature over its method, path, signed headers and
// body. False means it was refused: 401 for a missing or invalid signature, 503 when
// the allowed keys cannot be read (the provider retries).
func (wh Webhooks) verify(w http.ResponseWriter, r *http.Request, body []byte) (environment string, ok bool) {
	if wh.Signatures == nil {
		wh.count(webhookUnauthenticated)
		http.Error(w, "webhook signatures cannot be verified", http.StatusUnauthorized)
		return "", false
	}
	ctx, cancel := context.WithTimeout(r.Context(), signatureTimeout)
	defer cancel()
	env, err := wh.Signatures.Verify(ctx, webhooksig.Request{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header, Body: body})
	if err == nil {
		return env, true
	}
	wh.count(webhookUnauthenticated)
	if errors.Is(err, webhooksig.ErrKeysUnavailable) {
		wh.Log.Error(err, "Webhook signing keys unavailable")
		http.Error(w, "webhook signing keys unavailable", http.StatusServiceUnavailable)
		return "", false
	}
	wh.Log.V(1).Info("Webhook refused", "reason", err.Error())
	http.Error(w, "invalid webhook signature", http.StatusUnauthorized)
	return "", false
}

// WebhookEvent is a verified webhook: the run it names and the task it reports.
type WebhookEvent struct {
	Job    types.NamespacedName
	RunID  string
	TaskID string
}

// WebhookHandler serves POST /webhooks/truelayer/{token}. The token, sealed by the
// operator, names the run and expires with it; a webhook that also carries a
// Tl-Signature must verify (whether TrueLayer signs v1 webhooks is unconfirmed, so an
// unsigned one is taken on its token alone). The body is only a wake-up call: the
// operator then reads the results from the provider with its own credentials and the
// task ids it recorded, so a forged body cannot inject data.
func WebhookHandler(wh Webhooks, notify func(WebhookEvent) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := wh.Keys.OpenWebhookToken(r.PathValue("token"), wh.Clock.Now())
		if err != nil {
			// Expired or never issued: the same answer, which tells nothing.
			wh.count(webhookUnknown)
			http.Error(w, "unknown webhook", http.StatusNotFound)
			return
		}
		data, ok := wh.readBody(w, r)
		if !ok {
			return
		}
		if r.Header.Get(webhooksig.Header) != "" {
			if _, ok := wh.verify(w, r, data); !ok {
				return
			}
		}
		var body struct {
			TaskID string `json:"task_id"`
			Status string `json:"status"`
		}
		if json.Unmarshal(data, &body) != nil || body.TaskID == "" {
			wh.count(webhookMalformed)
			http.Error(w, "malformed webhook body", http.StatusBadRequest)
			return
		}
		job := types.NamespacedName{Namespace: tok.Namespace, Name: tok.Name}
		if !notify(WebhookEvent{Job: job, RunID: tok.RunID, TaskID: body.TaskID}) {
			wh.count(webhookUnknown)
			http.Error(w, "unknown task", http.StatusNotFound)
			return
		}
		wh.count(webhookAccepted)
		wh.Log.V(1).Info("Webhook received", "syncjob", job, "run", tok.RunID, "status", body.Status)
		w.WriteHeader(http.StatusAccepted)
	})
}
