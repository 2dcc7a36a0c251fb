package testenv

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Browser plays the end user in a consent journey: it follows redirects and submits
// the plain HTML forms of an auth dialog (bank selection, consent, mock-bank login,
// auto-posting form_post pages) over real HTTP, as a person with a browser would.
type Browser struct {
	HTTP *http.Client
	// jar applies browsers' cookie rules (SameSite, Secure, __Host-).
	jar *sameSiteJar
	// Username and Password are typed into a login form.
	Username, Password string
	// Choice is the button value pressed on consent-like forms: "allow" or "cancel".
	Choice string
	// Bank, when set, is the provider_id chosen on a bank-selection form (default:
	// the one the page preselects).
	Bank string
	// MaxSteps bounds the journey.
	MaxSteps int
	// Stop, when set, ends the journey at a redirect to a URL it accepts (for example
	// the application's return URL, which does not run in tests).
	Stop func(*url.URL) bool
}

// NewBrowser returns a Browser with a cookie jar that applies browsers' SameSite
// rules, logging in as john/doe and allowing.
func NewBrowser() *Browser {
	jar := newSameSiteJar()
	return &Browser{HTTP: &http.Client{Jar: jar}, jar: jar, Username: "john", Password: "doe", Choice: "allow", MaxSteps: 10}
}

// Get opens u as if typed into the address bar (or followed from a page of another
// site, when from is set), following redirects, and returns the response unread.
func (b *Browser) Get(u string, from *url.URL) (*http.Response, error) {
	b.checkRedirects()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	b.jar.start(from, http.MethodGet, req.URL)
	return b.HTTP.Do(req)
}

// PostForm submits a form from the page at from.
func (b *Browser) PostForm(from *url.URL, action string, values url.Values) (*http.Response, error) {
	b.checkRedirects()
	req, err := http.NewRequest(http.MethodPost, action, strings.NewReader(values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.jar.start(from, http.MethodPost, req.URL)
	return b.HTTP.Do(req)
}

// Cookies returns the cookies the browser holds for u (as a same-site request).
func (b *Browser) Cookies(u *url.URL) []*http.Cookie { return b.jar.inner.Cookies(u) }

func (b *Browser) checkRedirects() {
	b.HTTP.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return fmt.Errorf("stopped after 10 redirects")
		}
		if b.Stop != nil && b.Stop(req.URL) {
			return http.ErrUseLastResponse
		}
		b.jar.redirect(req.URL, req.Method)
		return nil
	}
}

// Page is where a journey ended.
type Page struct {
	URL    *url.URL
	Status int
	Body   string
}

// Visit opens start and completes every form on the way, returning the first page
// that has no form to submit (or the redirect Stop accepted).
func (b *Browser) Visit(start string) (Page, error) {
	resp, err := b.Get(start, nil)
	if err != nil {
		return Page{}, fmt.Errorf("GET %s: %w", start, err)
	}
	for step := 0; ; step++ {
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return Page{}, fmt.Errorf("reading %s: %w", resp.Request.URL, err)
		}
		page := Page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body)}
		f, ok := b.pickForm(string(body))
		if !ok || step >= b.MaxSteps {
			return page, nil
		}
		action, err := resp.Request.URL.Parse(f.action)
		if err != nil {
			return page, fmt.Errorf("form action %q: %w", f.action, err)
		}
		resp, err = b.PostForm(resp.Request.URL, action.String(), f.values)
		if err != nil {
			return page, fmt.Errorf("POST %s: %w", action.Redacted(), err)
		}
	}
}

type form struct {
	action string
	values url.Values
	// buttons are the values of the submit buttons named "action".
	buttons []string
	inputs  map[string]bool
}

// pickForm finds the page's first form and fills it in as the user would.
func (b *Browser) pickForm(page string) (form, bool) {
	forms := parseForms(page)
	if len(forms) == 0 {
		return form{}, false
	}
	f := forms[0]
	if b.Bank != "" && f.inputs["provider_id"] {
		f.values.Set("provider_id", b.Bank)
	}
	if f.inputs["username"] {
		f.values.Set("username", b.Username)
		f.values.Set("password", b.Password)
	}
	switch {
	case len(f.buttons) == 0:
		// An auto-posting form (response_mode=form_post): submit as it is.
	case contains(f.buttons, b.Choice):
		f.values.Set("action", b.Choice)
	case b.Choice == "cancel":
		f.values.Set("action", "cancel")
	default:
		f.values.Set("action", f.buttons[0])
	}
	return f, true
}

func parseForms(page string) []form {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return nil
	}
	var forms []form
	var cur *form
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				forms = append(forms, form{action: attr(n, "action"), values: url.Values{}, inputs: map[string]bool{}})
				cur = &forms[len(forms)-1]
				defer func() { cur = nil }()
			case "input":
				if cur != nil && attr(n, "name") != "" {
					name := attr(n, "name")
					cur.inputs[name] = true
					if attr(n, "type") == "radio" && !hasAttr(n, "checked") {
						break
					}
					cur.values.Set(name, attr(n, "value"))
				}
			case "button":
				if cur != nil && attr(n, "name") == "action" {
					cur.buttons = append(cur.buttons, attr(n, "value"))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
