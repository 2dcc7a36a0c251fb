package controllers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/scheme"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// The log check runs the lifecycle in a child process of this test binary: the
// suite's logger is set once in TestMain (controller-runtime ignores a second
// SetLogger) at error level, so only a fresh process started with
// TEST_LOG_LEVEL=debug logs every line the operator can write, and its whole output
// (controller-runtime, client-go, gateway, provider clients) can be read.
const (
	leakChildEnv  = "CONSENT_OPERATOR_TOKEN_LEAK_CHILD"
	leakTokensEnv = "CONSENT_OPERATOR_TOKEN_LEAK_FILE"
)

// TestTokenLeak runs a connection's lifecycle (create, consent, refreshes, a forced
// refresh, extension, delete) and fails if any access or refresh token the provider
// issued appears in a log line, an Event, a status (every version written) or a
// metric.
func TestTokenLeak(t *testing.T) {
	if os.Getenv(leakChildEnv) == "1" {
		tokenLeakLifecycle(t, os.Getenv(leakTokensEnv))
		return
	}
	tokensFile := filepath.Join(t.TempDir(), "tokens.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestTokenLeak$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), leakChildEnv+"=1", leakTokensEnv+"="+tokensFile, "TEST_LOG_LEVEL=debug")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the lifecycle run failed: %v\n%s", err, tail(out, 8000))
	}
	raw, err := os.ReadFile(tokensFile)
	if err != nil {
		t.Fatalf("the lifecycle run recorded no tokens: %v", err)
	}
	var tokens []string
	if err := json.Unmarshal(raw, &tokens); err != nil {
		t.Fatal(err)
	}
	// The check must be able to fail: the run issued tokens, and its output is the
	// debug log of a whole lifecycle.
	if len(tokens) < 8 {
		t.Fatalf("only %d token values recorded; the lifecycle did not run", len(tokens))
	}
	for _, want := range []string{"DEBUG", "Consent journey completed", "ConsentExtended", "BankConnection finalized"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Fatalf("the lifecycle run's output has no %q line: its debug logs were not captured", want)
		}
	}
	for _, tok := range tokens {
		for _, needle := range leakNeedles(tok) {
			if bytes.Contains(out, []byte(needle)) {
				t.Errorf("a token value (%d characters, starting %q) appears in the logs", len(tok), tok[:min(6, len(tok))])
			}
		}
	}
}

// tokenLeakLifecycle is the child's part: run the lifecycle, collect, check all but
// the logs, and hand the token values to the parent.
func tokenLeakLifecycle(t *testing.T, tokensFile string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := newNamespace(t, "leak")
	col := startLeakCollector(ctx, t, ns)
	bc := consentedLeaky(t, ns)
	consented := clk.Now()
	refreshToDay83(t, bc)
	v := forceRefresh(t, bc)
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if bc.Status.LastHandledRefreshAt != v {
			return fmt.Errorf("refresh request not handled yet")
		}
		return nil
	})
	// Inside the window, autoExtend extends the consent (and the provider rotates the tokens).
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if c := bc.Status.Consent; c == nil || c.ExpiresAt == nil || !c.ExpiresAt.Time.After(consented.Add(90*24*time.Hour)) {
			return fmt.Errorf("consent not extended yet: %+v", bc.Status.Consent)
		}
		return isReady(bc)
	})
	collectEvents(ctx, t, col, ns)
	deleteAndWait(t, bc)
	collectEvents(ctx, t, col, ns)
	metrics := metricsText(t)
	col.addRaw("metrics", metrics)
	col.assertNoLeak(t, len(metrics))
	col.writeTokens(t, tokensFile)
}

// startLeakCollector collects, until ctx ends, the tokens of every version of ns's
// token Secrets and every status written to its BankConnections.
func startLeakCollector(ctx context.Context, t *testing.T, ns string) *leakCollector {
	t.Helper()
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	col := &leakCollector{tokens: map[string]bool{}}
	col.watch(ctx, t, wc, &corev1.SecretList{}, ns, func(obj any) {
		if s, ok := obj.(*corev1.Secret); ok && s.Type == bankingv1alpha1.SecretTypeToken {
			col.addToken(string(s.Data[tokensecret.KeyAccessToken]))
			col.addToken(string(s.Data[tokensecret.KeyRefreshToken]))
		}
	})
	col.watch(ctx, t, wc, &bankingv1alpha1.BankConnectionList{}, ns, func(obj any) {
		if bc, ok := obj.(*bankingv1alpha1.BankConnection); ok {
			col.addText("status", bc)
		}
	})
	return col
}

// consentedLeaky creates a connection that warns 7 days ahead and auto-extends, and
// consents as john/eternal: the provider extends without the user.
func consentedLeaky(t *testing.T, ns string) *bankingv1alpha1.BankConnection {
	t.Helper()
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "leaky-user"},
		StringData: map[string]string{"name": "Leaky Example", "email": "leaky@example.com"}})
	bc := newConnection(ns, "leaky")
	bc.Spec.Reconsent = &bankingv1alpha1.ReconsentSpec{NotifyBefore: &metav1.Duration{Duration: 7 * 24 * time.Hour},
		AutoExtend: true, UserSecretRef: &bankingv1alpha1.SecretReference{Name: "leaky-user"}}
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	consentJourney(t, bc, "eternal")
	waitFor(t, bc, isReady)
	return bc
}

