package truelayer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
)

// TestDebugID: POST /api/debug answers a debug id the sandbox (as TrueLayer's
// support) traces to the connection; v3 has none; a token the auth server does
// not know is an error without the token in it.
func TestDebugID(t *testing.T) {
	e := newEnv(t, nil, nil)
	conn := e.conn(truelayer.DataAPIV1)
	tok, id := e.connectV1(conn)
	d, err := e.client.DebugID(context.Background(), conn, provider.Session{Tokens: &tok})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := e.srv.DebugIDConnection(d.ID); !ok || got != id || d.ProviderID == "" || !strings.HasPrefix(d.ID, d.ProviderID+"|") {
		t.Fatalf("debug id %+v: traced to %q (%v), want connection %s", d, got, ok, id)
	}

	_, err = e.client.DebugID(context.Background(), e.conn(truelayer.DataAPIV3), provider.Session{})
	wantErr(t, err, provider.ClassInvalidRequest, "")

	bad := provider.Tokens{AccessToken: "not-a-token"}
	_, err = e.client.DebugID(context.Background(), conn, provider.Session{Tokens: &bad})
	pe, ok := provider.AsError(err)
	if !ok || pe.Status != 401 {
		t.Fatalf("unknown token: %v", err)
	}
	hasTraceID(t, pe)
	noSecrets(t, err, "not-a-token", tok.AccessToken)
}
