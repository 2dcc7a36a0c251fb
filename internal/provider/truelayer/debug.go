package truelayer

import (
	"context"
	"net/http"

	"github.com/consent-operator/consent-operator/internal/provider"
)

const endpointDebug = "POST /api/debug"

var _ provider.Debugger = (*Client)(nil)

// DebugID asks the auth server for a debug id of the session's connection (POST
// /api/debug with the access token in the body, authentication-server.json). Data
// API v3 connections have no user token and the v3 document no debug endpoint:
// their errors' trace ids are what support asks for.
func (c *Client) DebugID(ctx context.Context, conn provider.Connection, s provider.Session) (provider.DebugID, error) {
	const op = "debug id"
	if conn.DataAPI == DataAPIV3 {
		return provider.DebugID{}, invalidRequest(op, "Data API v3 has no debug ids; quote the Tl-Trace-Id (trace id) of the failed call")
	}
	tok, err := sessionToken(op, s)
	if err != nil {
		return provider.DebugID{}, err
	}
	h, err := c.hostsFor(conn.Environment)
	if err != nil {
		return provider.DebugID{}, invalidRequest(op, err.Error())
	}
	req, err := jsonRequest(http.MethodPost, endpointDebug, h.auth+"/api/debug", nil, map[string]string{"access_token": tok})
	if err != nil {
		return provider.DebugID{}, invalidRequest(op, err.Error())
	}
	req.Idempotent = true // a second id for the same token is harmless
	cl := call{op: op, kind: opData, req: req, secrets: []string{tok}}
	resp, err := c.send(ctx, conn, cl)
	if err != nil {
		return provider.DebugID{}, err
	}
	var out struct {
		DebugID    string `json:"debug_id"`
		ProviderID string `json:"provider_id"`
	}
	if err := decode(cl, resp, &out); err != nil {
		return provider.DebugID{}, err
	}
	if out.DebugID == "" {
		return provider.DebugID{}, malformed(op, resp.Status, "the answer has no debug_id")
	}
	return provider.DebugID{ID: truncateTo(out.DebugID, 256), ProviderID: truncateTo(out.ProviderID, 64)}, nil
}
