package notify_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/consent-operator/consent-operator/internal/notify"
)

var loopback = notify.Policy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

func TestSendPostsASignedMessage(t *testing.T) {
	wh, _ := standardwebhooks.NewWebhook(testSecret)
	got := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			got <- errors.New("not a JSON POST")
		} else {
			got <- wh.Verify(body, r.Header)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	key, _ := notify.ParseSecret(testSecret)
	err := notify.NewSender(loopback, 5*time.Second).Send(context.Background(),
		notify.Message{URL: srv.URL + "/hooks", ID: "msg_1", Body: []byte(`{"type":"sync.completed"}`), Key: key, At: time.Now()})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatalf("the receiver could not verify the message: %v", err)
	}
}

func TestSendOutcomes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/hang", func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client hang up
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	key, _ := notify.ParseSecret(testSecret)
	localhostURL := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	for _, tc := range []struct {
		name    string
		policy  notify.Policy
		url     string
		outcome string
	}{
		{"a 503 is a failure", loopback, srv.URL + "/fail", notify.OutcomeFailed},
		{"a redirect is not followed", loopback, srv.URL + "/redirect", notify.OutcomeFailed},
		{"a hanging destination times out", loopback, srv.URL + "/hang", notify.OutcomeTimeout},
		{"a name resolving to loopback is refused when dialled", notify.Policy{AllowHTTP: true}, localhostURL + "/fail", notify.OutcomeRefused},
		{"http is refused without the flag", notify.Policy{}, srv.URL + "/fail", notify.OutcomeRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := notify.NewSender(tc.policy, 300*time.Millisecond).Send(context.Background(),
				notify.Message{URL: tc.url + "?token=app-secret", ID: "msg_1", Body: []byte(`{}`), Key: key, At: time.Now()})
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Outcome != tc.outcome {
				t.Fatalf("error %v, want outcome %s", err, tc.outcome)
			}
			if strings.Contains(err.Error(), "app-secret") {
				t.Fatalf("the error repeats the URL's query: %v", err)
			}
		})
	}
}
