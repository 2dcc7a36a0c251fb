package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/repo"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

var nsCounter atomic.Int32

// newNamespace creates a namespace of its own for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("validation-%d", nsCounter.Add(1))}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

func fromYAML(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatalf("parsing YAML: %v", err)
	}
	return obj
}

const validBankConnection = `
apiVersion: banking.consent-operator.dev/v1alpha1
kind: BankConnection
metadata:
  name: conn
spec:
  provider: TrueLayer
  clientSecretRef: {name: truelayer-client}
  scopes: [info, accounts, balance, transactions, offline_access]
  userRef: user-1
`

// The messages of the CEL rules on spec.schedule and spec.timeZone, as users read them.
const (
	scheduleMessage = "schedule must be five cron fields (minute hour day-of-month month day-of-week, for example '0 6 * * *') or one of @yearly, @monthly, @weekly, @daily, @hourly or @every <duration> (for example '@every 6h')"
	timeZoneMessage = "timeZone must be an IANA time zone name, for example 'Europe/London' or 'UTC'"
)

const validSyncJob = `
apiVersion: banking.consent-operator.dev/v1alpha1
kind: SyncJob
metadata:
  name: job
spec:
  connectionRef: {name: conn}
  resources: [Accounts, Transactions]
`

func TestSamplesAreAccepted(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(root, "config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t)
	applied := 0
	for _, path := range paths {
		if filepath.Base(path) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		obj := fromYAML(t, string(data))
		obj.SetNamespace(ns)
		if err := env.Client.Create(context.Background(), obj); err != nil {
			t.Errorf("sample %s rejected: %v", filepath.Base(path), err)
			continue
		}
		applied++
	}
	if applied < 4 {
		t.Fatalf("applied %d samples, expected at least 4 (BankConnection and SyncJob samples)", applied)
	}
}

// TestInvalidManifestsAreRejected applies one mistake at a time to a valid manifest and
// checks the apiserver refuses it with a message naming the field and the rule.
func TestInvalidManifestsAreRejected(t *testing.T) {
	ns := newNamespace(t)
	cases := []struct {
		name   string
		base   string
		mutate func(spec map[string]any)
		want   []string
	}{
		{"provider missing", validBankConnection, func(s map[string]any) { delete(s, "provider") },
			[]string{"spec.provider", "Required value"}},
		{"provider unknown", validBankConnection, func(s map[string]any) { s["provider"] = "Plaid" },
			[]string{"spec.provider", `supported values: "TrueLayer", "Codat"`}},
		{"environment unknown", validBankConnection, func(s map[string]any) { s["environment"] = "Production" },
			[]string{"spec.environment", `supported values: "Sandbox", "Live"`}},
		{"dataAPI unknown", validBankConnection, func(s map[string]any) { s["dataAPI"] = "V2" },
			[]string{"spec.dataAPI", `supported values: "V1", "V3", "SignupPlus"`}},
		{"dataAPI with Codat", validBankConnection, func(s map[string]any) { s["provider"] = "Codat"; s["dataAPI"] = "V1" },
			[]string{"spec", "dataAPI is only valid with provider TrueLayer"}},
		{"companyName with TrueLayer", validBankConnection, func(s map[string]any) { s["companyName"] = "Acme Ltd" },
			[]string{"spec", "companyName is only valid with provider Codat"}},
		{"companyName too long", validBankConnection, func(s map[string]any) { s["provider"] = "Codat"; s["companyName"] = strings.Repeat("a", 101) },
			[]string{"spec.companyName", "Too long"}},
		{"notifications url not a URL", validBankConnection, func(s map[string]any) {
			s["notifications"] = map[string]any{"url": "app.example.com/hooks", "signingSecretRef": map[string]any{"name": "hooks", "key": "secret"}}
		}, []string{"spec.notifications.url", "url must be an absolute https URL"}},
		{"notifications url of another scheme", validBankConnection, func(s map[string]any) {
			s["notifications"] = map[string]any{"url": "ftp://app.example.com/", "signingSecretRef": map[string]any{"name": "hooks", "key": "secret"}}
		}, []string{"spec.notifications.url", "url must be an absolute https URL"}},
		{"notifications without a signing Secret", validBankConnection, func(s map[string]any) {
			s["notifications"] = map[string]any{"url": "https://app.example.com/hooks"}
		}, []string{"spec.notifications.signingSecretRef", "Required value"}},
		{"clientSecretRef missing", validBankConnection, func(s map[string]any) { delete(s, "clientSecretRef") },
			[]string{"spec.clientSecretRef", "Required value"}},
		{"clientSecretRef bad name", validBankConnection, func(s map[string]any) { s["clientSecretRef"] = map[string]any{"name": "Bad_Name"} },
			[]string{"spec.clientSecretRef.name", "should match"}},
		{"scope unknown", validBankConnection, func(s map[string]any) { s["scopes"] = []any{"accounts", "payments"} },
			[]string{"spec.scopes[1]", "supported values"}},
		{"scopes missing for TrueLayer", validBankConnection, func(s map[string]any) { delete(s, "scopes") },
			[]string{"spec", "scopes are required with provider TrueLayer"}},
		{"balance without accounts or cards", validBankConnection, func(s map[string]any) { s["scopes"] = []any{"info", "balance"} },
			[]string{"spec.scopes", "balance and transactions need the accounts or cards scope"}},
		{"transactions without accounts or cards", validBankConnection, func(s map[string]any) { s["scopes"] = []any{"transactions"} },
			[]string{"spec.scopes", "balance and transactions need the accounts or cards scope"}},
		{"standing orders without accounts", validBankConnection, func(s map[string]any) { s["scopes"] = []any{"cards", "standing_orders"} },
			[]string{"spec.scopes", "standing_orders and direct_debits need the accounts scope"}},
		{"v3 with balance", validBankConnection, func(s map[string]any) { s["dataAPI"] = "V3" },
			[]string{"spec", "Data API V3 allows only info, accounts and transactions"}},
		{"SignupPlus without signupplus", validBankConnection, func(s map[string]any) { s["dataAPI"] = "SignupPlus" },
			[]string{"spec", "dataAPI SignupPlus needs the signupplus scope"}},
		{"OneTime with offline_access", validBankConnection, func(s map[string]any) { s["dataAccess"] = "OneTime" },
			[]string{"spec", "offline_access contradicts dataAccess OneTime"}},
		{"dataAccess unknown", validBankConnection, func(s map[string]any) { s["dataAccess"] = "Forever" },
			[]string{"spec.dataAccess", `supported values: "OneTime", "Recurring"`}},
		{"userRef missing", validBankConnection, func(s map[string]any) { delete(s, "userRef") },
			[]string{"spec.userRef", "Required value"}},
		{"userRef too long", validBankConnection, func(s map[string]any) { s["userRef"] = strings.Repeat("u", 129) },
			[]string{"spec.userRef", "may not be more than 128"}},
		{"userRef with spaces", validBankConnection, func(s map[string]any) { s["userRef"] = "alice smith" },
			[]string{"spec.userRef", "should match"}},
		{"returnURL plain http", validBankConnection, func(s map[string]any) { s["redirect"] = map[string]any{"returnURL": "http://app.example.com/done"} },
			[]string{"spec.redirect.returnURL", "returnURL must be an absolute https URL (http only for localhost)"}},
		{"returnURL not a URL", validBankConnection, func(s map[string]any) { s["redirect"] = map[string]any{"returnURL": "app.example.com/done"} },
			[]string{"spec.redirect.returnURL", "returnURL must be an absolute https URL"}},
		{"renewBefore above 50m", validBankConnection, func(s map[string]any) { s["refresh"] = map[string]any{"renewBefore": "55m"} },
			[]string{"spec.refresh.renewBefore", "renewBefore must be between 1m and 50m"}},
		{"renewBefore not a duration", validBankConnection, func(s map[string]any) { s["refresh"] = map[string]any{"renewBefore": "ten minutes"} },
			[]string{"spec.refresh.renewBefore", "should match"}},
		{"refresh policy unknown", validBankConnection, func(s map[string]any) { s["refresh"] = map[string]any{"policy": "Always"} },
			[]string{"spec.refresh.policy", `supported values: "KeepFresh", "OnDemand"`}},
		{"notifyBefore beyond the consent", validBankConnection, func(s map[string]any) { s["reconsent"] = map[string]any{"notifyBefore": "2200h"} },
			[]string{"spec.reconsent.notifyBefore", "notifyBefore must be between 1h and 2136h"}},
		{"encryptionKeyRef without key", validBankConnection, func(s map[string]any) {
			s["tokenSecret"] = map[string]any{"encryptionKeyRef": map[string]any{"name": "keys"}}
		}, []string{"spec.tokenSecret.encryptionKeyRef.key", "Required value"}},

		{"connectionRef missing", validSyncJob, func(s map[string]any) { delete(s, "connectionRef") },
			[]string{"spec.connectionRef", "Required value"}},
		{"resources empty", validSyncJob, func(s map[string]any) { s["resources"] = []any{} },
			[]string{"spec.resources", "should have at least 1 items"}},
		{"resources missing", validSyncJob, func(s map[string]any) { delete(s, "resources") },
			[]string{"spec.resources", "Required value"}},
		{"resource unknown", validSyncJob, func(s map[string]any) { s["resources"] = []any{"Payments"} },
			[]string{"spec.resources[0]", "supported values"}},
		{"schedule not cron", validSyncJob, func(s map[string]any) { s["schedule"] = "every six hours" },
			[]string{"spec.schedule", scheduleMessage}},
		{"schedule with six fields", validSyncJob, func(s map[string]any) { s["schedule"] = "0 0 6 * * *" },
			[]string{"spec.schedule", scheduleMessage}},
		{"schedule with a time zone prefix", validSyncJob, func(s map[string]any) { s["schedule"] = "CRON_TZ=Europe/London 0 6 * * *" },
			[]string{"spec.schedule", scheduleMessage}},
		{"schedule @every without a duration", validSyncJob, func(s map[string]any) { s["schedule"] = "@every day" },
			[]string{"spec.schedule", scheduleMessage}},
		{"schedule descriptor unknown", validSyncJob, func(s map[string]any) { s["schedule"] = "@fortnightly" },
			[]string{"spec.schedule", scheduleMessage}},
		{"timeZone with a space", validSyncJob, func(s map[string]any) { s["schedule"] = "@daily"; s["timeZone"] = "Europe/Isle of Man" },
			[]string{"spec.timeZone", timeZoneMessage}},
		{"timeZone Local", validSyncJob, func(s map[string]any) { s["schedule"] = "@daily"; s["timeZone"] = "Local" },
			[]string{"spec.timeZone", timeZoneMessage}},
		{"timeZone without schedule", validSyncJob, func(s map[string]any) { s["timeZone"] = "Europe/London" },
			[]string{"spec", "timeZone needs a schedule"}},
		{"historyLimit above 50", validSyncJob, func(s map[string]any) { s["historyLimit"] = int64(51) },
			[]string{"spec.historyLimit", "should be less than or equal to 50"}},
		{"historyLimit negative", validSyncJob, func(s map[string]any) { s["historyLimit"] = int64(-1) },
			[]string{"spec.historyLimit", "should be greater than or equal to 0"}},
		{"mode unknown", validSyncJob, func(s map[string]any) { s["mode"] = "Batch" },
			[]string{"spec.mode", `supported values: "Async", "Sync"`}},
		{"lookback too short", validSyncJob, func(s map[string]any) { s["transactions"] = map[string]any{"lookback": "1h"} },
			[]string{"spec.transactions.lookback", "lookback must be between 24h and 52560h"}},
		{"overlap not shorter than lookback", validSyncJob, func(s map[string]any) {
			s["transactions"] = map[string]any{"lookback": "48h", "overlap": "48h"}
		}, []string{"spec.transactions", "overlap must be shorter than lookback"}},
		{"overlap above 720h", validSyncJob, func(s map[string]any) { s["transactions"] = map[string]any{"overlap": "721h"} },
			[]string{"spec.transactions.overlap", "overlap must be between 0s and 720h"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := fromYAML(t, tc.base)
			obj.SetNamespace(ns)
			obj.SetName(fmt.Sprintf("case-%d", i))
			spec := obj.Object["spec"].(map[string]any)
			tc.mutate(spec)
			err := env.Client.Create(context.Background(), obj)
			if err == nil {
				t.Fatalf("accepted; want rejection mentioning %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err.Error(), w)
				}
			}
			// Nothing was stored.
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(obj.GroupVersionKind())
			if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), got); err == nil {
				t.Errorf("rejected object was stored")
			}
		})
	}
}

