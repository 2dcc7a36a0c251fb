package dataapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Reads of a scope go connection by connection (a user has a handful), in the
// scope's order, so items come grouped by connection and then as the store orders
// them.

func (s *Server) connection(_ *http.Request, sc *scope) (any, error) {
	return sc.connectionView(sc.owners[0]), nil
}

func (s *Server) user(_ *http.Request, sc *scope) (any, error) {
	u := User{UserRef: sc.user.UserRef, Connections: []Connection{}}
	for _, o := range sc.owners {
		u.Connections = append(u.Connections, sc.connectionView(o))
	}
	return u, nil
}

// collect lists rows of each connection of the scope and turns them into views.
func collect[S, V any](ctx context.Context, sc *scope, list func(context.Context, store.ConnectionKey) ([]S, error),
	view func(Source, S) V) ([]V, error) {
	out := []V{}
	for _, o := range sc.owners {
		rows, err := list(ctx, o.Key())
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out = append(out, view(sourceOf(o.Key()), r))
		}
	}
	return out, nil
}

// perAccount lists an account-scoped kind of rows for every account and card of
// each connection.
func perAccount[S, V any](ctx context.Context, s *Server, sc *scope,
	list func(context.Context, store.ConnectionKey, string) ([]S, error), view func(Source, S) V) ([]V, error) {
	return collect(ctx, sc, func(ctx context.Context, k store.ConnectionKey) ([]S, error) {
		ids, err := s.accountIDs(ctx, k)
		if err != nil {
			return nil, err
		}
		var rows []S
		for _, id := range ids {
			r, err := list(ctx, k, id)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r...)
		}
		return rows, nil
	}, view)
}

// accountIDs are the ids of a connection's accounts and cards, sorted.
func (s *Server) accountIDs(ctx context.Context, k store.ConnectionKey) ([]string, error) {
	accounts, err := s.Store.ListAccounts(ctx, k)
	if err != nil {
		return nil, err
	}
	cards, err := s.Store.ListCards(ctx, k)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range accounts {
		ids = append(ids, a.AccountID)
	}
	for _, c := range cards {
		ids = append(ids, c.AccountID)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

func (s *Server) accounts(r *http.Request, sc *scope) (any, error) {
	items, err := collect(r.Context(), sc, s.Store.ListAccounts, accountView)
	return AccountList{Items: items}, err
}

func (s *Server) cards(r *http.Request, sc *scope) (any, error) {
	items, err := collect(r.Context(), sc, s.Store.ListCards, cardView)
	return CardList{Items: items}, err
}

func (s *Server) balances(r *http.Request, sc *scope) (any, error) {
	items, err := perAccount(r.Context(), s, sc, s.Store.ListBalances, balanceView)
	return BalanceList{Items: items}, err
}

func (s *Server) pending(r *http.Request, sc *scope) (any, error) {
	items, err := perAccount(r.Context(), s, sc, s.Store.ListPending, transactionView)
	return PendingList{Items: items}, err
}

func (s *Server) standingOrders(r *http.Request, sc *scope) (any, error) {
	items, err := perAccount(r.Context(), s, sc, s.Store.ListStandingOrders, standingOrderView)
	return StandingOrderList{Items: items}, err
}

func (s *Server) directDebits(r *http.Request, sc *scope) (any, error) {
	items, err := perAccount(r.Context(), s, sc, s.Store.ListDirectDebits, directDebitView)
	return DirectDebitList{Items: items}, err
}

// identity reads the connection's identity (scope "") and each account's.
func (s *Server) identity(r *http.Request, sc *scope) (any, error) {
	ctx := r.Context()
	items := []Identity{}
	for _, o := range sc.owners {
		ids, err := s.accountIDs(ctx, o.Key())
		if err != nil {
			return nil, err
		}
		for _, acc := range append([]string{""}, ids...) {
			rows, err := s.Store.ListIdentity(ctx, o.Key(), acc)
			if err != nil {
				return nil, err
			}
			for _, id := range rows {
				items = append(items, identityView(sourceOf(o.Key()), acc, id))
			}
		}
	}
	return IdentityList{Items: items}, nil
}

// Sync runs: at most maxRuns, newest first.
const (
	defaultRuns = 50
	maxRuns     = 500
)

func (s *Server) syncRuns(r *http.Request, sc *scope) (any, error) {
	limit, err := limitParam(r, defaultRuns, maxRuns)
	if err != nil {
		return nil, err
	}
	q := store.RunQuery{Namespace: sc.namespace, Limit: limit}
	if sc.user != nil {
		q.UserRef = sc.user.UserRef
	} else {
		q.Connection = new(sc.owners[0].Key())
	}
	runs, err := s.Store.ListSyncRuns(r.Context(), q)
	if err != nil {
		return nil, err
	}
	items := []SyncRun{}
	for _, run := range runs {
		items = append(items, syncRunView(run))
	}
	return SyncRunList{Items: items}, nil
}

// limitParam reads ?limit=, 1 to max, def when absent.
func limitParam(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, errBadRequest("limit must be a whole number from 1 to " + strconv.Itoa(max))
	}
	return n, nil
}
