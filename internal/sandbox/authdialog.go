package sandbox

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// authSession is one use of an auth link (TrueLayer: "auth-…" session).
type authSession struct {
	id                  string
	cookie              string
	clientID            string
	redirectURI         string
	state               string
	responseMode        string
	codeChallenge       string
	codeChallengeMethod string
	scopes              []string
	providers           []*provider
	provider            *provider
	consented           bool
	expiresAt           time.Time
	// reauthConn: re-consent of an existing connection (extend / reauthuri);
	// reauthLogin says whether the user must log in to the bank again.
	reauthConn  *connection
	reauthLogin bool
	// v3Conn: the Data API v3 connection being authorised.
	v3Conn *v3Connection
}

const sessionCookie = "tl_sandbox_auth"

// sessionTTL bounds how long a user may take in the dialog.
const sessionTTL = 30 * time.Minute

var validScopes = map[string]bool{
	"info": true, "accounts": true, "balance": true, "transactions": true, "cards": true,
	"direct_debits": true, "standing_orders": true, "offline_access": true, "signupplus": true,
}

// checkScopes applies TrueLayer's scope rules: balance and transactions need
// accounts or cards; direct_debits and standing_orders need accounts.
func checkScopes(scopes []string) string {
	if len(scopes) == 0 {
		return "scope is required"
	}
	has := map[string]bool{}
	for _, s := range scopes {
		if !validScopes[s] {
			return "unknown scope " + s
		}
		has[s] = true
	}
	if (has["balance"] || has["transactions"]) && !has["accounts"] && !has["cards"] {
		return "balance and transactions must be combined with accounts or cards"
	}
	if (has["direct_debits"] || has["standing_orders"]) && !has["accounts"] {
		return "direct_debits and standing_orders must be combined with accounts"
	}
	return ""
}

// applicationName is what the consent screen calls the client.
func (s *Server) applicationName(clientID string) string {
	if name := s.clients[clientID].Name; name != "" {
		return name
	}
	return unnamedApplication
}

func (s *Server) lookupRedirect(clientID, redirectURI string) (Client, bool) {
	c, ok := s.clients[clientID]
	if !ok {
		return Client{}, false
	}
	return c, contains(c.RedirectURIs, redirectURI)
}

// handleAuthDialog serves GET /?response_type=code&client_id=…: the start of
// the auth dialog.
func (s *Server) handleAuthDialog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if sid := q.Get("session_id"); sid != "" {
		s.resumeSession(w, r, sid)
		return
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	infoOf(r).client = clientID
	if _, known := s.clients[clientID]; !known {
		renderErrorPage(w, r, http.StatusBadRequest, "Unknown client_id.")
		return
	}
	if _, ok := s.lookupRedirect(clientID, redirectURI); !ok {
		renderErrorPage(w, r, http.StatusBadRequest, "The redirect_uri is not registered for this client.")
		return
	}
	sess := &authSession{
		clientID:            clientID,
		redirectURI:         redirectURI,
		state:               q.Get("state"),
		responseMode:        q.Get("response_mode"),
		codeChallenge:       q.Get("code_challenge"),
		codeChallengeMethod: q.Get("code_challenge_method"),
		scopes:              strings.Fields(q.Get("scope")),
	}
	if sess.responseMode != "" && sess.responseMode != "form_post" && sess.responseMode != "query" {
		sess.responseMode = ""
	}
	if q.Get("response_type") != "code" {
		s.redirectError(w, r, sess, "unsupported_response_type", "response_type must be code")
		return
	}
	if msg := checkScopes(sess.scopes); msg != "" {
		s.redirectError(w, r, sess, "invalid_scope", msg)
		return
	}
	if sess.codeChallenge != "" && sess.codeChallengeMethod != "S256" {
		s.redirectError(w, r, sess, "invalid_request", "code_challenge_method must be S256")
		return
	}
	sess.providers = selectProviders(q.Get("providers"), q.Get("enable_mock") == "true")
	if pid := q.Get("provider_id"); pid != "" {
		for _, p := range sess.providers {
			if p.ID == pid {
				sess.provider = p
			}
		}
		if sess.provider == nil {
			s.redirectError(w, r, sess, "invalid_request", "provider_id is not among the selected providers")
			return
		}
	}
	if len(sess.providers) == 0 {
		s.redirectError(w, r, sess, "invalid_request", "no provider matches the providers parameter")
		return
	}
	s.startSession(w, sess)
	s.renderStep(w, sess, "")
}

