package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
)

// debugIDResponse is DebugIdResponse of the auth server's document.
type debugIDResponse struct {
	CredentialsID string `json:"credentials_id"`
	DebugID       string `json:"debug_id"`
	ProviderID    string `json:"provider_id"`
}

// handleDebugID serves POST /api/debug {"access_token"}: a debug id that TrueLayer's
// support can use to find the data access attempt of that token. The document
// gives it no security scheme: the token in the body identifies the connection. A
// token the sandbox signed is accepted even once expired (it is the failed attempt
// that needs debugging); the id has the form of the document's example,
// "<provider_id>|<base64url>", and is new on every request.
func (s *Server) handleDebugID(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var req struct {
		AccessToken string `json:"access_token"`
	}
	if err != nil || json.Unmarshal(body, &req) != nil || req.AccessToken == "" {
		writeError(w, r, http.StatusBadRequest, "invalid_request", "Invalid request", map[string]any{"reason": "a JSON body with access_token is required"})
		return
	}
	var cl accessClaims
	if err := s.signer.verify(req.AccessToken, &cl); err != nil {
		writeError(w, r, http.StatusUnauthorized, "unauthorized", "Unauthorized", map[string]any{"reason": "Invalid access_token"})
		return
	}
	conn, ok := s.connections.get(cl.CredentialsID)
	if !ok {
		writeError(w, r, http.StatusBadRequest, "invalid_request", "Invalid request", map[string]any{"reason": "Consent expired or revoked"})
		return
	}
	ci := infoOf(r)
	ci.client, ci.connection = conn.clientID, conn.id
	id := conn.provider.ID + "|" + base64.RawURLEncoding.EncodeToString([]byte(conn.id+"|"+randomHex(8)))
	s.mu.Lock()
	s.debugIDs[id] = conn.id
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, debugIDResponse{CredentialsID: conn.id, DebugID: id, ProviderID: conn.provider.ID})
}

// DebugIDConnection returns the connection (credentials id) a debug id was issued
// for, as TrueLayer's support would look it up.
func (s *Server) DebugIDConnection(debugID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.debugIDs[debugID]
	return id, ok
}
