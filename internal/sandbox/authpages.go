package sandbox

import (
	"html/template"
	"net/http"
)

// The auth dialog is plain HTML forms: it works without JavaScript, so a
// test can drive it with net/http and a cookie jar like a browser would.

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} - TrueLayer sandbox</title>
<style>body{font-family:sans-serif;max-width:34em;margin:2em auto}button{margin:.3em}.err{color:#b00}</style>
</head>
<body{{if .AutoPost}} onload="document.forms[0].submit()"{{end}}>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
{{if eq .Step "select"}}
<form method="post" action="/auth/select">
<input type="hidden" name="session_id" value="{{.Session}}">
<fieldset><legend>Choose your bank</legend>
{{range $i, $p := .Providers}}<p><label><input type="radio" name="provider_id" value="{{$p.ID}}"{{if eq $i 0}} checked{{end}}> {{$p.DisplayName}} ({{$p.Country}})</label></p>
{{end}}</fieldset>
<button type="submit" name="action" value="continue">Continue</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
{{else if eq .Step "consent"}}
<p><strong id="application">{{.Application}}</strong> is asking to access the following from <strong>{{.ProviderName}}</strong>:</p>
<ul id="permissions">{{range .Permissions}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="/auth/consent">
<input type="hidden" name="session_id" value="{{.Session}}">
<button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
{{else if eq .Step "login"}}
<p>Log in to <strong>{{.ProviderName}}</strong> (mock bank: john / doe).</p>
<form method="post" action="/auth/login">
<input type="hidden" name="session_id" value="{{.Session}}">
<p><label>Username <input name="username" value="{{.Username}}" autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<button type="submit" name="action" value="login">Log in</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
{{else if eq .Step "post"}}
<form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form>
{{else if eq .Step "error"}}
<p>This link cannot be used. Please go back to the application that sent you here.</p>
{{end}}
</body>
</html>
`))

type pageData struct {
	Title        string
	Step         string
	Error        string
	Session      string
	Providers    []*provider
	Application  string
	ProviderName string
	Permissions  []string
	Username     string
	Action       string
	Fields       map[string]string
	AutoPost     bool
}

func renderPage(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "deny")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, d) // a write error means the browser went away
}

// renderErrorPage is shown instead of a redirect when the redirect target
// cannot be trusted (unknown client, unregistered redirect URI).
func renderErrorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	noteError(r, "invalid_request")
	renderPage(w, status, pageData{Title: "Something went wrong", Step: "error", Error: msg})
}

var scopeDescriptions = map[string]string{
	"info":            "Full name and contact details",
	"accounts":        "Account numbers and account details",
	"balance":         "Account balances",
	"transactions":    "Transaction history",
	"cards":           "Card details",
	"direct_debits":   "Direct debits",
	"standing_orders": "Standing orders",
	"offline_access":  "Access while you are not using the application (90 days)",
	"signupplus":      "Identity verification (Signup+)",
}

func permissions(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if d, ok := scopeDescriptions[s]; ok {
			out = append(out, d)
		}
	}
	return out
}
