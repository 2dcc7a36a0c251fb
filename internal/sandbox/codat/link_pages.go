package codat

import (
	"errors"
	"html/template"
	"net/http"
)

// The link journey's pages are plain HTML forms, usable without JavaScript and
// easy to drive from a test with an HTTP client.

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} - Codat Link (bank sandbox)</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}button{margin:.3em}</style></head><body>
<h1>{{.Title}}</h1>
`

const pageFoot = `<p><small>Codat Link emulated by the consent-operator bank sandbox.</small></p></body></html>
`

var companyPage = template.Must(template.New("company").Parse(pageHead + `
<p>Connect the bank accounts of <strong>{{.CompanyName}}</strong>.</p>
{{if .Connections}}<h2>Your connections</h2><ul>
{{range .Connections}}<li>{{.Name}}: {{.Status}} - <a href="{{.StartURL}}">open</a></li>
{{end}}</ul>{{end}}
<h2>Choose your bank</h2>
{{range .Sources}}<form method="post" action="{{$.SelectURL}}">
<input type="hidden" name="platformKey" value="{{.Key}}">
<button type="submit">{{.Name}}</button></form>
{{else}}<p>No bank is available.</p>{{end}}
` + pageFoot))

var consentPage = template.Must(template.New("consent").Parse(pageHead + `
<p><strong>{{.CompanyName}}</strong> asks to read your data at <strong>{{.BankName}}</strong>:</p>
<ul><li>your accounts and their details</li><li>your balances</li><li>your transactions</li></ul>
<p>Connection status: <span id="status">{{.Status}}</span></p>
<form method="post" action="{{.AuthorizeURL}}">
<button type="submit" name="decision" value="authorize">Authorise</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>
` + pageFoot))

var completePage = template.Must(template.New("complete").Parse(pageHead + `
<p id="result">{{.Message}}</p>
<p>Company: {{.CompanyID}}<br>Connection: {{.ConnectionID}}<br>Status code: {{.StatusCode}}</p>
` + pageFoot))

var errorPage = template.Must(template.New("error").Parse(pageHead + `
<p id="error">{{.Message}}</p>
` + pageFoot))

func renderPage(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = t.Execute(w, data) // the browser went away; nothing to do
}

// page wraps a link-journey handler: failures become an HTML error page, never
// a redirect, and no API key is needed (the user's browser has none).
func (e *Emulator) page(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			status, msg := http.StatusInternalServerError, "Something went wrong."
			var herr *httpError
			if errors.As(err, &herr) {
				status, msg = herr.status, herr.message
			} else {
				e.log.Error("codat emulator: link page error", "path", r.URL.Path, "err", err)
			}
			renderPage(w, status, errorPage, map[string]string{"Title": "Unable to continue", "Message": msg})
		}
	})
}

// sandboxLogo is the one logo every source shows.
const sandboxLogo = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">` +
	`<rect width="64" height="64" rx="8" fill="#1f4e79"/><text x="32" y="40" font-size="20" ` +
	`text-anchor="middle" fill="#fff" font-family="sans-serif">BANK</text></svg>`

// handleLogo serves the logoUrl of every integration.
func (e *Emulator) handleLogo(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "image/svg+xml")
	_, _ = w.Write([]byte(sandboxLogo))
	return nil
}
