package truelayer_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/consent-operator/consent-operator/internal/provider"
	"github.com/consent-operator/consent-operator/internal/provider/truelayer"
)

func TestAuthLink(t *testing.T) {
	base := provider.Connection{
		Credentials: provider.Credentials{ClientID: "cid", ClientSecret: "secret"},
		DataAPI:     truelayer.DataAPIV1, Environment: "Sandbox",
		Scopes: []string{"info", "accounts"}, RedirectURI: "https://gw.example/cb",
	}
	for _, tc := range []struct {
		name   string
		opts   truelayer.Options
		mutate func(*provider.Connection)
		want   map[string]string // "" value: parameter absent
		host   string
	}{
		{"recurring adds offline_access; sandbox offers Mock", truelayer.Options{}, nil,
			map[string]string{"scope": "info accounts offline_access", "providers": "uk-cs-mock uk-ob-all uk-oauth-all", "provider_id": "", "response_mode": ""},
			truelayer.SandboxAuthURL},
		{"unset DataAccess means Recurring", truelayer.Options{}, func(c *provider.Connection) { c.DataAccess = "" },
			map[string]string{"scope": "info accounts offline_access"}, truelayer.SandboxAuthURL},
		{"one-time: no offline_access", truelayer.Options{}, func(c *provider.Connection) { c.DataAccess = "OneTime" },
			map[string]string{"scope": "info accounts"}, truelayer.SandboxAuthURL},
		{"offline_access not duplicated", truelayer.Options{}, func(c *provider.Connection) {
			c.Scopes = []string{"offline_access", "info", "info"}
		}, map[string]string{"scope": "offline_access info"}, truelayer.SandboxAuthURL},
		{"signupplus scope for SignupPlus", truelayer.Options{}, func(c *provider.Connection) { c.DataAPI = truelayer.DataAPISignupPlus },
			map[string]string{"scope": "info accounts signupplus offline_access"}, truelayer.SandboxAuthURL},
		{"provider_id is covered by providers", truelayer.Options{}, func(c *provider.Connection) {
			c.ProviderID = "ob-monzo"
			c.Providers = []string{"uk-ob-all"}
		}, map[string]string{"providers": "uk-ob-all ob-monzo", "provider_id": "ob-monzo"}, truelayer.SandboxAuthURL},
		{"provider_id alone", truelayer.Options{}, func(c *provider.Connection) { c.ProviderID = "mock" },
			map[string]string{"providers": "mock", "provider_id": "mock"}, truelayer.SandboxAuthURL},
		{"live: TrueLayer's default providers", truelayer.Options{}, func(c *provider.Connection) { c.Environment = "Live" },
			map[string]string{"providers": ""}, truelayer.LiveAuthURL},
		{"form_post", truelayer.Options{ResponseMode: "form_post"}, nil,
			map[string]string{"response_mode": "form_post"}, truelayer.SandboxAuthURL},
		{"override host", truelayer.Options{AuthURL: "http://127.0.0.1:9/"}, func(c *provider.Connection) { c.Environment = "Live" },
			map[string]string{"client_id": "cid"}, "http://127.0.0.1:9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := truelayer.New(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			conn := base
			conn.Scopes = append([]string(nil), base.Scopes...)
			if tc.mutate != nil {
				tc.mutate(&conn)
			}
			a, err := c.BeginAuthorization(context.Background(), conn, "st/ate")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(a.URL, tc.host+"/?") {
				t.Fatalf("link %q does not start with %s/?", a.URL, tc.host)
			}
			if strings.Contains(a.URL, "+") || strings.Contains(a.URL, "secret") {
				t.Fatalf("link %q has '+' or the secret", a.URL)
			}
			u, _ := url.Parse(a.URL)
			q := u.Query()
			if q.Get("response_type") != "code" || q.Get("state") != "st/ate" || q.Get("redirect_uri") != "https://gw.example/cb" {
				t.Fatalf("link %q", a.URL)
			}
			for k, v := range tc.want {
				if v == "" && q.Has(k) {
					t.Errorf("%s present: %q", k, q.Get(k))
				} else if v != "" && q.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v)
				}
			}
		})
	}
}

func TestBadConfiguration(t *testing.T) {
	if _, err := truelayer.New(truelayer.Options{ResponseMode: "fragment"}); err == nil {
		t.Fatal("response mode fragment accepted")
	}
	if _, err := truelayer.New(truelayer.Options{V3Flow: "popup"}); err == nil {
		t.Fatal("v3 flow popup accepted")
	}
	c, err := truelayer.New(truelayer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := provider.Connection{Credentials: provider.Credentials{ClientID: "cid", ClientSecret: "s"}, Scopes: []string{"info"}, RedirectURI: "https://gw/cb"}
	for name, mutate := range map[string]func(*provider.Connection){
		"unknown environment": func(c *provider.Connection) { c.Environment = "Staging" },
		"unknown data API":    func(c *provider.Connection) { c.DataAPI = "V2" },
		"no redirect URI":     func(c *provider.Connection) { c.RedirectURI = "" },
		"no scopes":           func(c *provider.Connection) { c.Scopes = nil; c.DataAccess = "OneTime" },
		"no client id":        func(c *provider.Connection) { c.Credentials.ClientID = "" },
		"v3 cards scope":      func(c *provider.Connection) { c.DataAPI = truelayer.DataAPIV3; c.Scopes = []string{"cards"} },
	} {
		conn := good
		mutate(&conn)
		_, err := c.BeginAuthorization(ctx, conn, "")
		if pe, ok := provider.AsError(err); !ok || pe.Class != provider.ClassInvalidRequest {
			t.Errorf("%s: want InvalidRequest, got %v", name, err)
		}
	}
	// Missing credentials at the token endpoint need a human, without a call.
	conn := good
	conn.Credentials.ClientSecret = ""
	_, err = c.Refresh(ctx, conn, "rt")
	if pe, ok := provider.AsError(err); !ok || pe.Reason != provider.ReasonInvalidClientCredentials {
		t.Errorf("empty secret: %v", err)
	}
}

func TestFormPostLinkAcceptedBySandbox(t *testing.T) {
	e := newEnv(t, nil, func(o *truelayer.Options) { o.ResponseMode = "form_post" })
	conn := e.conn(truelayer.DataAPIV1)
	conn.ProviderID = "mock"
	tok, _ := e.connectV1(conn)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
}