// TestSchedulesAccepted: the shapes the operator's cron parser reads pass the CEL rules
// (their values are the reconciler's to check).
func TestSchedulesAccepted(t *testing.T) {
	ns := newNamespace(t)
	for i, tc := range []struct{ schedule, timeZone string }{
		{"0 6 * * *", ""},
		{"*/15 9-17 * * MON-FRI", "Europe/London"},
		{"0 0 1,15 JAN-MAR ?", "America/Argentina/Buenos_Aires"},
		{"0\t6 * * *", "Etc/GMT+3"},
		{"@daily", "UTC"},
		{"@every 1h30m", ""},
		{"@every 1.5h", ""},
		{"61 * * * *", "Mars/Olympus"}, // the right shape: the reconciler refuses the values
	} {
		obj := fromYAML(t, validSyncJob)
		obj.SetNamespace(ns)
		obj.SetName(fmt.Sprintf("accepted-%d", i))
		spec := obj.Object["spec"].(map[string]any)
		spec["schedule"] = tc.schedule
		if tc.timeZone != "" {
			spec["timeZone"] = tc.timeZone
		}
		if err := env.Client.Create(context.Background(), obj); err != nil {
			t.Errorf("schedule %q, timeZone %q refused: %v", tc.schedule, tc.timeZone, err)
		}
	}
}

