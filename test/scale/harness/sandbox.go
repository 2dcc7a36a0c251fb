package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
)

// Sandbox is the bank sandbox served on a loopback port, with every call to the token
// endpoint recorded (time, grant, connection, status) so the harness can draw the
// refresh histogram and check the backoff per connection.
type Sandbox struct {
	*sandbox.Server
	URL    string
	Tokens *TokenLog
	http   *http.Server
}

// StartSandbox serves a sandbox built from opts on 127.0.0.1.
func StartSandbox(opts sandbox.Options) (*Sandbox, error) {
	sb, err := sandbox.New(opts)
	if err != nil {
		return nil, fmt.Errorf("creating sandbox: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sb.Close()
		return nil, fmt.Errorf("sandbox listener: %w", err)
	}
	s := &Sandbox{Server: sb, URL: "http://" + ln.Addr().String(), Tokens: &TokenLog{}}
	s.http = &http.Server{Handler: s.Tokens.wrap(sb), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }() // returns ErrServerClosed on Close
	return s, nil
}

// Close stops serving.
func (s *Sandbox) Close() {
	_ = s.http.Close() // the harness is finished with it
	s.Server.Close()
}

// TokenCall is one request to POST /connect/token.
type TokenCall struct {
	At         time.Time
	Grant      string // authorization_code, refresh_token, ...
	Connection string // sandbox connection id ("" for a code exchange)
	// Status is the HTTP status answered; 0 when the connection was dropped or the
	// client went away before an answer.
	Status int
}

// TokenLog records token calls.
type TokenLog struct {
	mu    sync.Mutex
	calls []TokenCall
}

// Calls returns the calls recorded at or after since.
func (l *TokenLog) Calls(since time.Time) []TokenCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []TokenCall
	for _, c := range l.calls {
		if !c.At.Before(since) {
			out = append(out, c)
		}
	}
	return out
}

// maxTokenBody bounds the form the recorder reads (token requests are tiny).
const maxTokenBody = 64 << 10

func (l *TokenLog) wrap(sb *sandbox.Server) http.Handler {
	next := sb.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/connect/token" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBody))
		if err != nil {
			http.Error(w, "reading body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body)) // a malformed form is the sandbox's to refuse
		call := TokenCall{At: time.Now(), Grant: form.Get("grant_type")}
		if rt := form.Get("refresh_token"); rt != "" {
			if info, ok := sb.ConnectionByRefreshToken(rt); ok {
				call.Connection = info.ID
			}
		}
		sw := &statusRecorder{ResponseWriter: w}
		defer func() {
			call.Status = sw.status
			l.mu.Lock()
			l.calls = append(l.calls, call)
			l.mu.Unlock()
		}()
		next.ServeHTTP(sw, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Hijack passes through: the sandbox drops connections by hijacking them.
func (w *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("response writer cannot be hijacked")
	}
	return hj.Hijack()
}

// Unwrap lets http.ResponseController reach the connection (the sandbox hijacks it
// to drop connections).
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
