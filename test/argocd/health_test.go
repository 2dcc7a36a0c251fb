// Package argocd_test runs the Argo CD health checks shipped in
// charts/consent-operator/argocd against status fixtures with gopher-lua, the Lua
// interpreter Argo CD itself embeds.
package argocd_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

const scriptsDir = "../../charts/consent-operator/argocd"

// healthScript serves both kinds: argocd-cm carries it under each kind's key.
const healthScript = "health.lua"

type health struct {
	Status  string
	Message string
}

// runHealth evaluates a health script the way Argo CD does: the object as the global
// `obj` (decoded from JSON, so numbers are Lua numbers), the script's return value a
// table with status and message.
func runHealth(t *testing.T, script string, obj map[string]any) health {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	// Argo CD opens only these libraries; a script using anything else breaks there.
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		t.Fatalf("running health script: %v", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("health script returned %s, want a table", L.Get(-1).Type())
	}
	return health{Status: lua.LVAsString(ret.RawGetString("status")), Message: lua.LVAsString(ret.RawGetString("message"))}
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	default:
		panic(fmt.Sprintf("unexpected JSON value %T", v))
	}
}

// loadFixture reads a YAML fixture, checks it is a valid object of its kind (so the
// fixtures cannot drift from the API), and returns it as decoded JSON.
func loadFixture(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var typed any = &bankingv1alpha1.SyncJob{}
	if strings.Contains(path, "bankconnection") {
		typed = &bankingv1alpha1.BankConnection{}
	}
	if err := yaml.UnmarshalStrict(data, typed); err != nil {
		t.Fatalf("%s is not a valid object: %v", path, err)
	}
	var obj map[string]any
	if err := json.Unmarshal(js, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func readScript(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(scriptsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestHealth(t *testing.T) {
	tests := []struct {
		fixture string
		want    health
	}{
		{"bankconnection/no-status.yaml", health{"Progressing", "Waiting for the operator to reconcile"}},
		{"bankconnection/awaiting-authorization.yaml", health{"Progressing",
			"AwaitingAuthorization: Waiting for the user to authorize at the bank (connect link: https://consent.example.com/connect/team-a/alice-monzo)"}},
		{"bankconnection/provider-unavailable.yaml", health{"Progressing",
			"ProviderUnavailable: Provider call failed, retrying with backoff: 503 Service Unavailable"}},
		{"bankconnection/ready.yaml", health{"Healthy", "Authorized: Consent is active and the token is valid"}},
		{"bankconnection/consent-expiring.yaml", health{"Healthy",
			"ConsentExpiringSoon: Consent expires at 2026-05-30T10:00:00Z (re-consent link: https://consent.example.com/connect/team-a/alice-monzo)"}},
		{"bankconnection/stalled-revoked.yaml", health{"Degraded", "ConsentRevoked: The user revoked the consent at the bank"}},
		{"bankconnection/generation-behind.yaml", health{"Progressing", "Waiting for the operator to observe generation 3"}},
		{"bankconnection/suspended.yaml", health{"Suspended", "Suspended: no provider calls are made and tokens are not refreshed"}},

		{"syncjob/no-status.yaml", health{"Progressing", "Waiting for the operator to reconcile"}},
		{"syncjob/waiting-for-connection.yaml", health{"Progressing", "WaitingForConnection: BankConnection alice-monzo is not Ready"}},
		{"syncjob/ready.yaml", health{"Healthy", "Scheduled: Last run stored 2 accounts and 340 transactions"}},
		{"syncjob/run-failed.yaml", health{"Degraded", "RunFailed: Run failed: transactions endpoint answered 500"}},
		{"syncjob/stalled-invalid-schedule.yaml", health{"Degraded", "InvalidSchedule: spec.schedule: expected exactly 5 fields, found 2"}},
		{"syncjob/generation-behind.yaml", health{"Progressing", "Waiting for the operator to observe generation 2"}},
		{"syncjob/suspended.yaml", health{"Suspended", "Suspended: no new runs are started"}},
	}
	script := readScript(t, healthScript)
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.fixture] = true
		t.Run(tt.fixture, func(t *testing.T) {
			got := runHealth(t, script, loadFixture(t, filepath.Join("testdata", tt.fixture)))
			if got != tt.want {
				t.Errorf("health\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	// Every fixture has an expectation: a new fixture without one is a forgotten case.
	fixtures, _ := filepath.Glob("testdata/*/*.yaml")
	for _, f := range fixtures {
		if rel, _ := filepath.Rel("testdata", f); !covered[filepath.ToSlash(rel)] {
			t.Errorf("fixture %s has no expected health", f)
		}
	}
}

// The argocd-cm snippet users apply must carry the tested script unchanged, under the
// keys Argo CD looks up (resource.customizations.health.<group>_<Kind>).
func TestArgoCDConfigMapSnippet(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(scriptsDir, "argocd-cm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(data, &cm); err != nil {
		t.Fatalf("argocd-cm.yaml: %v", err)
	}
	if cm.Name != "argocd-cm" || cm.Kind != "ConfigMap" {
		t.Errorf("snippet is %s %s, want ConfigMap argocd-cm", cm.Kind, cm.Name)
	}
	want := map[string]string{
		"resource.customizations.health." + bankingv1alpha1.GroupVersion.Group + "_BankConnection": readScript(t, healthScript),
		"resource.customizations.health." + bankingv1alpha1.GroupVersion.Group + "_SyncJob":        readScript(t, healthScript),
	}
	if len(cm.Data) != len(want) {
		t.Errorf("snippet has keys %v", keys(cm.Data))
	}
	for k, script := range want {
		if got, ok := cm.Data[k]; !ok {
			t.Errorf("snippet has no key %s", k)
		} else if got != script {
			t.Errorf("%s differs from the tested script", k)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
