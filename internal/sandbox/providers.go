package sandbox

import "strings"

// provider is a bank the auth dialog offers. Every provider logs into the same
// mock bank; they differ in country, groups and supported scopes.
type provider struct {
	ID          string
	DisplayName string
	Country     string
	Groups      []string
	Scopes      []string
	LogoURL     string
}

func (p *provider) supports(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

var allScopes = []string{"info", "accounts", "balance", "transactions", "cards", "direct_debits", "standing_orders", "offline_access"}

// sandboxProviders: "mock" is TrueLayer's sandbox bank; the other two are
// sandbox extensions that let clients exercise provider capabilities (a
// bank without cards answers 501 endpoint_not_supported on /cards).
var sandboxProviders = []*provider{
	{ID: "mock", DisplayName: "Mock", Country: "uk", Groups: []string{"uk-cs-mock"}, Scopes: allScopes,
		LogoURL: "https://truelayer-provider-assets.s3.amazonaws.com/global/logos/mock.svg"},
	{ID: "ob-mock", DisplayName: "Mock Open Banking", Country: "uk", Groups: []string{"uk-ob-all", "uk-oauth-all"},
		Scopes:  []string{"info", "accounts", "balance", "transactions", "direct_debits", "standing_orders", "offline_access"},
		LogoURL: "https://truelayer-provider-assets.s3.amazonaws.com/global/logos/mock.svg"},
	{ID: "xs2a-mock", DisplayName: "Mock Bank DE", Country: "de", Groups: []string{"de-xs2a-all"},
		Scopes:  []string{"info", "accounts", "balance", "transactions", "offline_access"},
		LogoURL: "https://truelayer-provider-assets.s3.amazonaws.com/global/logos/mock.svg"},
}

func providerByID(id string) *provider {
	for _, p := range sandboxProviders {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// selectProviders resolves the auth link's providers / enable_mock
// parameters to the offered providers. Without either, the default group
// uk-oauth-all applies (TrueLayer's default starts "uk-oa…").
func selectProviders(providersParam string, enableMock bool) []*provider {
	want := strings.Fields(providersParam)
	if len(want) == 0 && !enableMock {
		want = []string{"uk-oauth-all"}
	}
	if enableMock {
		want = append(want, "mock")
	}
	var out []*provider
	for _, p := range sandboxProviders {
		for _, w := range want {
			if w == p.ID || contains(p.Groups, w) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
