package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// AdminPrefix is the path prefix of the admin API.
const AdminPrefix = "/sandbox-admin/"

func (s *Server) adminRoutes() {
	a := func(pattern string, h http.HandlerFunc) { s.handle(famAdmin, pattern, h) }
	a("GET /sandbox-admin/healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	a("GET /sandbox-admin/clock", s.adminGetClock)
	a("POST /sandbox-admin/clock", s.adminSetClock)
	a("GET /sandbox-admin/connections", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Connections()) })
	a("GET /sandbox-admin/connections/{id}", s.adminGetConnection)
	a("POST /sandbox-admin/connections/{id}/revoke", s.adminConnOp(func(id string, _ []byte) error { return s.RevokeConnection(id) }))
	a("POST /sandbox-admin/connections/{id}/expire", s.adminConnOp(func(id string, _ []byte) error { return s.ExpireConsent(id) }))
	a("POST /sandbox-admin/connections/{id}/extend-outcome", s.adminConnOp(func(id string, body []byte) error {
		var req struct {
			Outcome string `json:"outcome"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return badRequest{err}
		}
		if err := s.SetExtendOutcome(id, req.Outcome); err != nil && !errors.Is(err, ErrNotFound) {
			return badRequest{err}
		} else {
			return err
		}
	}))
	a("POST /sandbox-admin/connections/{id}/new-account-ids-on-reconsent", s.adminConnOp(func(id string, body []byte) error {
		var req struct {
			Enabled bool `json:"enabled"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return badRequest{err}
		}
		return s.SetNewAccountIDsOnReconsent(id, req.Enabled)
	}))
	a("POST /sandbox-admin/authorize", s.adminAuthorize)
	a("POST /sandbox-admin/v3/connections/{id}/authorize", s.adminConnOp(func(id string, body []byte) error {
		var req struct{ Username, Password string }
		if len(body) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				return badRequest{err}
			}
		}
		if err := s.AuthorizeV3(id, req.Username, req.Password); err != nil && !errors.Is(err, ErrNotFound) {
			return badRequest{err}
		} else {
			return err
		}
	}))
	a("GET /sandbox-admin/faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, toFaultJSON(s.Faults())) })
	a("POST /sandbox-admin/faults", s.adminAddFault)
	a("DELETE /sandbox-admin/faults", func(w http.ResponseWriter, r *http.Request) { s.ClearFaults(); w.WriteHeader(http.StatusNoContent) })
	a("DELETE /sandbox-admin/faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !s.RemoveFault(r.PathValue("id")) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such fault"})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	a("GET /sandbox-admin/calls", func(w http.ResponseWriter, r *http.Request) {
		f, err := callFilterFromQuery(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		calls := s.Calls(f)
		var total int64
		for _, c := range calls {
			total += c.Count
		}
		writeJSON(w, 200, CallsReport{Total: total, Calls: nonNil(calls)})
	})
	a("DELETE /sandbox-admin/calls", func(w http.ResponseWriter, r *http.Request) { s.ResetCalls(); w.WriteHeader(http.StatusNoContent) })
	a("GET /sandbox-admin/errors", func(w http.ResponseWriter, r *http.Request) {
		f, err := callFilterFromQuery(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		errs := s.Errors(f)
		var total int64
		for _, c := range errs {
			total += c.Count
		}
		writeJSON(w, 200, ErrorsReport{Total: total, Errors: nonNil(errs)})
	})
	a("GET /sandbox-admin/dataset", s.adminDataset)
	a("GET /sandbox-admin/dataset/transactions", s.adminDatasetTransactions)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// CallsReport is the body of GET /sandbox-admin/calls.
type CallsReport struct {
	Total int64       `json:"total"`
	Calls []CallCount `json:"calls"`
}

// ErrorsReport is the body of GET /sandbox-admin/errors.
type ErrorsReport struct {
	Total  int64        `json:"total"`
	Errors []ErrorCount `json:"errors"`
}

// ClockState is the body of the clock endpoints.
type ClockState struct {
	Now time.Time `json:"now"`
}

// ClockChange is the body of POST /sandbox-admin/clock: set and/or advance
// (a Go duration such as "24h" or "-5m").
type ClockChange struct {
	Set     *time.Time `json:"set,omitempty"`
	Advance string     `json:"advance,omitempty"`
}

// FaultSpec is the JSON form of a Fault (latency as a Go duration string).
type FaultSpec struct {
	ID         string    `json:"id,omitempty"`
	Kind       FaultKind `json:"kind"`
	Error      string    `json:"error,omitempty"`
	Latency    string    `json:"latency,omitempty"`
	Endpoint   string    `json:"endpoint,omitempty"`
	Connection string    `json:"connection,omitempty"`
	Client     string    `json:"client,omitempty"`
	Count      int       `json:"count,omitempty"`
	Fraction   float64   `json:"fraction,omitempty"`
	Remaining  int       `json:"remaining,omitempty"`
}

func toFaultJSON(fs []Fault) []FaultSpec {
	out := []FaultSpec{}
	for _, f := range fs {
		spec := FaultSpec{ID: f.ID, Kind: f.Kind, Error: f.Error, Endpoint: f.Endpoint, Connection: f.Connection,
			Client: f.Client, Count: f.Count, Fraction: f.Fraction, Remaining: f.Remaining}
		if f.Latency > 0 {
			spec.Latency = f.Latency.String()
		}
		out = append(out, spec)
	}
	return out
}

// DatasetSummary is the body of GET /sandbox-admin/dataset.
type DatasetSummary struct {
	User         string             `json:"user"`
	Identity     bankdata.Identity  `json:"identity"`
	Accounts     []bankdata.Account `json:"accounts"`
	HistoryStart time.Time          `json:"history_start"`
	FutureEnd    time.Time          `json:"future_end"`
}

type badRequest struct{ error }

func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, maxBody))
}