// refreshToDay83 moves through scheduled refreshes, then days-long jumps to day 83
// (inside the 7-day warning window), each refreshing the token so the refresh token
// stays alive.
func refreshToDay83(t *testing.T, bc *bankingv1alpha1.BankConnection) {
	t.Helper()
	refreshedSince := func(at time.Time) func(*bankingv1alpha1.BankConnection) error {
		return func(bc *bankingv1alpha1.BankConnection) error {
			if refreshedAt(t, bc).Before(at.Truncate(time.Second)) {
				return fmt.Errorf("not refreshed since %s", at)
			}
			return nil
		}
	}
	for _, d := range []time.Duration{50 * time.Minute, 50 * time.Minute, 20 * 24 * time.Hour, 20 * 24 * time.Hour, 20 * 24 * time.Hour, 23 * 24 * time.Hour} {
		clk.Advance(d)
		at := clk.Now()
		poke(t, bc)
		waitFor(t, bc, refreshedSince(at))
	}
}

// metricsText is every metric of the process's registry in the text format.
func metricsText(t *testing.T) string {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			t.Fatal(err)
		}
	}
	return text.String()
}

// assertNoLeak checks that enough was collected for the check to mean something,
// then that no token value appears in any text collected.
func (c *leakCollector) assertNoLeak(t *testing.T, metricsLen int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tokens) < 8 {
		t.Fatalf("only %d token values seen in the token Secret; the lifecycle did not rotate tokens", len(c.tokens))
	}
	if c.count["status"] < 10 || c.count["event"] < 3 || metricsLen == 0 {
		t.Fatalf("too little collected to check: %v statuses/events, %d bytes of metrics", c.count, metricsLen)
	}
	for tok := range c.tokens {
		for _, needle := range leakNeedles(tok) {
			for kind, texts := range c.texts {
				for _, text := range texts {
					if strings.Contains(text, needle) {
						t.Errorf("a token value (%d characters) appears in a %s", len(tok), kind)
					}
				}
			}
		}
	}
}

// writeTokens hands the token values seen to the parent process, for its log check.
func (c *leakCollector) writeTokens(t *testing.T, tokensFile string) {
	t.Helper()
	c.mu.Lock()
	list := make([]string, 0, len(c.tokens))
	for tok := range c.tokens {
		list = append(list, tok)
	}
	c.mu.Unlock()
	raw, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokensFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// leakCollector holds the token values issued and every text the operator wrote.
type leakCollector struct {
	mu     sync.Mutex
	tokens map[string]bool
	texts  map[string][]string
	count  map[string]int
}

func (c *leakCollector) addToken(v string) {
	if v == "" {
		return
	}
	c.mu.Lock()
	c.tokens[v] = true
	c.mu.Unlock()
}

func (c *leakCollector) addText(kind string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf("%+v", v))
	}
	c.addRaw(kind, string(b))
}

func (c *leakCollector) addRaw(kind, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.texts == nil {
		c.texts, c.count = map[string][]string{}, map[string]int{}
	}
	c.texts[kind] = append(c.texts[kind], text)
	c.count[kind]++
}

// watch delivers every version of the objects of list's kind in ns to fn until ctx ends.
func (c *leakCollector) watch(ctx context.Context, t *testing.T, wc client.WithWatch, list client.ObjectList, ns string, fn func(any)) {
	t.Helper()
	w, err := wc.Watch(ctx, list, client.InNamespace(ns))
	if err != nil {
		t.Fatalf("watching %T: %v", list, err)
	}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			if ev.Type == watch.Added || ev.Type == watch.Modified || ev.Type == watch.Deleted {
				fn(ev.Object)
			}
		}
	}()
}

// collectEvents records the Events of ns, from both Event APIs.
func collectEvents(ctx context.Context, t *testing.T, c *leakCollector, ns string) {
	t.Helper()
	evs := &eventsv1.EventList{}
	if err := env.Client.List(ctx, evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for i := range evs.Items {
		c.addText("event", &evs.Items[i])
	}
	core := &corev1.EventList{}
	if err := env.Client.List(ctx, core, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for i := range core.Items {
		c.addText("event", &core.Items[i])
	}
}

// leakNeedles are the strings whose presence means a token leaked: the value, and
// for a JWT its signature (a log that prints a token without its header still leaks
// it).
func leakNeedles(tok string) []string {
	needles := []string{tok}
	if parts := strings.Split(tok, "."); len(parts) == 3 && len(parts[2]) >= 16 {
		needles = append(needles, parts[2])
	}
	return needles
}

func tail(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return b[len(b)-n:]
}
