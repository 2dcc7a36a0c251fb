// Package scale is the scale benchmark: a real kube-apiserver, the bank sandbox and
// the manager as a separate process, with thousands of BankConnections in a cluster
// that also holds thousands of unrelated Secrets. `make bench-scale` runs the full
// sizes; plain `go test` runs a small smoke size with the same assertions.
package scale

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
	"github.com/consent-operator/consent-operator/test/scale/harness"
)

// The defaults are the CI smoke size; `make bench-scale` passes the full ones.
var (
	flagN           = flag.Int("scale.n", 20, "number of BankConnections")
	flagUnrelated   = flag.Int("scale.unrelated", 200, "number of unrelated Secrets created first")
	flagConcurrency = flag.Int("scale.concurrency", 4, "manager --max-concurrent-reconciles, and the workers of the floor and of the simulated users")
	flagQPS         = flag.Float64("scale.provider-qps", 200, "manager --provider-qps (burst twice as much) while connections become Ready; the floor gets the same limit")
	flagRestartQPS  = flag.Float64("scale.restart-qps", 20, "manager --provider-qps after the restart (20 is the shipped default)")
	flagSteady      = flag.Duration("scale.steady", 10*time.Second, "steady-state window in which writes and provider calls must be zero")
	flagDueWithin   = flag.Duration("scale.due-within", 0, "after the restart, token i becomes due at restart + i/N of this (0: all due at once)")
	flagReport      = flag.String("scale.report", "", "file to append the result table to (markdown)")
	flagSkipFloor   = flag.Bool("scale.skip-floor", false, "do not run the floor")
	flagHeap        = flag.String("scale.heap-profile", "", "file to write the manager's heap profile to at the end of the steady window (it runs with --pprof-bind-address on loopback); read it with go tool pprof -top")
	flagMemLimit    = flag.String("scale.gomemlimit", "", "GOMEMLIMIT of the manager process (the chart sets it to the container's memory limit), e.g. 150MiB; empty: none")
	flagBinary      = flag.String("scale.manager-binary", "", "prebuilt consent-operator binary (default: go build ./cmd/consent-operator)")
)

const (
	operatorNS      = "consent-operator-system"
	scaleNS         = "scale"
	floorNS         = "floor"
	fairFloorNS     = "fair-floor"
	accessTokenTTL  = time.Hour
	renewBefore     = 10 * time.Minute
	settle          = 10 * time.Second
	unrelatedWorker = 16
)

type result struct {
	N, Unrelated, Concurrency int
	// MemLimit is the manager's GOMEMLIMIT ("" for none).
	MemLimit        string
	QPS, RestartQPS float64
	ReadyTime       time.Duration
	ProviderCalls   int64
	// Floor is the bare floor, FairFloor the one with the operator's guarantees.
	Floor, FairFloor floorResult
	CallsByEndpoint  harness.WriteCounts
	Writes           harness.WriteCounts
	// ByWriter are the operator's writes during the consents, from the audit log.
	ByWriter harness.AuditWrites
	// ManagerWork are the manager's reconciles and apiserver requests during the
	// consents, from its own counters.
	ManagerWork  harness.ManagerCounters
	PeakRSS      int64
	CPU          time.Duration
	SteadyWrites harness.WriteCounts
	SteadyCalls  int64
	SteadyCPU    time.Duration
	Restart      restartResult
}

// saveHeapProfile writes the manager's heap profile (after a GC) to path.
func saveHeapProfile(ctx context.Context, base, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetching the heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching the heap profile: HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing the heap profile: %w", err)
	}
	return f.Close()
}

// floorResult is what one floor run measured.
type floorResult struct {
	Time          time.Duration
	ProviderCalls int64
	Writes        harness.WriteCounts
}

