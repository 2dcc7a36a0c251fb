package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

type providerJSON struct {
	ProviderID  string   `json:"provider_id"`
	DisplayName string   `json:"display_name"`
	Country     string   `json:"country"`
	LogoURL     string   `json:"logo_url"`
	Scopes      []string `json:"scopes"`
}

// handleProviders serves (the spec's schema forbids the "availability"
// field its example shows, so the sandbox follows the schema) GET /api/providers?clientId=&scopes=&country=.
func (s *Server) handleProviders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if id := q.Get("clientId"); id != "" {
		infoOf(r).client = id
		if _, ok := s.clients[id]; !ok {
			// Providers enabled for an unknown client: none.
			writeJSON(w, http.StatusOK, []providerJSON{})
			return
		}
	}
	wantScopes := strings.Fields(q.Get("scopes"))
	countries := strings.Fields(q.Get("country"))
	out := []providerJSON{}
	for _, p := range sandboxProviders {
		if len(countries) > 0 && !contains(countries, p.Country) {
			continue
		}
		ok := true
		for _, sc := range wantScopes {
			ok = ok && p.supports(sc)
		}
		if !ok {
			continue
		}
		scopes := append([]string(nil), p.Scopes...)
		out = append(out, providerJSON{
			ProviderID: p.ID, DisplayName: p.DisplayName, Country: p.Country, LogoURL: p.LogoURL, Scopes: scopes})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleDelete serves DELETE /api/delete: revoke the bearer token's connection.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	conn, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	s.revoke(conn)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) revoke(conn *connection) {
	now := s.clock.Now()
	conn.mu.Lock()
	if !conn.revoked {
		conn.revoked = true
		conn.statusUpdatedAt = now
	}
	conn.mu.Unlock()
}

type reauthRequest struct {
	ResponseType        string `json:"response_type"`
	RefreshToken        string `json:"refresh_token"`
	RedirectURI         string `json:"redirect_uri"`
	State               string `json:"state"`
	CodeChallenge       string `json:"code_challenge"`
	CodeChallengeMethod string `json:"code_challenge_method"`
	ResponseMode        string `json:"response_mode"`
}

// handleReauthURI serves POST /v1/reauthuri: a link that re-authenticates an
// existing connection, usable up to 90 days after its consent expired.
func (s *Server) handleReauthURI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var req reauthRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		p := parseBodyParams(r.Header.Get("Content-Type"), body)
		req = reauthRequest{ResponseType: p.Get("response_type"), RefreshToken: p.Get("refresh_token"), RedirectURI: p.Get("redirect_uri"),
			State: p.Get("state"), CodeChallenge: p.Get("code_challenge"), CodeChallengeMethod: p.Get("code_challenge_method"), ResponseMode: p.Get("response_mode")}
	}
	if req.ResponseType != "code" || req.RefreshToken == "" || req.RedirectURI == "" {
		writeError(w, r, http.StatusBadRequest, "invalid_request", "Invalid request", map[string]any{"reason": "response_type=code, refresh_token and redirect_uri are required"})
		return
	}
	e, ok := s.refresh.get(req.RefreshToken)
	if !ok {
		writeError(w, r, http.StatusUnauthorized, "unauthorized", "Invalid refresh_token.", nil)
		return
	}
	conn := e.conn
	infoOf(r).connection = conn.id
	if _, ok := s.lookupRedirect(conn.clientID, req.RedirectURI); !ok {
		writeError(w, r, http.StatusBadRequest, "invalid_request", "Invalid request", map[string]any{"reason": "redirect_uri is not registered"})
		return
	}
	now := s.clock.Now()
	conn.mu.Lock()
	usable := !conn.revoked && now.Before(conn.expiresAt.Add(90*24*time.Hour)) && !e.retired
	conn.mu.Unlock()
	if !usable {
		writeError(w, r, http.StatusUnauthorized, "unauthorized", "The connection cannot be re-authenticated.", nil)
		return
	}
	link := s.newReauthSession(r, conn, req.RedirectURI, req.State, req.ResponseMode, req.CodeChallenge, true)
	writeJSON(w, http.StatusOK, map[string]any{"result": link, "success": true})
}

// newReauthSession prepares a user_input_link for an existing connection.
func (s *Server) newReauthSession(r *http.Request, conn *connection, redirectURI, state, responseMode, challenge string, login bool) string {
	conn.mu.Lock()
	scopes := append([]string(nil), conn.scopes...)
	conn.mu.Unlock()
	sess := &authSession{
		id:            "auth-" + randomHex(12),
		clientID:      conn.clientID,
		redirectURI:   redirectURI,
		state:         state,
		responseMode:  responseMode,
		codeChallenge: challenge,
		scopes:        scopes,
		providers:     []*provider{conn.provider},
		provider:      conn.provider,
		expiresAt:     s.clock.Now().Add(sessionTTL),
		reauthConn:    conn,
		reauthLogin:   login,
	}
	if challenge != "" {
		sess.codeChallengeMethod = "S256"
	}
	s.addSession(sess)
	return s.baseURL(r) + "/?session_id=" + url.QueryEscape(sess.id)
}

// datasetFor returns the (cached) dataset of a mock bank user.
func (s *Server) datasetFor(user string) *bankdata.Dataset { return s.datasetGeneration(user, 0) }

// datasetGeneration returns a user's dataset with the given generation of account
// ids (bankdata.Options.AccountIDGeneration), cached.
func (s *Server) datasetGeneration(user string, generation int) *bankdata.Dataset {
	cacheKey := user
	if generation > 0 {
		cacheKey = user + "\x00" + strconv.Itoa(generation)
	}
	s.mu.Lock()
	ds, ok := s.datasets[cacheKey]
	s.mu.Unlock()
	if ok {
		return ds
	}
	size := s.opts.DatasetSize
	if us, ok := s.opts.UserDatasetSizes[user]; ok {
		size = us
	}
	ds, err := bankdata.Generate(bankdata.Options{Seed: s.opts.Seed, User: user, Size: size, Anchor: s.opts.DatasetAnchor,
		AccountIDGeneration: generation})
	if err != nil {
		// Options were validated in New; Generate cannot fail afterwards.
		panic(err)
	}
	s.mu.Lock()
	if existing, ok := s.datasets[cacheKey]; ok {
		ds = existing
	} else {
		s.datasets[cacheKey] = ds
	}
	s.mu.Unlock()
	return ds
}
