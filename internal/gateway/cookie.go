package gateway

import (
	"net/http"

	"github.com/consent-operator/consent-operator/internal/journey"
)

// cookieName is the browser-binding cookie. Over https it carries the __Host- prefix,
// which browsers accept only with Secure, Path=/ and no Domain: no other host, not
// even a sibling subdomain, can set or overwrite it.
func (s *Server) cookieName() string {
	if s.secure() {
		return "__Host-consent-journey"
	}
	return "consent-journey"
}

// browserSecret returns the browser's cookie value, or "" when it has none that the
// gateway could have issued.
func (s *Server) browserSecret(r *http.Request) string {
	c, err := r.Cookie(s.cookieName())
	if err != nil || !journey.ValidBrowserSecret(c.Value) {
		return ""
	}
	return c.Value
}

// ensureBrowserSecret reuses the browser's cookie (so one browser can run journeys for
// several connections at once) or sets a new one.
func (s *Server) ensureBrowserSecret(w http.ResponseWriter, r *http.Request) (string, error) {
	if v := s.browserSecret(r); v != "" {
		return v, nil
	}
	v, err := journey.NewBrowserSecret()
	if err != nil {
		return "", err
	}
	// SameSite=Lax: sent on the provider's top-level GET back to the callback, not on
	// cross-site subrequests or POSTs (the form_post re-post covers those). Strict would
	// not be sent on the provider's redirect at all.
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: v, Path: "/", MaxAge: int(journeyCookieTTL.Seconds()),
		HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
	})
	return v, nil
}
