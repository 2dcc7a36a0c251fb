package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/consent-operator/consent-operator/internal/webhooksig"
)

// asyncTask is a Data API v1 call made with async=true.
type asyncTask struct {
	id          string
	connID      string
	requestURI  string
	webhookURI  string
	requestedAt time.Time
	readyAt     time.Time // wall clock
	body        []byte    // the results envelope on success
	errCode     string    // set when the task failed
}

func (t *asyncTask) status(wall time.Time) string {
	switch {
	case wall.Before(t.readyAt):
		return "Running"
	case t.errCode != "":
		return "Failed"
	}
	return "Succeeded"
}

type asyncAccepted struct {
	ResultsURI string `json:"results_uri"`
	Status     string `json:"status"`
	TaskID     string `json:"task_id"`
}

type webhookBody struct {
	RequestTimestamp string `json:"request_timestamp"`
	RequestURI       string `json:"request_uri"`
	ResultsURI       string `json:"results_uri"`
	CredentialsID    string `json:"credentials_id"`
	TaskID           string `json:"task_id"`
	Status           string `json:"status"`
}

// maxTasks bounds the stored async results; the oldest are dropped first.
const maxTasks = 10000

// startTask answers 202 for an async call whose outcome (results or an
// error code) is already known, and delivers the webhook when it is ready.
func (s *Server) startTask(w http.ResponseWriter, r *http.Request, conn *connection, results any, errCode, webhookURI string) {
	t := &asyncTask{
		id:          newUUID(),
		connID:      conn.id,
		requestURI:  s.baseURL(r) + r.URL.RequestURI(),
		webhookURI:  webhookURI,
		requestedAt: s.clock.Now(),
		readyAt:     time.Now().Add(s.opts.AsyncDelay),
		errCode:     errCode,
	}
	if errCode == "" {
		body, err := marshalEnvelope(results)
		if err != nil {
			writeCatalogued(w, r, "internal_server_error")
			return
		}
		t.body = body
	}
	resultsURI := s.baseURL(r) + "/data/v1/results/" + t.id
	s.mu.Lock()
	if len(s.tasks) >= maxTasks {
		var oldest *asyncTask
		for _, x := range s.tasks {
			if oldest == nil || x.readyAt.Before(oldest.readyAt) {
				oldest = x
			}
		}
		delete(s.tasks, oldest.id)
	}
	s.tasks[t.id] = t
	s.mu.Unlock()
	if webhookURI != "" && !s.webhooksOff.Load() {
		wb := webhookBody{
			RequestTimestamp: ts(t.requestedAt), RequestURI: t.requestURI, ResultsURI: resultsURI,
			CredentialsID: conn.id, TaskID: t.id, Status: "Succeeded",
		}
		if errCode != "" {
			wb.Status = "Failed"
		}
		s.bg.Add(1)
		go s.deliverWebhook(webhookURI, s.webhookJWKSURL(r), wb, s.opts.AsyncDelay)
	}
	writeJSON(w, http.StatusAccepted, asyncAccepted{ResultsURI: resultsURI, Status: "Queued", TaskID: t.id})
}

// deliverWebhook POSTs the webhook after delay, signed with Tl-Signature naming
// jku, retrying a few times on failure (TrueLayer's retry policy for data webhooks
// is not published). Every attempt is signed afresh with its own timestamp.
func (s *Server) deliverWebhook(uri, jku string, body any, delay time.Duration) {
	defer s.bg.Done()
	payload, err := json.Marshal(body)
	if err != nil {
		s.log.Error("encode webhook", "error", err)
		return
	}
	target, err := url.Parse(uri)
	if err != nil {
		s.log.Warn("webhook URI unusable", "error", err)
		return
	}
	wait := delay
	for attempt := 1; attempt <= 3; attempt++ {
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.closing:
				t.Stop()
				return
			}
		}
		req, err := http.NewRequest(http.MethodPost, uri, bytes.NewReader(payload))
		if err != nil {
			s.log.Warn("webhook URI unusable", "error", err)
			return
		}
		if err := s.signWebhook(req, target.EscapedPath(), jku, payload); err != nil {
			s.log.Error("sign webhook", "error", err)
			return
		}
		resp, err := s.webhooks.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode < 300 {
				s.log.Info("webhook delivered", "attempt", attempt, "status", resp.StatusCode)
				return
			}
			s.log.Warn("webhook rejected", "attempt", attempt, "status", resp.StatusCode)
		} else {
			s.log.Warn("webhook failed", "attempt", attempt, "error", err)
		}
		wait = time.Duration(attempt) * time.Second
	}
}

// handleResults serves GET /data/v1/results/{task_id}.
func (s *Server) handleResults(w http.ResponseWriter, r *http.Request) {
	conn, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	t, found := s.tasks[r.PathValue("task_id")]
	s.mu.Unlock()
	if !found || t.connID != conn.id {
		writeError(w, r, http.StatusNotFound, "not_found", "Task not found.", nil)
		return
	}
	switch st := t.status(time.Now()); st {
	case "Running":
		writeJSON(w, http.StatusOK, v1Envelope{Results: []any{}, Status: st})
	case "Failed":
		e := ErrorCatalogue[t.errCode]
		noteError(r, t.errCode)
		writeJSON(w, http.StatusOK, map[string]any{
			"results": []any{}, "status": st, "error": e.Code, "error_description": e.Description, "error_details": map[string]any{},
		})
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(t.body)
	}
}

// WebhookJWKSPath is where the sandbox publishes the keys of its webhook signatures,
// as TrueLayer does at https://webhooks.truelayer[-sandbox].com/.well-known/jwks.
const WebhookJWKSPath = "/.well-known/jwks"

// webhookJWKSURL is the jku of webhooks caused by request r.
func (s *Server) webhookJWKSURL(r *http.Request) string { return s.baseURL(r) + WebhookJWKSPath }

// signWebhook sets the webhook's headers and its Tl-Signature over method, path,
// X-Tl-Webhook-Timestamp, Content-Type and body (TrueLayer's tl_version 2 scheme).
func (s *Server) signWebhook(req *http.Request, path, jku string, body []byte) error {
	stamp := s.clock.Now().UTC().Format(time.RFC3339)
	headers := []webhooksig.SignedHeader{{Name: "X-Tl-Webhook-Timestamp", Value: stamp}, {Name: "Content-Type", Value: "application/json"}}
	for _, h := range headers {
		req.Header.Set(h.Name, h.Value)
	}
	sig, err := s.webhookSigner.WithJKU(jku).Sign(req.Method, path, headers, body)
	if err != nil {
		return err
	}
	req.Header.Set(webhooksig.Header, sig)
	return nil
}

// handleWebhookJWKS serves GET WebhookJWKSPath.
func (s *Server) handleWebhookJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = w.Write(s.webhookSigner.JWKS())
}

// WebhookJWKS returns the JSON Web Key Set of the webhook signing key.
func (s *Server) WebhookJWKS() []byte { return s.webhookSigner.JWKS() }

// SignWebhook signs req, whose body is body, as the sandbox signs its webhooks,
// naming the JWKS at jku: for tests that stand in for TrueLayer sending a webhook.
func (s *Server) SignWebhook(req *http.Request, body []byte, jku string) error {
	return s.signWebhook(req, req.URL.EscapedPath(), jku, body)
}
