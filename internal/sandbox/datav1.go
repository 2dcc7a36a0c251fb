package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

type endpoint int

const (
	epMe endpoint = iota
	epInfo
	epAccounts
	epAccount
	epAccountBalance
	epAccountTransactions
	epAccountPending
	epStandingOrders
	epDirectDebits
	epCards
	epCard
	epCardBalance
	epCardTransactions
	epCardPending
)

// scopes each endpoint needs (all of them).
var endpointScopes = map[endpoint][]string{
	epInfo:                {"info"},
	epAccounts:            {"accounts"},
	epAccount:             {"accounts"},
	epAccountBalance:      {"accounts", "balance"},
	epAccountTransactions: {"accounts", "transactions"},
	epAccountPending:      {"accounts", "transactions"},
	epStandingOrders:      {"accounts", "standing_orders"},
	epDirectDebits:        {"accounts", "direct_debits"},
	epCards:               {"cards"},
	epCard:                {"cards"},
	epCardBalance:         {"cards", "balance"},
	epCardTransactions:    {"cards", "transactions"},
	epCardPending:         {"cards", "transactions"},
}

func (e endpoint) isCard() bool { return e >= epCards }

func (e endpoint) perAccount() bool {
	return e != epMe && e != epInfo && e != epAccounts && e != epCards
}

func (e endpoint) transactional() bool {
	return e == epAccountTransactions || e == epAccountPending || e == epCardTransactions || e == epCardPending
}

// authenticate verifies the bearer access token of a Data API call and
// returns its connection; it writes the error response when it fails.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*connection, bool) {
	tok, ok := bearer(r)
	if !ok || tok == "" {
		writeError(w, r, http.StatusUnauthorized, "unauthorized", "Unauthorized.", nil)
		return nil, false
	}
	var cl accessClaims
	if err := s.signer.verify(tok, &cl); err != nil {
		writeError(w, r, http.StatusUnauthorized, "invalid_token", "Invalid access token.", nil)
		return nil, false
	}
	now := s.clock.Now()
	if now.Unix() >= cl.Expires {
		writeError(w, r, http.StatusUnauthorized, "invalid_token",
			fmt.Sprintf("The token expired at '%s'", time.Unix(cl.Expires, 0).UTC().Format("2006-01-02 15:04:05Z")), nil)
		return nil, false
	}
	conn, ok := s.connections.get(cl.CredentialsID)
	if cl.CredentialsID == "" || !ok {
		writeError(w, r, http.StatusUnauthorized, "unauthorized", "The access token does not belong to a connection.", nil)
		return nil, false
	}
	ci := infoOf(r)
	ci.client, ci.connection = conn.clientID, conn.id
	conn.mu.Lock()
	status := conn.statusLocked(now)
	stale := s.opts.InvalidateOldAccessTokens && cl.ID != conn.latestJTI
	conn.mu.Unlock()
	if stale {
		writeError(w, r, http.StatusUnauthorized, "invalid_token", "The access token has been superseded by a newer one.", nil)
		return nil, false
	}
	if status != ConsentAuthorised {
		writeError(w, r, http.StatusForbidden, "access_denied", "Access to a specific resource has been denied.",
			map[string]any{"reason": "Consent expired or revoked"})
		return nil, false
	}
	return conn, true
}

