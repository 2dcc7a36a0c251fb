package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

type extendUser struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type extendRequest struct {
	UserHasReconfirmedConsent *bool       `json:"user_has_reconfirmed_consent"`
	ClientID                  string      `json:"client_id"`
	ClientSecret              string      `json:"client_secret"`
	User                      *extendUser `json:"user"`
	RefreshToken              string      `json:"refresh_token"`
	RedirectURI               string      `json:"redirect_uri"`
	State                     string      `json:"state"`
	CodeChallenge             string      `json:"code_challenge"`
	ResponseMode              string      `json:"response_mode"`
}

const extendProblemType = "https://docs.truelayer.com/#connection-api-errors"

func (s *Server) extendProblem(w http.ResponseWriter, r *http.Request, status int, title, detail string, errs map[string][]string) {
	writeProblem(w, r, problem{Type: extendProblemType, Title: title, Status: status, Detail: detail, Instance: r.URL.Path, Errors: errs}, "application/problem+json")
}

// handleExtend serves POST /connections/extend (reconfirmation of consent).
// It needs no valid access token: an expired connection can be extended.
func (s *Server) handleExtend(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var req extendRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		s.extendProblem(w, r, http.StatusBadRequest, "One or more validation errors occurred.", "", map[string][]string{"body": {"A JSON body is required."}})
		return
	}
	errs := map[string][]string{}
	required := func(field, v string) {
		if v == "" {
			errs[field] = append(errs[field], "The "+field+" field is required.")
		}
	}
	if req.UserHasReconfirmedConsent == nil {
		errs["UserHasReconfirmedConsent"] = []string{"The UserHasReconfirmedConsent field is required."}
	} else if !*req.UserHasReconfirmedConsent {
		errs["UserHasReconfirmedConsent"] = []string{"Only true is currently supported."}
	}
	required("ClientId", req.ClientID)
	required("ClientSecret", req.ClientSecret)
	required("RefreshToken", req.RefreshToken)
	required("RedirectUri", req.RedirectURI)
	if req.User == nil || req.User.Name == "" || (req.User.Email == "" && req.User.Phone == "") {
		errs["User"] = []string{"The User field requires a name and an email or phone."}
	}
	if req.ResponseMode != "" && req.ResponseMode != "form_post" {
		errs["ResponseMode"] = []string{"The only supported response_mode is form_post."}
	}
	if len(errs) > 0 {
		s.extendProblem(w, r, http.StatusBadRequest, "One or more validation errors occurred.", "", errs)
		return
	}
	infoOf(r).client = req.ClientID
	if !s.authenticateClient(req.ClientID, req.ClientSecret) {
		s.extendProblem(w, r, http.StatusUnauthorized, "Unauthorized", "Client credentials missing or invalid.", nil)
		return
	}
	e, ok := s.refresh.get(req.RefreshToken)
	if !ok || e.conn.clientID != req.ClientID || e.retired {
		s.extendProblem(w, r, http.StatusUnauthorized, "Unauthorized", "Refresh token missing or invalid.", nil)
		return
	}
	conn := e.conn
	infoOf(r).connection = conn.id
	if _, ok := s.lookupRedirect(conn.clientID, req.RedirectURI); !ok {
		s.extendProblem(w, r, http.StatusBadRequest, "One or more validation errors occurred.", "", map[string][]string{"RedirectUri": {"The redirect_uri is not registered."}})
		return
	}
	now := s.clock.Now()
	conn.mu.Lock()
	revoked, outcome := conn.revoked, conn.extendOutcome
	conn.mu.Unlock()
	if revoked || conn.provider.Country != "uk" {
		s.extendProblem(w, r, http.StatusUnprocessableEntity, "No way to extend this connection", "This connection cannot be extended", nil)
		return
	}
	switch outcome {
	case ExtendNoActionNeeded:
		conn.mu.Lock()
		conn.createdAt = now
		conn.expiresAt = now.Add(s.opts.ConsentDuration)
		conn.statusUpdatedAt = now
		s.rotateLocked(conn, now, false)
		rt := conn.refreshToken
		scopes := append([]string(nil), conn.scopes...)
		conn.mu.Unlock()
		tok, err := s.accessToken(conn, conn.clientID, scopes)
		if err != nil {
			s.extendProblem(w, r, http.StatusInternalServerError, "Internal Server Error", "Token signing failed.", nil)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"action_needed": ExtendNoActionNeeded, "access_token": tok, "expires_in": int64(s.opts.AccessTokenTTL / time.Second),
			"refresh_token": rt, "token_type": "Bearer",
		})
	default:
		link := s.newReauthSession(r, conn, req.RedirectURI, req.State, req.ResponseMode, req.CodeChallenge, outcome == ExtendAuthenticationNeeded)
		writeJSON(w, http.StatusOK, map[string]any{"action_needed": outcome, "user_input_link": link})
	}
}