func (s *Server) startSession(w http.ResponseWriter, sess *authSession) {
	sess.id = "auth-" + randomHex(12)
	sess.cookie = randomHex(16)
	sess.expiresAt = s.clock.Now().Add(sessionTTL)
	s.addSession(sess)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie + "_" + sess.id, Value: sess.cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// addSession stores a session, forgetting expired (abandoned) ones so they
// do not accumulate.
func (s *Server) addSession(sess *authSession) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) > 1024 {
		for k, v := range s.sessions {
			if now.After(v.expiresAt) {
				delete(s.sessions, k)
			}
		}
	}
	s.sessions[sess.id] = sess
}

// resumeSession serves a user_input_link (GET /?session_id=auth-…) created
// by /connections/extend, /v1/reauthuri or a v3 connection: the session
// exists already; bind it to this browser and show its first step.
func (s *Server) resumeSession(w http.ResponseWriter, r *http.Request, sid string) {
	s.mu.Lock()
	sess, ok := s.sessions[sid]
	if ok && sess.cookie != "" {
		ok = false // a link is usable once
	}
	if ok {
		sess.cookie = randomHex(16)
	}
	s.mu.Unlock()
	if !ok || s.clock.Now().After(sess.expiresAt) {
		renderErrorPage(w, r, http.StatusBadRequest, "This link has expired or was already used.")
		return
	}
	infoOf(r).client = sess.clientID
	http.SetCookie(w, &http.Cookie{Name: sessionCookie + "_" + sess.id, Value: sess.cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.renderStep(w, sess, "")
}

// renderStep shows the next step of the session.
func (s *Server) renderStep(w http.ResponseWriter, sess *authSession, errMsg string) {
	d := pageData{Session: sess.id, Error: errMsg}
	switch {
	case sess.provider == nil:
		d.Title, d.Step, d.Providers = "Choose your bank", "select", sess.providers
	case !sess.consented:
		d.Title, d.Step, d.ProviderName, d.Permissions = "Allow access", "consent", sess.provider.DisplayName, permissions(sess.scopes)
		d.Application = s.applicationName(sess.clientID)
	default:
		d.Title, d.Step, d.ProviderName = "Log in to your bank", "login", sess.provider.DisplayName
		if sess.reauthConn != nil {
			d.Username = sess.reauthConn.user.username
		}
	}
	status := http.StatusOK
	if errMsg != "" {
		status = http.StatusUnauthorized
	}
	renderPage(w, status, d)
}

// formSession returns the session a form post belongs to, checking the
// browser's cookie; it answers with an error page when there is none.
func (s *Server) formSession(w http.ResponseWriter, r *http.Request) (*authSession, bool) {
	if err := r.ParseForm(); err != nil {
		renderErrorPage(w, r, http.StatusBadRequest, "Malformed form.")
		return nil, false
	}
	sid := r.PostForm.Get("session_id")
	s.mu.Lock()
	sess, ok := s.sessions[sid]
	s.mu.Unlock()
	if !ok || s.clock.Now().After(sess.expiresAt) {
		renderErrorPage(w, r, http.StatusBadRequest, "Your session has expired. Please start again from the application.")
		return nil, false
	}
	c, err := r.Cookie(sessionCookie + "_" + sid)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sess.cookie)) != 1 {
		renderErrorPage(w, r, http.StatusBadRequest, "This session belongs to another browser.")
		return nil, false
	}
	infoOf(r).client = sess.clientID
	if r.PostForm.Get("action") == "cancel" {
		s.endSession(sess)
		s.redirectError(w, r, sess, "access_denied", "The user cancelled.")
		return nil, false
	}
	return sess, true
}

func (s *Server) endSession(sess *authSession) {
	s.mu.Lock()
	delete(s.sessions, sess.id)
	s.mu.Unlock()
}