// dataV1 serves one Data API v1 endpoint.
func (s *Server) dataV1(ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		w.Header().Set("X-Credentials-Id", conn.id)
		conn.mu.Lock()
		scopes := conn.scopes
		authTime := conn.authTime
		conn.mu.Unlock()
		for _, need := range endpointScopes[ep] {
			if !contains(scopes, need) {
				writeError(w, r, http.StatusForbidden, "access_denied", "Access to a specific resource has been denied.",
					map[string]any{"reason": "missing scope " + need})
				return
			}
		}
		if (ep.isCard() && !conn.provider.supports("cards")) ||
			(ep == epStandingOrders && !conn.provider.supports("standing_orders")) ||
			(ep == epDirectDebits && !conn.provider.supports("direct_debits")) {
			writeCatalogued(w, r, "endpoint_not_supported")
			return
		}
		var acct bankdata.Account
		if ep.perAccount() {
			a, found := conn.data().Account(r.PathValue("account_id"))
			if !found || a.IsCard() != ep.isCard() {
				writeCatalogued(w, r, "account_not_found")
				return
			}
			acct = a
		}
		now := s.clock.Now()
		var win window
		if ep.transactional() {
			var code string
			win, code = s.parseWindow(r, now, authTime)
			if code != "" {
				writeCatalogued(w, r, code)
				return
			}
		}
		q := r.URL.Query()
		async := q.Get("async") == "true"
		webhook := q.Get("webhook_uri")
		if ep != epMe {
			if !s.admitUnattended(conn, acct.ID, infoOf(r), now) {
				writeCatalogued(w, r, "provider_request_limit_exceeded")
				return
			}
		}
		if conn.user.errorCode != "" && ep != epMe {
			if async {
				s.startTask(w, r, conn, nil, conn.user.errorCode, webhook)
				return
			}
			writeCatalogued(w, r, conn.user.errorCode)
			return
		}
		if !async && (ep == epAccountTransactions || ep == epCardTransactions) {
			s.serveTransactions(w, r, ep, conn, acct, win, now)
			return
		}
		results := s.v1Results(ep, conn, acct, win, now)
		if async {
			s.startTask(w, r, conn, results, "", webhook)
			return
		}
		writeJSON(w, http.StatusOK, v1Envelope{Results: results, Status: "Succeeded"})
	}
}

type v1Envelope struct {
	Results any    `json:"results"`
	Status  string `json:"status"`
}

// v1Results builds the results array of an endpoint.
func (s *Server) v1Results(ep endpoint, conn *connection, acct bankdata.Account, win window, now time.Time) any {
	ds := conn.data()
	switch ep {
	case epMe:
		conn.mu.Lock()
		defer conn.mu.Unlock()
		return []v1Me{{
			ClientID:               conn.clientID,
			CredentialsID:          conn.id,
			ConsentStatus:          conn.statusLocked(now),
			ConsentStatusUpdatedAt: ts(conn.statusUpdatedAt),
			ConsentCreatedAt:       ts(conn.createdAt),
			ConsentExpiresAt:       ts(conn.expiresAt),
			Provider:               toV1Provider(conn.provider),
			Scopes:                 append([]string(nil), conn.scopes...),
			PrivacyPolicy:          "Feb2019",
		}}
	case epInfo:
		return []v1Info{toV1Info(ds.Identity(), now)}
	case epAccounts, epCards:
		out := []any{}
		for _, a := range ds.Accounts() {
			if a.IsCard() != (ep == epCards) {
				continue
			}
			if ep == epCards {
				out = append(out, toV1Card(a, conn.provider, now))
			} else {
				out = append(out, toV1Account(a, conn.provider, now))
			}
		}
		return out
	case epAccount:
		return []v1Account{toV1Account(acct, conn.provider, now)}
	case epCard:
		return []v1Card{toV1Card(acct, conn.provider, now)}
	case epAccountBalance, epCardBalance:
		b, _ := ds.BalanceAt(acct.ID, now) // the account exists: checked by the caller
		if ep == epCardBalance {
			return []v1CardBalance{toV1CardBalance(b)}
		}
		return []v1Balance{toV1Balance(acct, b)}
	case epAccountTransactions, epCardTransactions:
		txs := ds.Transactions(acct.ID, win.from, win.to)
		out := make([]v1Transaction, len(txs))
		for i, tx := range txs {
			out[i] = toV1Transaction(acct, tx)
		}
		return out
	case epAccountPending, epCardPending:
		out := []v1Transaction{}
		for _, tx := range ds.Pending(acct.ID, now) {
			if !tx.Timestamp.Before(win.from) && !tx.Timestamp.After(win.to) {
				out = append(out, toV1Transaction(acct, tx))
			}
		}
		return out
	case epStandingOrders:
		out := []v1StandingOrder{}
		for _, so := range ds.StandingOrders(acct.ID, now) {
			out = append(out, toV1StandingOrder(so, now))
		}
		return out
	case epDirectDebits:
		out := []v1DirectDebit{}
		for _, dd := range ds.DirectDebits(acct.ID, now) {
			out = append(out, toV1DirectDebit(dd, now))
		}
		return out
	}
	return []any{}
}

