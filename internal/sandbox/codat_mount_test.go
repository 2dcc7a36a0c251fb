package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
	"github.com/consent-operator/consent-operator/internal/sandbox/codat"
)

// TestMountCodatSharesTheServer checks the Codat emulator answers on the TrueLayer
// sandbox's address and that its calls are counted and subject to fault injection.
func TestMountCodatSharesTheServer(t *testing.T) {
	srv, err := sandbox.New(sandbox.Options{
		Clients: []sandbox.Client{{ID: "c", Secret: "s", RedirectURIs: []string{"http://localhost/cb"}}},
		Clock:   clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.MountCodat(codat.Options{APIKeys: []string{"key-1"}}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	get := func(auth string) int {
		req, _ := http.NewRequest(http.MethodGet, hs.URL+"/integrations", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(codat.AuthorizationHeader("key-1")); got != http.StatusOK {
		t.Fatalf("GET /integrations with a valid key: %d", got)
	}
	if got := get(codat.AuthorizationHeader("wrong")); got != http.StatusUnauthorized {
		t.Fatalf("GET /integrations with a wrong key: %d", got)
	}
	if n := srv.CallTotal(sandbox.CallFilter{Client: "codat"}); n != 2 {
		t.Fatalf("counted %d Codat calls, want 2", n)
	}
}