func TestImmutableFields(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		mutate func(spec *bankingv1alpha1.BankConnectionSpec)
		want   string
	}{
		{"provider", func(s *bankingv1alpha1.BankConnectionSpec) {
			s.Provider = bankingv1alpha1.ProviderCodat
			s.DataAPI = ""
		},
			"provider is immutable"},
		{"environment set to Live", func(s *bankingv1alpha1.BankConnectionSpec) { s.Environment = bankingv1alpha1.EnvironmentLive },
			"environment is immutable"},
		{"dataAPI", func(s *bankingv1alpha1.BankConnectionSpec) {
			s.DataAPI = bankingv1alpha1.DataAPIV3
			s.Scopes = []bankingv1alpha1.Scope{bankingv1alpha1.ScopeAccounts}
		}, "dataAPI is immutable"},
		{"tokenSecret name", func(s *bankingv1alpha1.BankConnectionSpec) {
			s.TokenSecret = &bankingv1alpha1.TokenSecretSpec{Name: "other-token"}
		}, "tokenSecret.name is immutable"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bc := &bankingv1alpha1.BankConnection{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("immutable-%d", i)},
				Spec: bankingv1alpha1.BankConnectionSpec{
					Provider:        bankingv1alpha1.ProviderTrueLayer,
					ClientSecretRef: bankingv1alpha1.SecretReference{Name: "truelayer-client"},
					Scopes:          []bankingv1alpha1.Scope{bankingv1alpha1.ScopeInfo, bankingv1alpha1.ScopeAccounts},
					UserRef:         "user-1",
				},
			}
			if err := env.Client.Create(ctx, bc); err != nil {
				t.Fatalf("creating: %v", err)
			}
			// A mutable field can change.
			bc.Spec.Suspend = true
			if err := env.Client.Update(ctx, bc); err != nil {
				t.Fatalf("changing a mutable field was rejected: %v", err)
			}
			tc.mutate(&bc.Spec)
			err := env.Client.Update(ctx, bc)
			if err == nil {
				t.Fatalf("update accepted; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err.Error(), tc.want)
			}
		})
	}
}