func (s *Server) adminGetClock(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, ClockState{Now: s.clock.Now()})
}

func (s *Server) adminSetClock(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	var req ClockChange
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || (req.Set == nil && req.Advance == "") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"set":"RFC3339 time"} or {"advance":"duration"}`})
		return
	}
	var d time.Duration
	if req.Advance != "" {
		if d, err = time.ParseDuration(req.Advance); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "advance: " + err.Error()})
			return
		}
	}
	if req.Set != nil {
		s.clock.Set(*req.Set)
	}
	if d != 0 {
		s.clock.Advance(d)
	}
	writeJSON(w, 200, ClockState{Now: s.clock.Now()})
}

func (s *Server) adminGetConnection(w http.ResponseWriter, r *http.Request) {
	c, ok := s.Connection(r.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such connection"})
		return
	}
	writeJSON(w, 200, c)
}

func (s *Server) adminConnOp(op func(id string, body []byte) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err == nil {
			err = op(r.PathValue("id"), body)
		}
		var br badRequest
		switch {
		case err == nil:
			c, _ := s.Connection(r.PathValue("id"))
			writeJSON(w, 200, c)
		case errors.Is(err, ErrNotFound):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		case errors.As(err, &br):
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": br.Error()})
		default:
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		}
	}
}

// AuthorizeResponse is the body of POST /sandbox-admin/authorize.
type AuthorizeResponse struct {
	Code string `json:"code"`
}

func (s *Server) adminAuthorize(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	var req AuthorizeRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	var code string
	if err == nil {
		code, err = s.Authorize(req)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, 200, AuthorizeResponse{Code: code})
}

func (s *Server) adminAddFault(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	var spec FaultSpec
	if err == nil {
		err = json.Unmarshal(body, &spec)
	}
	f := Fault{Kind: spec.Kind, Error: spec.Error, Endpoint: spec.Endpoint, Connection: spec.Connection, Client: spec.Client, Count: spec.Count, Fraction: spec.Fraction}
	if err == nil && spec.Latency != "" {
		f.Latency, err = time.ParseDuration(spec.Latency)
	}
	var id string
	if err == nil {
		id, err = s.InjectFault(f)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func callFilterFromQuery(r *http.Request) (CallFilter, error) {
	q := r.URL.Query()
	f := CallFilter{Client: q.Get("client"), Connection: q.Get("connection"), Endpoint: q.Get("endpoint"), Error: q.Get("error")}
	if v := q.Get("attended"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, errors.New("attended must be true or false")
		}
		f.Attended = &b
	}
	return f, nil
}

func (s *Server) adminDataset(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if user == "" {
		user = "john"
	}
	ds := s.Dataset(user)
	writeJSON(w, 200, DatasetSummary{User: user, Identity: ds.Identity(), Accounts: ds.Accounts(), HistoryStart: ds.HistoryStart(), FutureEnd: ds.FutureEnd()})
}

// adminDatasetTransactions serves the booked transactions of a user's
// account for a window, capped at the sandbox's now: exactly what the Data
// API serves for that window.
func (s *Server) adminDatasetTransactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user := q.Get("user")
	if user == "" {
		user = "john"
	}
	ds := s.Dataset(user)
	now := s.clock.Now()
	from, to := now.Add(-s.opts.SCAHistory), now
	var ok bool
	if v := q.Get("from"); v != "" {
		if from, ok = parseDate(v, false); !ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad from"})
			return
		}
	}
	if v := q.Get("to"); v != "" {
		if to, ok = parseDate(v, true); !ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad to"})
			return
		}
	}
	if to.After(now) {
		to = now
	}
	if _, found := ds.Account(q.Get("account_id")); !found {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such account"})
		return
	}
	writeJSON(w, 200, nonNil(ds.Transactions(q.Get("account_id"), from, to)))
}
