// Package fake is a provider for unit tests of the code that calls one (External
// Secrets' fake provider): a provider.Client, DataClient, Debugger, BankLister and
// Reauthorizer built from function fields, recording every call. A method whose
// function is nil answers as a provider that has nothing to say would: an empty
// result and no error. Story tests use the bank sandbox over real HTTP instead.
package fake

import (
	"context"
	"sync"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// Call is one call the fake received.
type Call struct {
	// Method is the provider.Client (or optional interface) method's name.
	Method string
	Conn   provider.Connection
	// Session is the call's session (nil for calls that carry none).
	Session *provider.Session
}

// Provider is a fake provider.
type Provider struct {
	BeginAuthorizationFn    func(ctx context.Context, c provider.Connection, state string) (provider.Authorization, error)
	CompleteAuthorizationFn func(ctx context.Context, c provider.Connection, cb provider.Callback) (provider.Grant, error)
	RefreshFn               func(ctx context.Context, c provider.Connection, refreshToken string) (provider.Tokens, error)
	ConsentFn               func(ctx context.Context, c provider.Connection, s provider.Session) (provider.Consent, error)
	ExtendFn                func(ctx context.Context, c provider.Connection, s provider.Session) (provider.Extension, error)
	RevokeFn                func(ctx context.Context, c provider.Connection, s provider.Session) error
	FetchFn                 func(ctx context.Context, c provider.Connection, s provider.Session, f provider.Fetch) (provider.FetchResult, error)
	CollectFn               func(ctx context.Context, c provider.Connection, s provider.Session, t provider.Task, f provider.Fetch) (*provider.Data, error)
	DebugIDFn               func(ctx context.Context, c provider.Connection, s provider.Session) (provider.DebugID, error)
	BanksFn                 func(ctx context.Context, c provider.Connection) ([]provider.Bank, error)
	ReauthorizeFn           func(ctx context.Context, c provider.Connection, s provider.Session, state string) (provider.Authorization, error)

	mu    sync.Mutex
	calls []Call
}

var (
	_ provider.Client       = (*Provider)(nil)
	_ provider.DataClient   = (*Provider)(nil)
	_ provider.Debugger     = (*Provider)(nil)
	_ provider.BankLister   = (*Provider)(nil)
	_ provider.Reauthorizer = (*Provider)(nil)
)

// Calls returns the calls received so far, in order.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Count is how many calls of method were received.
func (p *Provider) Count(method string) int {
	n := 0
	for _, c := range p.Calls() {
		if c.Method == method {
			n++
		}
	}
	return n
}

func (p *Provider) record(method string, c provider.Connection, s *provider.Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, Call{Method: method, Conn: c, Session: s})
}

// answer records a call and answers it with fn, or with T's zero value when the
// method has no function.
func answer[T any](p *Provider, method string, c provider.Connection, s *provider.Session, set bool, fn func() (T, error)) (T, error) {
	p.record(method, c, s)
	if !set {
		var zero T
		return zero, nil
	}
	return fn()
}

func (p *Provider) BeginAuthorization(ctx context.Context, c provider.Connection, state string) (provider.Authorization, error) {
	return answer(p, "BeginAuthorization", c, nil, p.BeginAuthorizationFn != nil, func() (provider.Authorization, error) { return p.BeginAuthorizationFn(ctx, c, state) })
}

func (p *Provider) CompleteAuthorization(ctx context.Context, c provider.Connection, cb provider.Callback) (provider.Grant, error) {
	return answer(p, "CompleteAuthorization", c, nil, p.CompleteAuthorizationFn != nil, func() (provider.Grant, error) { return p.CompleteAuthorizationFn(ctx, c, cb) })
}

func (p *Provider) Refresh(ctx context.Context, c provider.Connection, refreshToken string) (provider.Tokens, error) {
	return answer(p, "Refresh", c, nil, p.RefreshFn != nil, func() (provider.Tokens, error) { return p.RefreshFn(ctx, c, refreshToken) })
}

func (p *Provider) Consent(ctx context.Context, c provider.Connection, s provider.Session) (provider.Consent, error) {
	return answer(p, "Consent", c, &s, p.ConsentFn != nil, func() (provider.Consent, error) { return p.ConsentFn(ctx, c, s) })
}

func (p *Provider) Extend(ctx context.Context, c provider.Connection, s provider.Session) (provider.Extension, error) {
	return answer(p, "Extend", c, &s, p.ExtendFn != nil, func() (provider.Extension, error) { return p.ExtendFn(ctx, c, s) })
}

func (p *Provider) Fetch(ctx context.Context, c provider.Connection, s provider.Session, f provider.Fetch) (provider.FetchResult, error) {
	return answer(p, "Fetch", c, &s, p.FetchFn != nil, func() (provider.FetchResult, error) { return p.FetchFn(ctx, c, s, f) })
}

func (p *Provider) Collect(ctx context.Context, c provider.Connection, s provider.Session, t provider.Task, f provider.Fetch) (*provider.Data, error) {
	return answer(p, "Collect", c, &s, p.CollectFn != nil, func() (*provider.Data, error) { return p.CollectFn(ctx, c, s, t, f) })
}

func (p *Provider) DebugID(ctx context.Context, c provider.Connection, s provider.Session) (provider.DebugID, error) {
	return answer(p, "DebugID", c, &s, p.DebugIDFn != nil, func() (provider.DebugID, error) { return p.DebugIDFn(ctx, c, s) })
}

func (p *Provider) Banks(ctx context.Context, c provider.Connection) ([]provider.Bank, error) {
	return answer(p, "Banks", c, nil, p.BanksFn != nil, func() ([]provider.Bank, error) { return p.BanksFn(ctx, c) })
}

func (p *Provider) Reauthorize(ctx context.Context, c provider.Connection, s provider.Session, state string) (provider.Authorization, error) {
	return answer(p, "Reauthorize", c, &s, p.ReauthorizeFn != nil, func() (provider.Authorization, error) { return p.ReauthorizeFn(ctx, c, s, state) })
}

func (p *Provider) Revoke(ctx context.Context, c provider.Connection, s provider.Session) error {
	_, err := answer(p, "Revoke", c, &s, p.RevokeFn != nil, func() (struct{}, error) { return struct{}{}, p.RevokeFn(ctx, c, s) })
	return err
}
