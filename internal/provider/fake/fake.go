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

func (p *Provider) BeginAuthorization(ctx context.Context, c provider.Connection, state string) (provider.Authorization, error) {
	p.record("BeginAuthorization", c, nil)
	if p.BeginAuthorizationFn == nil {
		return provider.Authorization{}, nil
	}
	return p.BeginAuthorizationFn(ctx, c, state)
}

func (p *Provider) CompleteAuthorization(ctx context.Context, c provider.Connection, cb provider.Callback) (provider.Grant, error) {
	p.record("CompleteAuthorization", c, nil)
	if p.CompleteAuthorizationFn == nil {
		return provider.Grant{}, nil
	}
	return p.CompleteAuthorizationFn(ctx, c, cb)
}

func (p *Provider) Refresh(ctx context.Context, c provider.Connection, refreshToken string) (provider.Tokens, error) {
	p.record("Refresh", c, nil)
	if p.RefreshFn == nil {
		return provider.Tokens{}, nil
	}
	return p.RefreshFn(ctx, c, refreshToken)
}

func (p *Provider) Consent(ctx context.Context, c provider.Connection, s provider.Session) (provider.Consent, error) {
	p.record("Consent", c, &s)
	if p.ConsentFn == nil {
		return provider.Consent{}, nil
	}
	return p.ConsentFn(ctx, c, s)
}

func (p *Provider) Extend(ctx context.Context, c provider.Connection, s provider.Session) (provider.Extension, error) {
	p.record("Extend", c, &s)
	if p.ExtendFn == nil {
		return provider.Extension{}, nil
	}
	return p.ExtendFn(ctx, c, s)
}

func (p *Provider) Revoke(ctx context.Context, c provider.Connection, s provider.Session) error {
	p.record("Revoke", c, &s)
	if p.RevokeFn == nil {
		return nil
	}
	return p.RevokeFn(ctx, c, s)
}

func (p *Provider) Fetch(ctx context.Context, c provider.Connection, s provider.Session, f provider.Fetch) (provider.FetchResult, error) {
	p.record("Fetch", c, &s)
	if p.FetchFn == nil {
		return provider.FetchResult{}, nil
	}
	return p.FetchFn(ctx, c, s, f)
}

func (p *Provider) Collect(ctx context.Context, c provider.Connection, s provider.Session, t provider.Task, f provider.Fetch) (*provider.Data, error) {
	p.record("Collect", c, &s)
	if p.CollectFn == nil {
		return nil, nil
	}
	return p.CollectFn(ctx, c, s, t, f)
}

func (p *Provider) DebugID(ctx context.Context, c provider.Connection, s provider.Session) (provider.DebugID, error) {
	p.record("DebugID", c, &s)
	if p.DebugIDFn == nil {
		return provider.DebugID{}, nil
	}
	return p.DebugIDFn(ctx, c, s)
}

func (p *Provider) Banks(ctx context.Context, c provider.Connection) ([]provider.Bank, error) {
	p.record("Banks", c, nil)
	if p.BanksFn == nil {
		return nil, nil
	}
	return p.BanksFn(ctx, c)
}

func (p *Provider) Reauthorize(ctx context.Context, c provider.Connection, s provider.Session, state string) (provider.Authorization, error) {
	p.record("Reauthorize", c, &s)
	if p.ReauthorizeFn == nil {
		return provider.Authorization{}, nil
	}
	return p.ReauthorizeFn(ctx, c, s, state)
}
