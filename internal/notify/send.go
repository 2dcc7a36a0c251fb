package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Outcomes of a delivery attempt, the values of the metric's outcome label.
const (
	OutcomeDelivered     = "delivered"     // the destination answered 2xx
	OutcomeFailed        = "failed"        // a non-2xx answer or a network error: retried
	OutcomeTimeout       = "timeout"       // no answer within the timeout: retried
	OutcomeRefused       = "refused"       // the URL or its address is not allowed: retried (the spec may be fixed)
	OutcomeMisconfigured = "misconfigured" // the signing Secret is missing or unusable: retried
	OutcomeAbandoned     = "abandoned"     // given up after the maximum attempts
	OutcomeUndeliverable = "undeliverable" // no destination is configured any more
	OutcomeDropped       = "dropped"       // discarded unsent: the outbox was full
)

// Message is one signed POST.
type Message struct {
	URL  string
	ID   string
	Body []byte
	Key  []byte
	// At is the webhook-timestamp.
	At time.Time
}

// Sender posts messages, refusing destinations its policy does not allow. It follows
// no redirects (a redirect would lead around the policy) and uses no proxy.
type Sender struct {
	policy Policy
	client *http.Client
}

// maxResponseRead bounds what is read of an answer: only its status matters, and a
// hostile destination must not make the operator read without end.
const maxResponseRead = 4 << 10

// NewSender returns a Sender whose requests each take at most timeout.
func NewSender(policy Policy, timeout time.Duration) *Sender {
	dialer := &net.Dialer{Timeout: timeout, Control: policy.Control}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Sender{policy: policy, client: &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// DeliveryError is a failed attempt: its Outcome is the metric's label, and its
// message (which never holds the body or the key) goes to status.
type DeliveryError struct {
	Outcome string
	Err     error
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// Send posts m once.
func (s *Sender) Send(ctx context.Context, m Message) error {
	u, err := s.policy.CheckURL(m.URL)
	if err != nil {
		return &DeliveryError{Outcome: OutcomeRefused, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(m.Body))
	if err != nil {
		return &DeliveryError{Outcome: OutcomeRefused, Err: fmt.Errorf("building the request: %w", err)}
	}
	SetHeaders(req.Header, m.Key, m.ID, m.At, m.Body)
	req.Header.Set("User-Agent", "consent-operator-notifier")
	resp, err := s.client.Do(req)
	if err != nil {
		return classify(u.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &DeliveryError{Outcome: OutcomeFailed, Err: fmt.Errorf("%s answered HTTP %d", u.Host, resp.StatusCode)}
	}
	return nil
}

// classify names a transport error without repeating the URL (its path or query may
// carry the application's own token).
func classify(host string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, ErrRefused):
		return &DeliveryError{Outcome: OutcomeRefused, Err: err}
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return &DeliveryError{Outcome: OutcomeTimeout, Err: fmt.Errorf("%s did not answer in time", host)}
	}
	return &DeliveryError{Outcome: OutcomeFailed, Err: fmt.Errorf("posting to %s: %w", host, err)}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
