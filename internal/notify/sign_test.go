package notify_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/consent-operator/consent-operator/internal/notify"
)

// testSecret is a Standard Webhooks secret: whsec_ and base64 of 32 bytes.
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestSignatureVerifiesWithTheStandardWebhooksLibrary(t *testing.T) {
	key, err := notify.ParseSecret(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"connection.ready","timestamp":"2026-01-05T09:00:00Z","data":{}}`)
	for _, tc := range []struct {
		name   string
		mutate func(h http.Header, b []byte) []byte
		ok     bool
	}{
		{name: "as signed", mutate: func(_ http.Header, b []byte) []byte { return b }, ok: true},
		{name: "body changed", mutate: func(_ http.Header, b []byte) []byte { return append(b[:len(b)-1:len(b)-1], ' ', '}') }},
		{name: "id changed", mutate: func(h http.Header, b []byte) []byte { h.Set(notify.HeaderID, "msg_other"); return b }},
		{name: "timestamp changed", mutate: func(h http.Header, b []byte) []byte {
			h.Set(notify.HeaderTimestamp, "1")
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			// The library checks the timestamp against its own clock: sign with now.
			notify.SetHeaders(h, key, "msg_1", time.Now(), body)
			got := tc.mutate(h, append([]byte(nil), body...))
			err := wh.Verify(got, h)
			if tc.ok && err != nil {
				t.Fatalf("the library refused a signature of ours: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("the library accepted a modified message")
			}
		})
	}
}

func TestSignMatchesTheLibrarysSignature(t *testing.T) {
	key, _ := notify.ParseSecret(testSecret)
	wh, _ := standardwebhooks.NewWebhook(testSecret)
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for _, body := range []string{"", "{}", `{"a":"ü"}`} {
		want, err := wh.Sign("msg_x", at, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := notify.Sign(key, "msg_x", at, []byte(body)); got != want {
			t.Fatalf("body %q: signature %s, the library's %s", body, got, want)
		}
	}
}

func TestParseSecret(t *testing.T) {
	raw32 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	for _, tc := range []struct {
		name, in string
		want     error // nil: accepted
		anyErr   bool
	}{
		{name: "prefixed", in: "whsec_" + raw32},
		{name: "without the prefix", in: raw32},
		{name: "with a trailing newline (a file-made Secret)", in: "whsec_" + raw32 + "\n"},
		{name: "too short", in: "whsec_" + base64.StdEncoding.EncodeToString([]byte("short")), want: notify.ErrWeakSecret},
		{name: "not base64", in: "whsec_not base64!", anyErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := notify.ParseSecret(tc.in)
			switch {
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("error %v, want %v", err, tc.want)
			case tc.anyErr && err == nil:
				t.Fatal("accepted")
			case tc.want == nil && !tc.anyErr && (err != nil || len(key) != 32):
				t.Fatalf("key of %d bytes, error %v", len(key), err)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(tc.in, "whsec_")) {
				t.Fatalf("the error repeats the secret: %v", err)
			}
		})
	}
}
