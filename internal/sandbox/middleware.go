package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// family is the API a route belongs to; it decides the error body format.
type family int

const (
	famV1     family = iota // Data API v1 and the auth server: {"error": ...}
	famAuthUI               // HTML auth dialog
	famExtend               // /connections/extend: problem+json
	famV3                   // Data API v3: problem+json
	famSignup               // Signup+: problem+json
	famAdmin                // the sandbox's admin API: never counted or faulted
	famExtra                // mounted handlers (the Codat emulator)
)

// callInfo accompanies a request through the middleware and handlers.
type callInfo struct {
	family     family
	endpoint   string
	client     string
	connection string
	attended   bool
	errCode    string
	fault      string
	traceID    string
}

type callInfoKey struct{}

func infoOf(r *http.Request) *callInfo {
	ci, _ := r.Context().Value(callInfoKey{}).(*callInfo)
	return ci
}

// noteError records the error code a handler answered with.
func noteError(r *http.Request, code string) {
	if ci := infoOf(r); ci != nil {
		ci.errCode = code
	}
}

// traceID returns the request's trace / correlation id.
func traceID(r *http.Request) string {
	if ci := infoOf(r); ci != nil {
		return ci.traceID
	}
	return randomHex(16)
}

// Annotate attributes the request to a client and connection in the call
// counts. Handlers mounted with Mount (e.g. the Codat emulator) call it once
// they know who is calling; empty values leave the current value unchanged.
func Annotate(r *http.Request, client, connection string) {
	ci := infoOf(r)
	if ci == nil {
		return
	}
	if client != "" {
		ci.client = client
	}
	if connection != "" {
		ci.connection = connection
	}
}

// statusWriter remembers the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijacking not supported")
	}
	return hj.Hijack()
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// maxBody bounds request bodies the sandbox reads.
const maxBody = 1 << 20

// identify attributes a request to a client and connection before the
// handler runs, so faults can target them. Tokens are decoded without
// verification here; the handlers verify.
func (s *Server) identify(r *http.Request, ci *callInfo) {
	if ip := r.Header.Get("X-PSU-IP"); ip != "" {
		ci.attended = true
	} else if ip := r.Header.Get("Tl-User-IP"); ip != "" {
		ci.attended = true
	}
	if c := r.Header.Get("Connection-Id"); c != "" {
		ci.connection = c
	}
	if tok, ok := bearer(r); ok {
		var cl accessClaims
		if peekClaims(tok, &cl) {
			ci.client = cl.ClientID
			if cl.CredentialsID != "" {
				ci.connection = cl.CredentialsID
			}
		}
	}
	if r.Method == http.MethodPost && (r.URL.Path == "/connect/token" || r.URL.Path == "/connections/extend" || r.URL.Path == "/v1/reauthuri") {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return
		}
		p := parseBodyParams(r.Header.Get("Content-Type"), body)
		if v := p.Get("client_id"); v != "" {
			ci.client = v
		}
		if rt := p.Get("refresh_token"); rt != "" {
			if e, ok := s.refresh.get(rt); ok {
				ci.connection = e.conn.id
				ci.client = e.conn.clientID
			}
		}
	}
}

// parseBodyParams reads a form or JSON body into url.Values (JSON values
// that are not strings are kept in their JSON text form).
func parseBodyParams(contentType string, body []byte) url.Values {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/json") || (len(body) > 0 && body[0] == '{') {
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return url.Values{}
		}
		v := url.Values{}
		for k, x := range m {
			switch t := x.(type) {
			case string:
				v.Set(k, t)
			case nil:
			default:
				b, _ := json.Marshal(t) // re-encoding decoded JSON cannot fail
				v.Set(k, string(b))
			}
		}
		return v
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return url.Values{}
	}
	return v
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

// wrap adds request logging, fault injection and call counting to h.
func (s *Server) wrap(fam family, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ci := &callInfo{family: fam, endpoint: r.Pattern, traceID: randomHex(16)}
		if fam != famAdmin {
			s.identify(r, ci)
		}
		r = r.WithContext(context.WithValue(r.Context(), callInfoKey{}, ci))
		sw := &statusWriter{ResponseWriter: w}
		if fam == famV3 {
			sw.Header().Set("Tl-Trace-Id", ci.traceID)
		} else if fam != famAdmin && fam != famAuthUI {
			sw.Header().Set("X-TL-Correlation-Id", ci.traceID)
		}
		defer func() {
			// Mounted handlers route again internally; their pattern is finer.
			if r.Pattern != "" {
				ci.endpoint = r.Pattern
			}
			if fam != famAdmin {
				s.calls.record(CallKey{Client: ci.client, Connection: ci.connection, Endpoint: ci.endpoint, Attended: ci.attended}, ci.errCode)
			}
			s.logRequest(r, ci, sw.status, time.Since(start))
		}()
		if fam != famAdmin {
			if f := s.faults.pick(ci, r.URL.Path); f != nil {
				if s.applyFault(sw, r, ci, f) {
					return
				}
			}
		}
		h.ServeHTTP(sw, r)
	})
}

func (s *Server) logRequest(r *http.Request, ci *callInfo, status int, d time.Duration) {
	if !s.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path), // paths carry no token values
		slog.String("endpoint", ci.endpoint),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("trace_id", ci.traceID),
	}
	if ci.client != "" {
		attrs = append(attrs, slog.String("client", ci.client))
	}
	if ci.connection != "" {
		attrs = append(attrs, slog.String("connection", ci.connection))
	}
	if ci.family != famAdmin && ci.family != famAuthUI {
		attrs = append(attrs, slog.Bool("attended", ci.attended))
	}
	if ci.errCode != "" {
		attrs = append(attrs, slog.String("error", ci.errCode))
	}
	if ci.fault != "" {
		attrs = append(attrs, slog.String("fault", ci.fault))
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}
