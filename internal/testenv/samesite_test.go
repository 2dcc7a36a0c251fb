package testenv

import (
	"net/http"
	"net/url"
	"testing"
)

// TestSameSiteJar checks the jar sends cookies as browsers do (RFC 6265bis §5.8.3):
// the journey tests rely on it to prove the gateway's cookie binding works in a
// browser, form_post included.
func TestSameSiteJar(t *testing.T) {
	gw := MustParseURL(t, "http://127.0.0.1:8082/callback")
	bank := MustParseURL(t, "http://localhost:9000/dialog")
	other := MustParseURL(t, "http://127.0.0.1:9999/page") // same site as gw: ports do not count
	j := newSameSiteJar()
	j.SetCookies(gw, []*http.Cookie{
		{Name: "lax", Value: "1", Path: "/", SameSite: http.SameSiteLaxMode},
		{Name: "default", Value: "1", Path: "/"},
		{Name: "strict", Value: "1", Path: "/", SameSite: http.SameSiteStrictMode},
		{Name: "secure", Value: "1", Path: "/", Secure: true},
		{Name: "__Host-x", Value: "1", Path: "/"},
		{Name: "none", Value: "1", Path: "/", SameSite: http.SameSiteNoneMode},
	})
	sent := func(from *url.URL, method string) map[string]bool {
		j.start(from, method, gw)
		got := map[string]bool{}
		for _, c := range j.Cookies(gw) {
			got[c.Name] = true
		}
		return got
	}
	cases := []struct {
		name   string
		from   *url.URL
		method string
		want   map[string]bool
	}{
		{"address bar", nil, http.MethodGet, map[string]bool{"lax": true, "default": true, "strict": true}},
		{"cross-site GET", bank, http.MethodGet, map[string]bool{"lax": true, "default": true}},
		{"cross-site POST (form_post)", bank, http.MethodPost, map[string]bool{}},
		{"same-site POST", other, http.MethodPost, map[string]bool{"lax": true, "default": true, "strict": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := sent(tc.from, tc.method)
			if len(got) != len(tc.want) {
				t.Fatalf("sent %v, want %v", got, tc.want)
			}
			for n := range tc.want {
				if !got[n] {
					t.Fatalf("sent %v, want %v", got, tc.want)
				}
			}
		})
	}
	// A same-site navigation that redirects through another site is cross-site.
	j.start(other, http.MethodGet, gw)
	j.redirect(bank, http.MethodGet)
	j.redirect(gw, http.MethodGet)
	for _, c := range j.Cookies(gw) {
		if c.Name == "strict" {
			t.Fatal("a Strict cookie was sent after a cross-site redirect")
		}
	}
}
