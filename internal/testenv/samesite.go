package testenv

import (
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"
)

// sameSiteJar is a cookie jar that applies the rules browsers apply and Go's
// cookiejar does not: SameSite (Lax by default, as Chromium does), Secure, and the
// __Host- prefix. The Browser tells it, before each request, which site started the
// navigation and with which method; a redirect chain that crossed sites stays
// cross-site.
type sameSiteJar struct {
	inner *cookiejar.Jar

	mu sync.Mutex
	// modes remembers each cookie's SameSite attribute by host and name.
	modes map[string]http.SameSite
	nav   navigation
}

// navigation is the top-level navigation a request belongs to.
type navigation struct {
	// initiator is the site of the page that started it ("" for the address bar).
	initiator string
	method    string
	// crossSite is true once the navigation or its redirect chain left the initiator's site.
	crossSite bool
}

func newSameSiteJar() *sameSiteJar {
	inner, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	return &sameSiteJar{inner: inner, modes: map[string]http.SameSite{}}
}

// site is a URL's schemeful site: scheme and registrable domain (an IP address or a
// single-label host such as localhost is its own site). Ports do not count.
func site(u *url.URL) string {
	host := u.Hostname()
	if net.ParseIP(host) == nil && strings.Contains(host, ".") {
		if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
			host = d
		}
	}
	return u.Scheme + "://" + host
}

// start begins a navigation from the page at from (nil: typed into the address bar).
func (j *sameSiteJar) start(from *url.URL, method string, to *url.URL) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.nav = navigation{method: method}
	if from != nil {
		j.nav.initiator = site(from)
		j.nav.crossSite = site(from) != site(to)
	}
}

// redirect follows a hop of the current navigation.
func (j *sameSiteJar) redirect(to *url.URL, method string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.nav.method = method
	if j.nav.initiator != "" && site(to) != j.nav.initiator {
		j.nav.crossSite = true
	}
}

func modeKey(host, name string) string { return host + "\x00" + name }

// SetCookies stores what a browser would store.
func (j *sameSiteJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	var kept []*http.Cookie
	j.mu.Lock()
	for _, c := range cookies {
		if c.Secure && u.Scheme != "https" {
			continue // a Secure cookie is only set over https
		}
		if strings.HasPrefix(c.Name, "__Host-") && (!c.Secure || c.Path != "/" || c.Domain != "") {
			continue
		}
		if c.SameSite == http.SameSiteNoneMode && !c.Secure {
			continue // SameSite=None requires Secure
		}
		j.modes[modeKey(u.Hostname(), c.Name)] = c.SameSite
		kept = append(kept, c)
	}
	j.mu.Unlock()
	j.inner.SetCookies(u, kept)
}

// Cookies returns what a browser would send with the current navigation's request to u.
func (j *sameSiteJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.inner.Cookies(u) {
		mode := j.modes[modeKey(u.Hostname(), c.Name)]
		switch mode {
		case http.SameSiteStrictMode:
			if j.nav.crossSite {
				continue
			}
		case http.SameSiteNoneMode:
		default: // Lax, and Lax by default: cross-site only on top-level GETs
			if j.nav.crossSite && j.nav.method != http.MethodGet {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}