// TestStatusIsASubresource checks that spec and status are written through separate
// endpoints, so users cannot forge status and the operator cannot change spec.
func TestStatusIsASubresource(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	bc := &bankingv1alpha1.BankConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "status"},
		Spec: bankingv1alpha1.BankConnectionSpec{
			Provider:        bankingv1alpha1.ProviderTrueLayer,
			ClientSecretRef: bankingv1alpha1.SecretReference{Name: "truelayer-client"},
			Scopes:          []bankingv1alpha1.Scope{bankingv1alpha1.ScopeInfo},
			UserRef:         "user-1",
		},
	}
	if err := env.Client.Create(ctx, bc); err != nil {
		t.Fatal(err)
	}
	generation := bc.Generation

	// Status written through the main resource is dropped.
	bc.Status.AuthorizationURL = "https://forged.example.com"
	got := writeAndRead(ctx, t, env.Client.Update, bc)
	if got.Status.AuthorizationURL != "" {
		t.Fatalf("status written through the main resource was stored: %q", got.Status.AuthorizationURL)
	}

	// Spec written through the status subresource is dropped, and status is stored
	// without bumping the generation.
	got.Spec.UserRef = "user-2"
	got.Status.ConnectURL = "https://gateway.example.com/connect/x/y"
	after := writeAndRead(ctx, t, env.Client.Status().Update, got)
	if after.Spec.UserRef != "user-1" {
		t.Errorf("spec written through the status subresource was stored: userRef=%q", after.Spec.UserRef)
	}
	if after.Status.ConnectURL == "" {
		t.Errorf("status update through the subresource was not stored")
	}
	if after.Generation != generation {
		t.Errorf("status update bumped generation from %d to %d", generation, after.Generation)
	}
}