func (s *Server) handleAuthSelect(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.formSession(w, r)
	if !ok {
		return
	}
	pid := r.PostForm.Get("provider_id")
	s.mu.Lock()
	for _, p := range sess.providers {
		if p.ID == pid {
			sess.provider = p
		}
	}
	s.mu.Unlock()
	if sess.provider == nil {
		s.renderStep(w, sess, "Please choose a bank.")
		return
	}
	s.renderStep(w, sess, "")
}

func (s *Server) handleAuthConsent(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.formSession(w, r)
	if !ok {
		return
	}
	if sess.provider == nil {
		s.renderStep(w, sess, "Please choose a bank.")
		return
	}
	s.mu.Lock()
	sess.consented = true
	s.mu.Unlock()
	// Reconfirming consent needs no bank login.
	if sess.reauthConn != nil && !sess.reauthLogin {
		s.completeSession(w, r, sess, sess.reauthConn.user)
		return
	}
	s.renderStep(w, sess, "")
}

func (s *Server) handleAuthLogin(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.formSession(w, r)
	if !ok {
		return
	}
	if sess.provider == nil || !sess.consented {
		s.renderStep(w, sess, "Please allow access first.")
		return
	}
	user, ok := mockLogin(r.PostForm.Get("username"), r.PostForm.Get("password"))
	if ok && sess.reauthConn != nil && user.username != sess.reauthConn.user.username {
		ok = false
	}
	if !ok {
		noteError(r, "wrong_credentials")
		s.renderStep(w, sess, "The username or password is incorrect.")
		return
	}
	s.completeSession(w, r, sess, user)
}

// completeSession issues the authorization code (or authorises the v3
// connection) and sends the user back to the client.
func (s *Server) completeSession(w http.ResponseWriter, r *http.Request, sess *authSession, user mockUser) {
	s.endSession(sess)
	now := s.clock.Now()
	if sess.v3Conn != nil {
		s.authorizeV3(sess.v3Conn, user, now)
		target := sess.redirectURI
		if u, err := url.Parse(target); err == nil {
			q := u.Query()
			q.Set("connection_id", sess.v3Conn.id)
			u.RawQuery = q.Encode()
			target = u.String()
		}
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	code := s.issueCode(&authCode{
		clientID:      sess.clientID,
		redirectURI:   sess.redirectURI,
		scopes:        sess.scopes,
		provider:      sess.provider,
		user:          user,
		codeChallenge: sess.codeChallenge,
		authTime:      now,
		reauthConn:    sess.reauthConn,
	})
	if sess.reauthConn != nil && !sess.reauthLogin {
		code.authTime = time.Time{} // reconfirmation: no new SCA
	}
	s.deliver(w, r, sess, map[string]string{"code": code.value})
}

type issuedCode struct {
	*authCode
	value string
}

func (s *Server) issueCode(c *authCode) issuedCode {
	value := randomHex(32)
	c.expiresAt = s.clock.Now().Add(s.opts.AuthCodeTTL)
	s.mu.Lock()
	// Forget expired codes so abandoned ones do not accumulate.
	now := s.clock.Now()
	if len(s.codes) > 1024 {
		for k, v := range s.codes {
			if now.After(v.expiresAt) {
				delete(s.codes, k)
			}
		}
	}
	s.codes[value] = c
	s.mu.Unlock()
	return issuedCode{authCode: c, value: value}
}

// redirectError sends the user back with an OAuth error.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, sess *authSession, code, desc string) {
	noteError(r, code)
	if sess.v3Conn != nil {
		s.failV3(sess.v3Conn, "authorizing", "user_cancelled")
	}
	s.deliver(w, r, sess, map[string]string{"error": code, "error_description": desc})
}

// deliver sends fields (plus state) to the redirect URI, by query string or,
// for response_mode=form_post, by an auto-posting HTML form.
func (s *Server) deliver(w http.ResponseWriter, r *http.Request, sess *authSession, fields map[string]string) {
	if sess.state != "" {
		fields["state"] = sess.state
	}
	if sess.responseMode == "form_post" {
		renderPage(w, http.StatusOK, pageData{Title: "Redirecting", Step: "post", Action: sess.redirectURI, Fields: fields, AutoPost: true})
		return
	}
	u, err := url.Parse(sess.redirectURI)
	if err != nil {
		renderErrorPage(w, r, http.StatusBadRequest, "Invalid redirect_uri.")
		return
	}
	q := u.Query()
	for k, v := range fields {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}