// runFloor runs connect for n connections and measures it.
func runFloor(ctx context.Context, t *testing.T, cp *harness.ControlPlane, sb *harness.Sandbox, n, conc int, connect func(context.Context, int) error) floorResult {
	t.Helper()
	w0, err := harness.ReadWrites(ctx, cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	calls0 := sb.CallTotal(sandbox.CallFilter{})
	start := time.Now()
	if err := harness.Parallel(ctx, n, conc, connect); err != nil {
		t.Fatal(err)
	}
	var r floorResult
	r.Time = time.Since(start)
	r.ProviderCalls = sb.CallTotal(sandbox.CallFilter{}) - calls0
	w1, err := harness.ReadWrites(ctx, cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	r.Writes = w1.Sub(w0)
	return r
}

// removeFloor deletes a floor's connections (dropping the fair floor's finalizer,
// which no controller would remove) and token Secrets.
func removeFloor(ctx context.Context, c client.Client, ns string) error {
	var list bankingv1alpha1.BankConnectionList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	for i := range list.Items {
		bc := &list.Items[i]
		if len(bc.Finalizers) == 0 {
			continue
		}
		patch := client.MergeFrom(bc.DeepCopy())
		bc.Finalizers = nil
		if err := c.Patch(ctx, bc, patch); err != nil {
			return fmt.Errorf("dropping the floor's finalizer: %w", err)
		}
	}
	if err := c.DeleteAllOf(ctx, &bankingv1alpha1.BankConnection{}, client.InNamespace(ns)); err != nil {
		return err
	}
	return c.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(ns), client.MatchingLabels{floorLabel: "true"})
}

type restartResult struct {
	Duration      time.Duration // restart until every token refreshed
	PerMinute     []int
	Expired       int
	MinMargin     time.Duration // smallest (expiry - refresh)
	TokenCalls    int64
	InvalidGrants int64
	Writes        harness.WriteCounts
	ByWriter      harness.AuditWrites
	// ManagerWork are the restarted manager's reconciles and apiserver requests
	// (its counters start with the process: the initial lists are included).
	ManagerWork harness.ManagerCounters
	PeakRSS     int64
	CPU         time.Duration
	Probe       userPresentProbe
}

// userPresentProbe is one consent completed by a user during the refresh storm.
type userPresentProbe struct {
	// Pending is how many refreshes were still to do when the user's callback arrived.
	Pending int
	// CallbackAt is when the gateway accepted the user's callback.
	CallbackAt time.Time
	// CallbackToReady is from the gateway accepting the callback to Ready=True;
	// CreateToReady includes publishing the link and the user's journey.
	CallbackToReady, CreateToReady time.Duration
	Err                            error
}

// probeName is the connection the probe's user consents for.
const probeName = "probe-user-present"

// probeUserPresent starts a consent a few seconds into the storm and times it.
func probeUserPresent(ctx context.Context, c client.Client, users *harness.Users, logf func(string, ...any)) userPresentProbe {
	var p userPresentProbe
	time.Sleep(2 * time.Second) // the storm is under way: refreshes queue at the provider limit
	created := time.Now()
	if p.Err = c.Create(ctx, harness.NewConnection(scaleNS, probeName)); p.Err != nil {
		return p
	}
	p.Err = users.WaitCount(ctx, 1, 10*time.Minute, func(bc *bankingv1alpha1.BankConnection) bool {
		return bc.Name == probeName && harness.IsReady(bc)
	}, nil)
	ready := time.Now()
	if p.Err != nil {
		return p
	}
	if at, ok := users.CallbackAt.Load(probeName); ok {
		p.CallbackAt = at.(time.Time)
		p.CallbackToReady = ready.Sub(p.CallbackAt)
	}
	p.CreateToReady = ready.Sub(created)
	logf("restart: a user's consent during the storm took %s from callback to Ready (%s from create)",
		p.CallbackToReady.Round(time.Millisecond), p.CreateToReady.Round(time.Millisecond))
	return p
}

func init() {
	// The harness's watches log through controller-runtime; it has nothing to say.
	log.SetLogger(logr.Discard())
}

func TestScale(t *testing.T) {
	if testing.Short() {
		t.Skip("scale smoke test skipped in -short mode")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	n, conc := *flagN, *flagConcurrency
	res := result{N: n, Unrelated: *flagUnrelated, Concurrency: conc, QPS: *flagQPS, RestartQPS: *flagRestartQPS}
	logf := func(format string, args ...any) {
		fmt.Printf("[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}

	stage := harness.StartStage(ctx, t, harness.StageOptions{
		Dir: dir, Binary: *flagBinary, OperatorNamespace: operatorNS, Namespaces: []string{scaleNS, floorNS, fairFloorNS},
		Sandbox: sandbox.Options{TokenAlgorithm: sandbox.AlgES256, AccessTokenTTL: accessTokenTTL},
	})
	cp, sb, gatewayAddr, gatewayURL := stage.ControlPlane, stage.Sandbox, stage.GatewayAddr, stage.GatewayURL
	c := cp.Client

	// 1. Unrelated Secrets: the manager must not cache (or even list) them.
	start := time.Now()
	if err := harness.Parallel(ctx, res.Unrelated, unrelatedWorker, func(ctx context.Context, i int) error {
		return c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: scaleNS, Name: fmt.Sprintf("unrelated-%05d", i), Labels: map[string]string{"app": "unrelated"}},
			Data:       map[string][]byte{"payload": []byte(strings.Repeat("x", 1024))},
		})
	}); err != nil {
		t.Fatalf("creating unrelated Secrets: %v", err)
	}
	logf("%d unrelated Secrets created in %s", res.Unrelated, time.Since(start).Round(time.Millisecond))

	// The apiserver's first write of a kind compiles its validation and takes seconds:
	// warm it up so that neither run pays for it.
	warm := harness.NewConnection(floorNS, "warm-up")
	if err := c.Create(ctx, warm); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, warm); err != nil {
		t.Fatal(err)
	}

	// 2. The floors, before the manager runs (it would reconcile their objects): the
	// bare one, then the one that makes the same guarantees as the operator.
	if !*flagSkipFloor {
		for _, fl := range []struct {
			ns   string
			fair bool
			out  *floorResult
		}{{floorNS, false, &res.Floor}, {fairFloorNS, true, &res.FairFloor}} {
			f := &floor{sameGuarantees: fl.fair, c: c, sb: sb, gatewayURL: gatewayURL, http: harness.NewHTTPClient(30 * time.Second),
				limiter: rate.NewLimiter(rate.Limit(*flagQPS), int(2**flagQPS))}
			*fl.out = runFloor(ctx, t, cp, sb, n, conc, func(ctx context.Context, i int) error { return f.connect(ctx, fl.ns, i) })
			logf("floor (same guarantees: %v): %d connections in %s, %d provider calls, writes: %s", fl.fair, n,
				fl.out.Time.Round(time.Millisecond), fl.out.ProviderCalls, fl.out.Writes)
			if err := removeFloor(ctx, c, fl.ns); err != nil {
				t.Fatal(err)
			}
		}
	}

	// 3. The operator: manager process, users completing consents through the gateway.
	binary, err := stage.Binary()
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	mgr := &harness.Manager{Binary: binary, Kubeconfig: cp.Kubeconfig, LogPath: filepath.Join(dir, "manager.log")}
	managerArgs := func(qps float64) []string {
		return []string{
			"--metrics-bind-address=" + metricsAddr, "--metrics-secure=false", "--data-api-bind-address=0", "--gateway-public-url=" + gatewayURL,
			"--operator-namespace=" + operatorNS, "--store=" + filepath.Join(dir, "store.db"), "--truelayer-auth-url=" + sb.URL, "--truelayer-api-url=" + sb.URL,
			fmt.Sprintf("--max-concurrent-reconciles=%d", conc), fmt.Sprintf("--provider-qps=%g", qps), fmt.Sprintf("--provider-burst=%d", int(2*qps)),
		}
	}
	mgr.Args = managerArgs(*flagQPS)
	if *flagMemLimit != "" {
		mgr.Env = []string{"GOMEMLIMIT=" + *flagMemLimit}
	}
	res.MemLimit = *flagMemLimit
	pprofAddr := ""
	if *flagHeap != "" {
		if pprofAddr, err = harness.FreePort(); err != nil {
			t.Fatal(err)
		}
		mgr.Args = append(mgr.Args, "--pprof-bind-address="+pprofAddr)
	}
	defer func() {
		if err := mgr.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("manager log: %s", mgr.LogPath)
			harness.KeepLog(t, mgr.LogPath)
		}
	}()
	if err := mgr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The gateway, its own process as in a cluster (restarts below hit the manager only).
	gw := harness.Gateway(binary, cp.Kubeconfig, filepath.Join(dir, "gateway.log"), gatewayAddr, gatewayURL, operatorNS, sb.URL+sandbox.WebhookJWKSPath)
	harness.RunUntilCleanup(ctx, t, gw)
	users := &harness.Users{SB: sb, GatewayURL: gatewayURL, Concurrency: conc}
	if err := harness.StartUsers(ctx, cp.Config, scaleNS, users); err != nil {
		t.Fatal(err)
	}
	w0, err := harness.ReadWrites(ctx, cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	calls0 := sb.CallTotal(sandbox.CallFilter{})
	byEndpoint0 := callsByEndpoint(sb)
	mc0, err := harness.ReadManagerCounters(ctx, metricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	mark := cp.Mark()
	start = time.Now()
	if err := harness.Parallel(ctx, n, conc, func(ctx context.Context, i int) error {
		return c.Create(ctx, harness.NewConnection(scaleNS, harness.ConnectionName(i)))
	}); err != nil {
		t.Fatal(err)
	}
	logf("operator: %d BankConnections created in %s", n, time.Since(start).Round(time.Millisecond))
	if err := users.WaitCount(ctx, n, 2*time.Hour, harness.IsReady, func(got int) { logf("operator: %d/%d Ready", got, n) }); err != nil {
		t.Fatalf("waiting for Ready: %v", err)
	}
	res.ReadyTime = time.Since(start)
	res.ProviderCalls = sb.CallTotal(sandbox.CallFilter{}) - calls0
	res.CallsByEndpoint = callsByEndpoint(sb).Sub(byEndpoint0)
	w1, err := harness.ReadWrites(ctx, cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	res.Writes = w1.Sub(w0)
	res.Writes["POST bankconnections"] -= float64(n) // the harness's creates
	if res.Writes["POST bankconnections"] == 0 {
		delete(res.Writes, "POST bankconnections")
	}
	logf("operator: all %d Ready in %s; %d provider calls; %d consents, %d callback retries, %d reloads of a link the gateway's cache did not show yet; writes: %s",
		n, res.ReadyTime.Round(time.Millisecond), res.ProviderCalls, users.Completed.Load(), users.Retried.Load(), users.Reloaded.Load(), res.Writes)
	time.Sleep(settle) // the last events land after Ready
	if res.ByWriter, err = cp.AuditSince(mark, harness.IsOperator); err != nil {
		t.Fatal(err)
	}
	logf("operator: writes per consent by writer (audit log), besides the create: %s", res.ByWriter.PerUnit(n))
	mc1, err := harness.ReadManagerCounters(ctx, metricsAddr)
	if err != nil {
		t.Fatal(err)
	}
	res.ManagerWork = mc1.Sub(mc0)
	logf("operator: manager reconciles and apiserver requests per consent (its own counters): %s", res.ManagerWork.PerUnit(n))

	// 4. Steady state: nothing is due for ~50 minutes, so nothing may happen (the
	// settle above let the last events and status writes land).
	sw0, err := harness.ReadWrites(ctx, cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	sc0 := sb.CallTotal(sandbox.CallFilter{})
	st0, err := mgr.Stats()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(*flagSteady) // the window is wall-clock time by definition
	sw1, err := harness.ReadWrites(ctx, cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	st1, err := mgr.Stats()
	if err != nil {
		t.Fatal(err)
	}
	res.SteadyWrites, res.SteadyCalls, res.SteadyCPU = sw1.Sub(sw0), sb.CallTotal(sandbox.CallFilter{})-sc0, st1.CPU-st0.CPU
	res.PeakRSS, res.CPU = st1.PeakRSS, st1.CPU
	logf("steady %s: writes %q, provider calls %d, manager CPU %s; peak RSS %d MiB, CPU %s",
		*flagSteady, res.SteadyWrites, res.SteadyCalls, res.SteadyCPU, res.PeakRSS>>20, res.CPU)
	if *flagHeap != "" {
		if err := saveHeapProfile(ctx, "http://"+pprofAddr, *flagHeap); err != nil {
			t.Fatal(err)
		}
		logf("heap profile of the manager after the steady window: %s", *flagHeap)
	}

	// 5. Restart with every token due: the refresh storm.
	res.Restart = restartStorm(ctx, t, cp, sb, mgr, users, managerArgs(*flagRestartQPS), metricsAddr, n, logf)

	report := res.table()
	fmt.Println(report)
	if *flagReport != "" {
		if err := appendFile(*flagReport, report+"\n"); err != nil {
			t.Error(err)
		}
	}
	if res.SteadyWrites.Total() != 0 || res.SteadyCalls != 0 {
		t.Errorf("steady state is not quiet: writes %s, provider calls %d", res.SteadyWrites, res.SteadyCalls)
	}
	if res.Restart.Expired != 0 || res.Restart.InvalidGrants != 0 {
		t.Errorf("after the restart %d tokens expired before their refresh; %d invalid_grant answers", res.Restart.Expired, res.Restart.InvalidGrants)
	}
}

// restartStorm stops the manager, moves every token's expiry so that all are due
// (within -scale.due-within), restarts it and measures how the refreshes spread.
func restartStorm(ctx context.Context, t *testing.T, cp *harness.ControlPlane, sb *harness.Sandbox, mgr *harness.Manager,
	users *harness.Users, args []string, metricsAddr string, n int, logf func(string, ...any)) restartResult {
	t.Helper()
	var rr restartResult
	if err := mgr.Stop(); err != nil {
		t.Fatal(err)
	}
	c := cp.Client
	secrets := &corev1.SecretList{}
	if err := c.List(ctx, secrets, client.InNamespace(scaleNS), client.MatchingLabels{bankingv1alpha1.LabelManagedBy: bankingv1alpha1.ManagedByValue}); err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != n {
		t.Fatalf("%d token Secrets, want %d", len(secrets.Items), n)
	}
	sort.Slice(secrets.Items, func(i, j int) bool { return secrets.Items[i].Name < secrets.Items[j].Name })
	due := map[string]time.Time{} // Secret name -> the expiry written
	base := time.Now().Add(renewBefore).Truncate(time.Second)
	for i := range secrets.Items {
		s := &secrets.Items[i]
		exp := base.Add(time.Duration(float64(*flagDueWithin) * float64(i) / float64(n))).Truncate(time.Second)
		s.Data[tokensecret.KeyExpiresAt] = []byte(exp.UTC().Format(time.RFC3339))
		// The manager decides from the annotation written with the tokens (it caches
		// token Secrets as metadata only).
		s.Annotations[tokensecret.AnnotationExpiresAt] = exp.UTC().Format(time.RFC3339)
		due[s.Name] = exp
	}
	if err := harness.Parallel(ctx, n, unrelatedWorker, func(ctx context.Context, i int) error {
		return c.Update(ctx, &secrets.Items[i])
	}); err != nil {
		t.Fatalf("moving token expiries: %v", err)
	}
	w0, err := harness.ReadWrites(ctx, cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ig0 := sb.ErrorTotal(sandbox.CallFilter{Error: "invalid_grant"})
	mark := cp.Mark()
	mgr.Args = args
	restart := time.Now()
	if err := mgr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	logf("restart: manager restarted with %d tokens due (earliest expiry %s, due-within %s)", n, base.Format(time.TimeOnly), *flagDueWithin)
	probe := make(chan userPresentProbe, 1)
	go func() { probe <- probeUserPresent(ctx, c, users, logf) }()
	refreshed := map[string]time.Time{}
	deadline := restart.Add(renewBefore + *flagDueWithin + 10*time.Minute)
	for len(refreshed) < n {
		if time.Now().After(deadline) {
			t.Fatalf("restart: only %d of %d tokens refreshed by %s", len(refreshed), n, deadline.Format(time.TimeOnly))
		}
		time.Sleep(5 * time.Second) // polling the apiserver's view, at a rate that does not load it
		list := &corev1.SecretList{}
		if err := c.List(ctx, list, client.InNamespace(scaleNS), client.MatchingLabels{bankingv1alpha1.LabelManagedBy: bankingv1alpha1.ManagedByValue}); err != nil {
			t.Fatal(err)
		}
		for _, s := range list.Items {
			exp, err := time.Parse(time.RFC3339, string(s.Data[tokensecret.KeyExpiresAt]))
			if _, ok := due[s.Name]; !ok || err != nil || !exp.After(due[s.Name]) {
				continue
			}
			// The operator computes a new token's expiry as its arrival + expires_in.
			refreshed[s.Name] = exp.Add(-accessTokenTTL)
		}
		logf("restart: %d/%d tokens refreshed", len(refreshed), n)
	}
	rr.Duration = time.Since(restart)
	rr.Probe = <-probe
	for _, at := range refreshed {
		if at.After(rr.Probe.CallbackAt) {
			rr.Probe.Pending++ // the refresh came after the user's callback
		}
	}
	st, err := mgr.Stats()
	if err != nil {
		t.Fatal(err)
	}
	rr.PeakRSS, rr.CPU = st.PeakRSS, st.CPU
	if rr.ManagerWork, err = harness.ReadManagerCounters(ctx, metricsAddr); err != nil {
		t.Fatal(err)
	}
	w1, err := harness.ReadWrites(ctx, cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	rr.Writes = w1.Sub(w0)
	if rr.ByWriter, err = cp.AuditSince(mark, harness.IsOperator); err != nil {
		t.Fatal(err)
	}
	rr.InvalidGrants = sb.ErrorTotal(sandbox.CallFilter{Error: "invalid_grant"}) - ig0
	for _, call := range sb.Tokens.Calls(restart) {
		if call.Grant == "refresh_token" {
			rr.TokenCalls++
		}
	}
	rr.MinMargin = 24 * time.Hour
	for name, at := range refreshed {
		margin := due[name].Sub(at)
		if margin <= 0 {
			rr.Expired++
		}
		if margin < rr.MinMargin {
			rr.MinMargin = margin
		}
		m := int(at.Sub(restart.Truncate(time.Second)) / time.Minute)
		if m < 0 {
			m = 0
		}
		for len(rr.PerMinute) <= m {
			rr.PerMinute = append(rr.PerMinute, 0)
		}
		rr.PerMinute[m]++
	}
	return rr
}

func (r result) table() string {
	var b strings.Builder
	mib := func(v int64) string { return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20)) }
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, v) }
	fmt.Fprintf(&b, "\n### N = %d connections, %d unrelated Secrets (%d CPUs, %s)\n\n", r.N, r.Unrelated, runtime.NumCPU(), time.Now().Format("2006-01-02"))
	b.WriteString("| measure | value |\n|---|---|\n")
	row("concurrency (reconciles, floor workers, users)", fmt.Sprint(r.Concurrency))
	row("manager GOMEMLIMIT", orNone(r.MemLimit))
	row("provider QPS limit (operator and floor)", fmt.Sprintf("%g (burst %d)", r.QPS, int(2*r.QPS)))
	row("time until all Ready (operator)", r.ReadyTime.Round(time.Millisecond).String())
	if r.Floor.Time > 0 {
		row("time of the bare floor / the same-guarantee floor", r.Floor.Time.Round(time.Millisecond).String()+" / "+r.FairFloor.Time.Round(time.Millisecond).String())
		row("ratio operator / bare floor", fmt.Sprintf("%.2f", r.ReadyTime.Seconds()/r.Floor.Time.Seconds()))
		row("ratio operator / same-guarantee floor (target ≤ 1.5)", fmt.Sprintf("%.2f", r.ReadyTime.Seconds()/r.FairFloor.Time.Seconds()))
		row("provider calls (operator / bare floor / same-guarantee floor)", fmt.Sprintf("%d / %d / %d", r.ProviderCalls, r.Floor.ProviderCalls, r.FairFloor.ProviderCalls))
		row("apiserver writes (operator / bare floor / same-guarantee floor)", fmt.Sprintf("%.0f / %.0f / %.0f", r.Writes.Total(), r.Floor.Writes.Total(), r.FairFloor.Writes.Total()))
		row("writes per connection of the same-guarantee floor (create, finalizer, link, Secret, Ready)", fmt.Sprintf("%.2f", r.FairFloor.Writes.Total()/float64(max(r.N, 1))))
	} else {
		row("provider calls", fmt.Sprint(r.ProviderCalls))
		row("apiserver writes", fmt.Sprintf("%.0f", r.Writes.Total()))
	}
	row("operator provider calls by endpoint", r.CallsByEndpoint.String())
	row("operator writes by verb and resource", r.Writes.String())
	row("writes per consent, including the create (target ≤ 7)", fmt.Sprintf("%.2f", 1+float64(r.ByWriter.Total())/float64(max(r.N, 1))))
	row("writes per consent by writer and verb (audit log)", r.ByWriter.PerUnit(r.N))
	row("manager reconciles and apiserver requests per consent (its counters)", r.ManagerWork.PerUnit(r.N))
	row("manager peak RSS (VmHWM) after Ready + steady", mib(r.PeakRSS))
	row("manager CPU seconds (user+system) until end of steady", fmt.Sprintf("%.1f s", r.CPU.Seconds()))
	row("steady state: writes / provider calls / manager CPU", fmt.Sprintf("%.0f / %d / %.2f s", r.SteadyWrites.Total(), r.SteadyCalls, r.SteadyCPU.Seconds()))
	rr := r.Restart
	row(fmt.Sprintf("restart (provider QPS %g): all tokens refreshed after", r.RestartQPS), rr.Duration.Round(time.Second).String())
	row("refreshes per minute after the restart", fmt.Sprint(rr.PerMinute))
	row("refresh calls / invalid_grant", fmt.Sprintf("%d / %d", rr.TokenCalls, rr.InvalidGrants))
	row("tokens expired before their refresh", fmt.Sprint(rr.Expired))
	row("smallest margin before expiry", rr.MinMargin.Round(time.Second).String())
	row("restart: writes", fmt.Sprintf("%.0f (%s)", rr.Writes.Total(), rr.Writes))
	row("restart: writes per refresh by writer (audit log)", rr.ByWriter.PerUnit(r.N))
	row("restart: manager reconciles and apiserver requests per refresh (its counters, initial lists included)", rr.ManagerWork.PerUnit(r.N))
	if rr.Probe.Err != nil {
		row("user-present consent during the storm", "failed: "+rr.Probe.Err.Error())
	} else {
		row("user-present consent during the storm: callback → Ready / create → Ready", fmt.Sprintf("%s / %s (%d of the storm's refreshes still pending at the callback)",
			rr.Probe.CallbackToReady.Round(time.Millisecond), rr.Probe.CreateToReady.Round(time.Millisecond), rr.Probe.Pending))
	}
	row("restarted manager: peak RSS / CPU", fmt.Sprintf("%s / %.1f s", mib(rr.PeakRSS), rr.CPU.Seconds()))
	return b.String()
}

// callsByEndpoint counts the sandbox's calls by endpoint (in a WriteCounts, which is
// just a map of counts with Sub and String).
func callsByEndpoint(sb *harness.Sandbox) harness.WriteCounts {
	out := harness.WriteCounts{}
	for _, c := range sb.Calls(sandbox.CallFilter{}) {
		out[c.Endpoint] += float64(c.Count)
	}
	return out
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening report: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing report: %w", err)
	}
	return f.Close()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
