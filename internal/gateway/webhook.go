package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
)

// maxWebhookBody bounds a provider's webhook body.
const maxWebhookBody = 64 << 10

// WebhookToken is the per-run path token of a SyncJob's async webhook:
// base64url("namespace/name/runID") "." base64url(HMAC-SHA256). It names the run and
// proves the URL was issued by the operator; it is never stored.
func (k StateKey) WebhookToken(namespace, name, runID string) string {
	payload := []byte(namespace + "/" + name + "/" + runID)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(k.webhookMAC(payload))
}

// VerifyWebhookToken returns the SyncJob and run a token was issued for.
func (k StateKey) VerifyWebhookToken(token string) (job types.NamespacedName, runID string, ok bool) {
	if len(token) > MaxStateLength {
		return job, "", false
	}
	p, s, found := strings.Cut(token, ".")
	if !found {
		return job, "", false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(s)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, k.webhookMAC(payload)) {
		return job, "", false
	}
	parts := strings.SplitN(string(payload), "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return job, "", false
	}
	return types.NamespacedName{Namespace: parts[0], Name: parts[1]}, parts[2], true
}

// webhookMAC uses a different label than states, so a state can never pass as a
// webhook token or the reverse.
func (k StateKey) webhookMAC(payload []byte) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte("webhook\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// WebhookEvent is a verified webhook: the run it names and the task it reports.
type WebhookEvent struct {
	Job    types.NamespacedName
	RunID  string
	TaskID string
}

// WebhookHandler serves POST /webhooks/truelayer/{token}. The body is only a wake-up
// call: the operator then reads the results from the provider with its own
// credentials and the task ids it recorded, so a forged body cannot inject data.
// observe, when set, counts webhooks by result: accepted, unknown, malformed.
func WebhookHandler(key StateKey, notify func(WebhookEvent) bool, observe func(result string), log logr.Logger) http.Handler {
	count := func(result string) {
		if observe != nil {
			observe(result)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		job, runID, ok := key.VerifyWebhookToken(r.PathValue("token"))
		if !ok {
			count("unknown")
			http.Error(w, "unknown webhook", http.StatusNotFound)
			return
		}
		var body struct {
			TaskID string `json:"task_id"`
			Status string `json:"status"`
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
		if err != nil || len(data) > maxWebhookBody || json.Unmarshal(data, &body) != nil || body.TaskID == "" {
			count("malformed")
			http.Error(w, "malformed webhook body", http.StatusBadRequest)
			return
		}
		if !notify(WebhookEvent{Job: job, RunID: runID, TaskID: body.TaskID}) {
			count("unknown")
			http.Error(w, "unknown task", http.StatusNotFound)
			return
		}
		count("accepted")
		log.V(1).Info("Webhook received", "syncjob", job, "run", runID, "status", body.Status)
		w.WriteHeader(http.StatusAccepted)
	})
}

// WebhookURL is the async webhook URL of a SyncJob run.
func (s *Server) WebhookURL(namespace, name, runID string) string {
	return strings.TrimRight(s.PublicURL, "/") + "/webhooks/truelayer/" + s.Key.WebhookToken(namespace, name, runID)
}
