package notify

import (
	"encoding/json"
	"fmt"
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// Payload is the JSON body of every event, in the Standard Webhooks shape: the type,
// when it happened, and the data of that type.
type Payload struct {
	Type      bankingv1alpha1.NotificationType `json:"type"`
	Timestamp time.Time                        `json:"timestamp"`
	Data      Data                             `json:"data"`
}

// Data says which connection (and SyncJob) the event is about, and what happened.
type Data struct {
	Namespace        string     `json:"namespace"`
	Connection       string     `json:"connection"`
	UserRef          string     `json:"userRef,omitempty"`
	Provider         string     `json:"provider,omitempty"`
	SyncJob          string     `json:"syncJob,omitempty"`
	Reason           string     `json:"reason,omitempty"`
	Message          string     `json:"message,omitempty"`
	ConsentExpiresAt *time.Time `json:"consentExpiresAt,omitempty"`
	ReconsentURL     string     `json:"reconsentURL,omitempty"`
	Run              *Run       `json:"run,omitempty"`
}

// Run is a finished SyncJob run.
type Run struct {
	ID     string  `json:"id"`
	Result string  `json:"result"`
	Counts []Count `json:"counts"`
	Error  string  `json:"error,omitempty"`
}

// Count is what a run fetched and newly stored of one resource.
type Count struct {
	Resource string `json:"resource"`
	Fetched  int64  `json:"fetched"`
	Stored   int64  `json:"stored"`
}

// Subject names what an event is about.
type Subject struct {
	Namespace, Connection, UserRef, Provider, SyncJob string
}

// Body is the JSON an event is sent as. It depends only on the event recorded in the
// outbox and its subject, so every retry sends the same bytes.
func Body(ev bankingv1alpha1.NotificationEvent, s Subject) ([]byte, error) {
	p := Payload{Type: ev.Type, Timestamp: ev.OccurredAt.UTC(), Data: Data{
		Namespace: s.Namespace, Connection: s.Connection, UserRef: s.UserRef, Provider: s.Provider, SyncJob: s.SyncJob,
		Reason: ev.Reason, Message: ev.Message, ReconsentURL: ev.ReconsentURL,
	}}
	if ev.ConsentExpiresAt != nil {
		t := ev.ConsentExpiresAt.UTC()
		p.Data.ConsentExpiresAt = &t
	}
	if r := ev.Run; r != nil {
		run := &Run{ID: r.ID, Result: string(r.Result), Error: r.Error, Counts: []Count{}}
		for _, c := range r.Counts {
			run.Counts = append(run.Counts, Count{Resource: string(c.Resource), Fetched: c.Fetched, Stored: c.Stored})
		}
		p.Data.Run = run
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding the %s event: %w", ev.Type, err)
	}
	return b, nil
}