// window is a transaction query's [from, to], with to capped at now.
type window struct{ from, to time.Time }

// parseDate accepts YYYY-MM-DD and date-times with or without an offset.
// A bare date means the start of the day, or its end when endOfDay.
func parseDate(s string, endOfDay bool) (time.Time, bool) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if endOfDay {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		return t, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseWindow validates from/to: invalid_date_range for from after to, a
// to after today, or a from older than MaxHistory; sca_exceeded for history
// older than SCAHistory outside the SCA window after authentication.
func (s *Server) parseWindow(r *http.Request, now, authTime time.Time) (window, string) {
	q := r.URL.Query()
	w := window{to: now}
	if v := q.Get("to"); v != "" {
		t, ok := parseDate(v, true)
		if !ok {
			return w, "invalid_date_range"
		}
		today := now.UTC().Truncate(24 * time.Hour)
		if !t.Before(today.Add(24 * time.Hour)) {
			return w, "invalid_date_range"
		}
		if t.Before(now) {
			w.to = t
		}
	}
	w.from = w.to.Add(-s.opts.SCAHistory).Add(time.Second)
	if v := q.Get("from"); v != "" {
		t, ok := parseDate(v, false)
		if !ok {
			return w, "invalid_date_range"
		}
		w.from = t
	}
	if w.from.After(w.to) {
		return w, "invalid_date_range"
	}
	if w.from.Before(now.Add(-s.opts.MaxHistory)) {
		return w, "invalid_date_range"
	}
	if w.from.Before(now.Add(-s.opts.SCAHistory)) && now.After(authTime.Add(s.opts.SCAWindow)) {
		return w, "sca_exceeded"
	}
	return w, ""
}

// admitUnattended enforces the regulatory limit of UnattendedLimit calls
// per connection, account and endpoint in a rolling 24 hours for calls
// without X-PSU-IP. Attended calls are never limited nor counted.
func (s *Server) admitUnattended(conn *connection, accountID string, ci *callInfo, now time.Time) bool {
	if ci.attended || s.opts.UnattendedLimit < 0 {
		return true
	}
	key := accountID + "|" + ci.endpoint
	cutoff := now.Add(-24 * time.Hour)
	conn.mu.Lock()
	defer conn.mu.Unlock()
	if conn.unattended == nil {
		conn.unattended = map[string][]time.Time{}
	}
	kept := conn.unattended[key][:0]
	for _, t := range conn.unattended[key] {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	if len(kept) >= s.opts.UnattendedLimit {
		conn.unattended[key] = kept
		return false
	}
	conn.unattended[key] = append(kept, now)
	return true
}

// marshalEnvelope encodes a v1 success envelope.
func marshalEnvelope(results any) ([]byte, error) {
	b, err := json.Marshal(v1Envelope{Results: results, Status: "Succeeded"})
	if err != nil {
		return nil, fmt.Errorf("encode results: %w", err)
	}
	return b, nil
}

// baseURL is the externally visible URL of the sandbox for this request.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + strings.TrimSpace(r.Host)
}

// serveTransactions answers a booked-transactions call, from the cache when
// the same window was encoded before.
func (s *Server) serveTransactions(w http.ResponseWriter, r *http.Request, ep endpoint, conn *connection, acct bankdata.Account, win window, now time.Time) {
	key := txCacheKey(conn.data(), acct.ID, ep, win)
	body, ok := s.txCache.get(key)
	if !ok {
		var err error
		if body, err = marshalEnvelope(s.v1Results(ep, conn, acct, win, now)); err != nil {
			writeCatalogued(w, r, "internal_server_error")
			return
		}
		s.txCache.put(key, body)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}
