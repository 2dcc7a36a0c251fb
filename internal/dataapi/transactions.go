package dataapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Transaction pages: limit defaults to defaultPage, at most maxPage.
const (
	defaultPage = 100
	maxPage     = 500
)

// cursor is the position after a page's last row, opaque to callers. It names only
// rows of the caller's own scope, and the scope comes from the path, so a forged
// cursor can only move within what the caller may read.
type cursor struct {
	T time.Time `json:"t"`
	C string    `json:"c"`
	U string    `json:"u"`
	A string    `json:"a"`
	I string    `json:"i"`
}

func encodeCursor(c store.TransactionCursor) string {
	raw, _ := json.Marshal(cursor{T: c.Timestamp, C: c.Connection, U: c.ConnectionUID, A: c.AccountID, I: c.TransactionID})
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeCursor(s string) (*store.TransactionCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil || c.T.IsZero() {
		return nil, errBadRequest("cursor is not one this API returned")
	}
	return &store.TransactionCursor{Timestamp: c.T, Connection: c.C, ConnectionUID: c.U, AccountID: c.A, TransactionID: c.I}, nil
}

func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errBadRequest(name + " must be an RFC 3339 instant, e.g. 2026-01-31T00:00:00Z")
	}
	return t, nil
}

// transactions reads one page. It asks the store for one row more than the page,
// so the last page says so (no `next`) instead of costing an empty request.
func (s *Server) transactions(r *http.Request, sc *scope) (any, error) {
	limit, err := limitParam(r, defaultPage, maxPage)
	if err != nil {
		return nil, err
	}
	q := store.TransactionPageQuery{AccountID: r.URL.Query().Get(paramAccount.name), Limit: limit + 1}
	if q.From, err = timeParam(r, paramFrom.name); err != nil {
		return nil, err
	}
	if q.To, err = timeParam(r, paramTo.name); err != nil {
		return nil, err
	}
	if c := r.URL.Query().Get(paramCursor.name); c != "" {
		if q.After, err = decodeCursor(c); err != nil {
			return nil, err
		}
	}
	if sc.user != nil {
		q.User = sc.user
	} else {
		q.Connection = new(sc.owners[0].Key())
	}
	rows, err := s.Store.PageTransactions(r.Context(), q)
	if err != nil {
		return nil, err
	}
	page := TransactionPage{Items: []Transaction{}}
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = encodeCursor(rows[limit-1].Cursor())
	}
	for _, t := range rows {
		page.Items = append(page.Items, transactionView(sourceOf(t.Connection), t.Transaction))
	}
	return page, nil
}
