package sandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FaultKind is what an injected fault does.
type FaultKind string

const (
	// FaultError answers with a catalogued error code (Fault.Error) and its
	// status, in the body format of the endpoint's API (v1 error, problem+json).
	FaultError FaultKind = "error"
	// FaultLatency delays the request by Fault.Latency, then serves it normally.
	FaultLatency FaultKind = "latency"
	// FaultHTML504 answers 504 with an HTML gateway page, as a load balancer would.
	FaultHTML504 FaultKind = "html504"
	// FaultDrop closes the connection without an answer.
	FaultDrop FaultKind = "drop"
)

// Fault is an injected failure. It applies to calls matching Endpoint (a
// route pattern such as "POST /connect/token", or a path prefix such as
// "/data/v1/"), Connection and Client (empty matches all), for the next Count
// matching calls (0 = until removed), each with probability Fraction (0 = always).
type Fault struct {
	ID         string        `json:"id,omitempty"`
	Kind       FaultKind     `json:"kind"`
	Error      string        `json:"error,omitempty"`
	Latency    time.Duration `json:"-"`
	Endpoint   string        `json:"endpoint,omitempty"`
	Connection string        `json:"connection,omitempty"`
	Client     string        `json:"client,omitempty"`
	Count      int           `json:"count,omitempty"`
	Fraction   float64       `json:"fraction,omitempty"`
	// Remaining is how many calls the fault still applies to (Count > 0 only).
	Remaining int `json:"remaining,omitempty"`
}

func (f *Fault) validate() error {
	switch f.Kind {
	case FaultError:
		if _, ok := ErrorCatalogue[f.Error]; !ok {
			return fmt.Errorf("fault: unknown error code %q", f.Error)
		}
	case FaultLatency:
		if f.Latency <= 0 {
			return fmt.Errorf("fault: latency must be positive")
		}
	case FaultHTML504, FaultDrop:
	default:
		return fmt.Errorf("fault: unknown kind %q (want error, latency, html504 or drop)", f.Kind)
	}
	if f.Count < 0 || f.Fraction < 0 || f.Fraction > 1 {
		return fmt.Errorf("fault: count must be >= 0 and fraction within [0, 1]")
	}
	return nil
}

type faultSet struct {
	mu     sync.Mutex
	faults []*Fault
	nextID int
}

func (fs *faultSet) add(f Fault) (string, error) {
	if err := f.validate(); err != nil {
		return "", err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	f.ID = fmt.Sprintf("f%d", fs.nextID)
	f.Remaining = f.Count
	fs.faults = append(fs.faults, &f)
	return f.ID, nil
}

func (fs *faultSet) remove(id string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.faults {
		if f.ID == id {
			fs.faults = append(fs.faults[:i], fs.faults[i+1:]...)
			return true
		}
	}
	return false
}

func (fs *faultSet) clear() {
	fs.mu.Lock()
	fs.faults = nil
	fs.mu.Unlock()
}

func (fs *faultSet) list() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, len(fs.faults))
	for i, f := range fs.faults {
		out[i] = *f
	}
	return out
}

// pick returns the fault to apply to this call, if any, consuming one use.
func (fs *faultSet) pick(ci *callInfo, path string) *Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.faults) == 0 {
		return nil
	}
	for i, f := range fs.faults {
		if f.Endpoint != "" && f.Endpoint != ci.endpoint && !(strings.HasPrefix(f.Endpoint, "/") && strings.HasPrefix(path, f.Endpoint)) {
			continue
		}
		if (f.Connection != "" && f.Connection != ci.connection) || (f.Client != "" && f.Client != ci.client) {
			continue
		}
		if f.Fraction > 0 && rand.Float64() >= f.Fraction {
			continue
		}
		picked := *f
		if f.Count > 0 {
			f.Remaining--
			if f.Remaining <= 0 {
				fs.faults = append(fs.faults[:i], fs.faults[i+1:]...)
			}
		}
		return &picked
	}
	return nil
}

const gatewayTimeoutPage = `<html>
<head><title>504 Gateway Time-out</title></head>
<body>
<center><h1>504 Gateway Time-out</h1></center>
</body>
</html>
`

// applyFault serves the fault; it reports whether the request is finished
// (false for latency, after which the request is served normally).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, ci *callInfo, f *Fault) bool {
	ci.fault = string(f.Kind)
	switch f.Kind {
	case FaultLatency:
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-s.closing:
			return true
		}
		return false
	case FaultHTML504:
		ci.errCode = "html504"
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = w.Write([]byte(gatewayTimeoutPage))
		return true
	case FaultDrop:
		ci.errCode = "dropped"
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close() // dropping it is the point
				return true
			}
		}
		// HTTP/2 cannot be hijacked: abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	s.writeFamilyError(w, r, ci.family, f.Error)
	return true
}

// writeFamilyError writes a catalogued error in the body format of the API
// the request belongs to.
func (s *Server) writeFamilyError(w http.ResponseWriter, r *http.Request, fam family, code string) {
	e := ErrorCatalogue[code]
	switch fam {
	case famV3:
		writeV3Problem(w, r, v3ProblemForStatus(e.Status), e.Description)
	case famSignup:
		writeSignupProblem(w, r, e.Status, signupTypeForStatus(e.Status), e.Description)
	case famExtend:
		writeProblem(w, r, problem{Type: "https://docs.truelayer.com/#connection-api-errors", Title: http.StatusText(e.Status), Status: e.Status, Detail: e.Description, Instance: r.URL.Path}, "application/problem+json")
	case famExtra:
		// Codat-style error body.
		noteError(r, code)
		writeJSON(w, e.Status, map[string]any{
			"statusCode": e.Status, "service": "sandbox", "error": e.Description,
			"correlationId": traceID(r), "canBeRetried": retryable(e.Status), "detailedErrorCode": 0, "validation": nil,
		})
	default:
		writeError(w, r, e.Status, e.Code, e.Description, nil)
	}
}

func retryable(status int) string {
	if status == 429 || status >= 500 {
		return "Unknown"
	}
	return "False"
}