// writeAndRead writes bc with write (the main resource's Update or the status
// subresource's) and returns the BankConnection as the apiserver then stores it.
func writeAndRead[O any](ctx context.Context, t *testing.T, write func(context.Context, client.Object, ...O) error, bc *bankingv1alpha1.BankConnection) *bankingv1alpha1.BankConnection {
	t.Helper()
	if err := write(ctx, bc); err != nil {
		t.Fatal(err)
	}
	stored := &bankingv1alpha1.BankConnection{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(bc), stored); err != nil {
		t.Fatal(err)
	}
	return stored
}

// TestSyncJobPrinterColumns: `kubectl get sj` shows why a job is not Ready.
func TestSyncJobPrinterColumns(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	sj := &bankingv1alpha1.SyncJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nightly"},
		Spec: bankingv1alpha1.SyncJobSpec{
			ConnectionRef: bankingv1alpha1.LocalReference{Name: "conn"},
			Schedule:      "0 2 * * *",
			Resources:     []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceTransactions},
		},
	}
	if err := env.Client.Create(ctx, sj); err != nil {
		t.Fatal(err)
	}
	sj.Status.Conditions = []metav1.Condition{{Type: bankingv1alpha1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: bankingv1alpha1.ReasonBudgetExhausted, Message: "deferred", LastTransitionTime: metav1.Now()}}
	if err := env.Client.Status().Update(ctx, sj); err != nil {
		t.Fatal(err)
	}
	assets, err := repo.EnvtestAssets()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(assets, "kubectl"), "--kubeconfig", kubeconfig, "get", "sj", "-n", ns).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get sj: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		t.Fatalf("kubectl get sj printed:\n%s", out)
	}
	header, row := strings.Fields(lines[0]), strings.Fields(lines[1])
	want := []string{"NAME", "CONNECTION", "SCHEDULE", "LAST", "RUN", "NEXT", "RUN", "READY", "REASON"}
	if strings.Join(header, " ") != strings.Join(want, " ") {
		t.Fatalf("columns %v, want %v", header, want)
	}
	if row[len(row)-1] != bankingv1alpha1.ReasonBudgetExhausted || row[len(row)-2] != "False" {
		t.Fatalf("row %q does not end with Ready False and the reason", lines[1])
	}
}
