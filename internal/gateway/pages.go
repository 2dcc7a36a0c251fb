package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
)

// page is one of the plain pages users see. They carry no state, code, tokens or ids
// beyond what the user already had.
type page struct {
	status         int
	title, message string
	// link, when set, is a button to follow (back to the application).
	link, linkText string
	// refresh reloads the page after that many seconds (the outcome page while the
	// reconciler finishes).
	refresh    string
	retryAfter string
}

// The pages. Every link that is not currently valid gets pageInvalidLink, whatever
// the reason, so the gateway tells nobody whether a connection exists.
var (
	pageInvalidLink = page{status: http.StatusNotFound, title: "Link not valid",
		message: "This link is not valid: it may have expired, been replaced or already been used. Please go back to the application that sent you and start again."}
	pageStartAgain = page{status: http.StatusForbidden, title: "Please start again",
		message: "This page was reached from a different browser than the one that started connecting your bank, or the journey has ended. Nothing was changed. Please go back to the application and start again from there."}
	pageBadRequest  = page{status: http.StatusBadRequest, title: "Invalid request", message: "The request could not be read."}
	pageExpired     = page{status: http.StatusGone, title: "Link expired", message: "This link has expired. Please go back to the application and start again."}
	pageUnavailable = page{status: http.StatusServiceUnavailable, title: "Try again shortly", message: "The service is temporarily unavailable.", retryAfter: "5"}
	pageTooMany     = page{status: http.StatusTooManyRequests, title: "Too many requests", message: "Please wait a moment and try again."}
	pageConnected   = page{status: http.StatusOK, title: "Connected", message: "Your bank account is connected. You can close this window."}
	pageDeclined    = page{status: http.StatusOK, title: "Not connected", message: "You cancelled the connection to your bank. Nothing was shared."}
	pageFailed      = page{status: http.StatusOK, title: "Not connected", message: "The connection to your bank could not be completed. Nothing was shared. Please go back to the application and start again."}
	pageDifferent   = page{status: http.StatusOK, title: "A different bank",
		message: "You connected a different bank from the one this connection is for, so nothing was changed and the new access was withdrawn. To add that bank, connect it as a new connection in the application."}
	pageFinishing = page{status: http.StatusOK, title: "Almost done", refresh: "3",
		message: "Your bank connection is being finished. This page updates by itself; you can also close it, the connection completes anyway."}
	pageFinished = page{status: http.StatusOK, title: "Finished", message: "This connection journey has finished. You can close this window."}
)

// withLink returns p with a button to target, when there is one.
func (p page) withLink(target, text string) page {
	if target != "" {
		p.link, p.linkText = target, text
	}
	return p
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}a.b{display:inline-block;padding:.5rem 1rem;background:#224;color:#fff;border-radius:.3rem;text-decoration:none}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Message}}</p>{{if .Link}}<p><a class="b" href="{{.Link}}">{{.LinkText}}</a></p>{{end}}</body></html>
`))

func writePage(w http.ResponseWriter, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	if p.retryAfter != "" {
		w.Header().Set("Retry-After", p.retryAfter)
	}
	w.WriteHeader(p.status)
	_ = pageTemplate.Execute(w, struct{ Title, Message, Link, LinkText, Refresh string }{p.title, p.message, p.link, p.linkText, p.refresh})
}

// repostTemplate posts the provider's form_post fields again, from the gateway's own
// origin: a same-site POST, on which browsers send the SameSite=Lax cookie that the
// provider's cross-site POST could not carry.
var repostTemplate = template.Must(template.New("repost").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Connecting…</title></head>
<body><form method="post" action="{{.Action}}">{{range $k, $vs := .Fields}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}<input type="hidden" name="{{.Marker}}" value="1"><noscript><button type="submit">Continue</button></noscript></form>
<script nonce="{{.Nonce}}">document.forms[0].submit()</script></body></html>
`))

// repostMarker marks the re-posted form, so a browser without the cookie is refused
// rather than sent round again.
const repostMarker = "gateway_repost"

func writeRepost(w http.ResponseWriter, action string, fields url.Values) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	nonce := base64.RawStdEncoding.EncodeToString(b)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(http.StatusOK)
	_ = repostTemplate.Execute(w, struct {
		Action, Marker, Nonce string
		Fields                url.Values
	}{action, repostMarker, nonce, fields})
}

// refuse answers a request the gateway will not act on, logging why at V(1): refusals
// are routine on a public endpoint and must not flood the logs.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, reason string, p page) {
	// r.Pattern, never the path: the path of /connect and /outcome holds secrets.
	s.Log.V(1).Info("Gateway request refused", "route", r.Pattern, "reason", reason, "status", p.status)
	writePage(w, p)
}
