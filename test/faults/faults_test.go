// Package faults is the fault suite: the manager as a separate process, killed with
// SIGKILL at random moments of a refresh storm while the sandbox rotates and
// invalidates refresh tokens and injects 5xx, 429, timeouts and dropped connections,
// and the kube-apiserver is restarted once. Afterwards every connection must be
// Ready, no refresh token may have been lost silently, and no connection may have
// been retried faster than the backoff allows. Plain `go test` runs a CI size;
// `make test-faults` the full one.
package faults

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/test/scale/harness"
)

var (
	flagN        = flag.Int("faults.n", 50, "number of BankConnections")
	flagKills    = flag.Int("faults.kills", 5, "SIGKILLs of the manager during the storm")
	flagPerRound = flag.Int("faults.kills-per-round", 2, "kills per storm round (each round forces a refresh of every connection)")
	flagFraction = flag.Float64("faults.fraction", 0.02, "probability of each injected fault kind per token call")
	flagSettle   = flag.Duration("faults.settle", 4*time.Minute, "how long connections get to recover after the last fault")
	flagBinary   = flag.String("faults.manager-binary", "", "prebuilt consent-operator binary (default: go build ./cmd/consent-operator)")
	flagSeed     = flag.Uint64("faults.seed", 0, "seed of the kill moments (0: from the clock; printed)")
	flagJobs     = flag.Int("faults.jobs", 10, "SyncJobs (on the first connections) whose runs the kills interrupt")
	flagModes    = flag.String("faults.modes", "rotate-invalidate,rotate-with-grace,keep", "the sandbox's refresh-token modes to run the storm in, comma separated")
)

const (
	operatorNS      = "consent-operator-system"
	testNS          = "faults"
	concurrency     = 4
	providerTimeout = 2 * time.Second
	// faultLatency is longer than the manager's provider timeout: a timeout.
	faultLatency = 3 * time.Second
)

func init() { log.SetLogger(logr.Discard()) }

// TestFaults runs the storm once per refresh-token mode of the sandbox
// (-faults.modes): rotate-invalidate, as TrueLayer documents (a kill between the
// provider's rotation and the store loses the token, and every loss must reach its
// user), rotate-with-grace, as Okta and Auth0 offer, and keep, as TrueLayer's sandbox
// has been seen to do (a kill must lose nothing: the operator recovers with the token
// it still has).
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite skipped in -short mode")
	}
	for _, mode := range strings.Split(*flagModes, ",") {
		t.Run(mode, func(t *testing.T) { storm(t, sandbox.RefreshMode(strings.TrimSpace(mode))) })
	}
}

// refreshGrace is how long the sandbox's rotate-with-grace mode keeps a used refresh
// token working: longer than the manager takes to restart.
const refreshGrace = 2 * time.Minute

func storm(t *testing.T, mode sandbox.RefreshMode) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	n := *flagN
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	logf := func(format string, args ...any) {
		t.Logf("[%s] %s", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
	logf("seed %d, %d connections, %d kills, refresh tokens %s", seed, n, *flagKills, mode)

	stage := harness.StartStage(ctx, t, harness.StageOptions{
		Dir: dir, Binary: *flagBinary, OperatorNamespace: operatorNS, Namespaces: []string{testNS},
		Sandbox: sandbox.Options{TokenAlgorithm: sandbox.AlgES256, RefreshMode: mode, RefreshGrace: refreshGrace},
	})
	cp, sb, gatewayAddr, gatewayURL := stage.ControlPlane, stage.Sandbox, stage.GatewayAddr, stage.GatewayURL
	c := cp.Client
	binary, err := stage.Binary()
	if err != nil {
		t.Fatal(err)
	}
	mgr := &harness.Manager{Binary: binary, Kubeconfig: cp.Kubeconfig, LogPath: filepath.Join(dir, "manager.log"), Args: []string{
		"--metrics-bind-address=0", "--data-api-bind-address=0", "--gateway-public-url=" + gatewayURL,
		"--operator-namespace=" + operatorNS, "--store=" + filepath.Join(dir, "store.db"),
		"--truelayer-auth-url=" + sb.URL, "--truelayer-api-url=" + sb.URL,
		fmt.Sprintf("--max-concurrent-reconciles=%d", concurrency), "--provider-timeout=" + providerTimeout.String(),
	}}
	defer func() {
		if err := mgr.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			harness.KeepLog(t, mgr.LogPath)
		}
	}()
	if err := mgr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// The gateway, its own process as in a cluster; the kills below hit the manager only.
	gw := harness.Gateway(binary, cp.Kubeconfig, filepath.Join(dir, "gateway.log"), gatewayAddr, gatewayURL, operatorNS, sb.URL+sandbox.WebhookJWKSPath)
	harness.RunUntilCleanup(ctx, t, gw)

	// Which connections ever reported what (every version the watch delivers).
	var mu sync.Mutex
	interrupted := map[string]bool{} // RefreshInterrupted seen
	withLink := map[string]bool{}    // ... with the re-consent link published
	otherStalls := map[string]string{}
	users := &harness.Users{SB: sb, GatewayURL: gatewayURL, Concurrency: concurrency, Observe: func(bc *bankingv1alpha1.BankConnection) {
		reason := harness.StalledReason(bc)
		if reason == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if reason == bankingv1alpha1.ReasonRefreshInterrupted {
			interrupted[bc.Name] = true
			if bc.Status.ReconsentURL != "" || bc.Status.ConnectURL != "" {
				withLink[bc.Name] = true
			}
		} else {
			otherStalls[bc.Name] = reason
		}
	}}
	if err := harness.StartUsers(ctx, cp.Config, testNS, users); err != nil {
		t.Fatal(err)
	}
	if err := harness.Parallel(ctx, n, concurrency, func(ctx context.Context, i int) error {
		return c.Create(ctx, harness.NewConnection(testNS, harness.ConnectionName(i)))
	}); err != nil {
		t.Fatal(err)
	}
	if err := users.WaitCount(ctx, n, 3*time.Minute, harness.IsReady, nil); err != nil {
		t.Fatalf("initial consents: %v", err)
	}
	initialConsents := users.Completed.Load()
	logf("%d connections Ready (%d consents)", n, initialConsents)

	// SyncJobs read the first connections; the kills will interrupt their runs.
	jobs := min(*flagJobs, n)
	if err := harness.Parallel(ctx, jobs, 4, func(ctx context.Context, i int) error { return c.Create(ctx, newJob(i)) }); err != nil {
		t.Fatal(err)
	}
	if err := waitForJobs(ctx, c, jobs, "", 2*time.Minute); err != nil {
		t.Fatalf("first runs: %v", err)
	}
	logf("%d SyncJobs ran once", jobs)

	// The storm.
	faults := []sandbox.Fault{
		{Kind: sandbox.FaultError, Error: "provider_error"},             // 503
		{Kind: sandbox.FaultError, Error: "internal_server_error"},      // 500
		{Kind: sandbox.FaultError, Error: "provider_too_many_requests"}, // 429
		{Kind: sandbox.FaultLatency, Latency: faultLatency},             // client timeout
		{Kind: sandbox.FaultDrop},                                       // connection closed, no answer
		{Kind: sandbox.FaultHTML504},                                    // a load balancer's page
	}
	for _, f := range faults {
		f.Endpoint, f.Fraction = "POST /connect/token", *flagFraction
		if _, err := sb.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
	stormStart := time.Now()
	killTimes := []time.Time{}
	crashes := 0 // start-ups that failed (the apiserver was down) and were retried
	round := 0
	lastRound := ""
	request := func() {
		round++
		lastRound = fmt.Sprintf("storm-%d", round)
		err := harness.Parallel(ctx, n, 8, func(ctx context.Context, i int) error {
			bc := &bankingv1alpha1.BankConnection{}
			key := client.ObjectKey{Namespace: testNS, Name: harness.ConnectionName(i)}
			if err := c.Get(ctx, key, bc); err != nil {
				return err
			}
			patch := client.MergeFrom(bc.DeepCopy())
			if bc.Annotations == nil {
				bc.Annotations = map[string]string{}
			}
			bc.Annotations[bankingv1alpha1.AnnotationRefreshRequestedAt] = lastRound
			return c.Patch(ctx, bc, patch)
		})
		if err != nil {
			t.Fatalf("requesting refreshes: %v", err)
		}
		if err := requestRuns(ctx, c, jobs, lastRound); err != nil {
			t.Fatalf("requesting runs: %v", err)
		}
		logf("round %d: a refresh of every connection and a run of every job requested", round)
	}
	apiserverRestartAt := *flagKills / 2
	for k := 0; k < *flagKills; k++ {
		if k%*flagPerRound == 0 {
			request()
		}
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond) // a random moment of the storm
		if err := mgr.Kill(); err != nil {
			t.Fatal(err)
		}
		killTimes = append(killTimes, time.Now())
		if k == apiserverRestartAt {
			// The apiserver goes away while the manager restarts, and comes back.
			if err := cp.StopAPIServer(); err != nil {
				t.Fatal(err)
			}
			go func() {
				time.Sleep(5 * time.Second) // an outage the manager must ride out
				if err := cp.StartAPIServer(); err != nil {
					t.Error(err)
				}
			}()
			logf("kill %d, and the kube-apiserver is down for 5 s", k+1)
		} else {
			logf("kill %d", k+1)
		}
		crashes += startLikeKubelet(ctx, t, mgr)
	}
	sb.ClearFaults()
	faultsEnd := time.Now()
	logf("faults cleared; waiting for every connection to handle %s and be Ready", lastRound)

	settled := func(bc *bankingv1alpha1.BankConnection) bool {
		return harness.IsReady(bc) && bc.Status.LastHandledRefreshAt == lastRound
	}
	if err := users.WaitCount(ctx, n, *flagSettle, settled, func(got int) { logf("%d/%d settled", got, n) }); err != nil {
		list, _ := users.List(ctx)
		for _, bc := range list {
			if !settled(&bc) {
				t.Logf("%s: lastHandled=%q conditions=%+v token=%+v", bc.Name, bc.Status.LastHandledRefreshAt, bc.Status.Conditions, bc.Status.Token)
			}
		}
		t.Fatalf("after the storm: %v (manager log %s)", err, mgr.LogPath)
	}
	logf("all %d connections Ready with the last refresh request handled, %s after the last fault", n, time.Since(faultsEnd).Round(time.Second))

	// A last run of every job, then the store must hold the bank's data exactly once.
	if err := requestRuns(ctx, c, jobs, "final"); err != nil {
		t.Fatal(err)
	}
	if err := waitForJobs(ctx, c, jobs, "final", *flagSettle); err != nil {
		t.Fatalf("after the storm: %v (manager log %s)", err, mgr.LogPath)
	}
	if err := mgr.Stop(); err != nil {
		t.Log(err)
	}
	storedRows, err := checkStoredData(ctx, c, sb, filepath.Join(dir, "store.db"), jobs)
	if err != nil {
		t.Errorf("stored data after the storm: %v", err)
	}
	logf("%d SyncJobs: %d stored transactions checked against the bank's data, no duplicates", jobs, storedRows)

	// What the sandbox saw.
	calls := sb.Tokens.Calls(stormStart)
	var refreshCalls, failedCalls int
	perConn := map[string][]harness.TokenCall{}
	for _, call := range calls {
		if call.Grant != "refresh_token" {
			continue
		}
		refreshCalls++
		if call.Status != 200 {
			failedCalls++
		}
		perConn[call.Connection] = append(perConn[call.Connection], call)
	}
	// Every invalid_grant, attributed to the BankConnection whose journey created the
	// sandbox connection (the harness labels each journey with its connection's name).
	lost := map[string]int64{}
	var refusedCodes int64 // a code redeemed twice is no refresh token lost
	for _, e := range sb.Errors(sandbox.CallFilter{Error: "invalid_grant"}) {
		if e.Connection == "" {
			refusedCodes += e.Count
			continue
		}
		name := "?" + e.Connection
		if info, ok := sb.Connection(e.Connection); ok && info.Label != "" {
			name = info.Label
		}
		lost[name] += e.Count
	}
	violations := backoffViolations(perConn, append(killTimes, stormStart))
	reconsents := users.Completed.Load() - initialConsents

	mu.Lock()
	defer mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "\n| measure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| refresh tokens at the sandbox | %s |\n", mode)
	fmt.Fprintf(&b, "| connections / storm rounds / SIGKILLs / apiserver restarts | %d / %d / %d / 1 |\n", n, round, len(killTimes))
	fmt.Fprintf(&b, "| injected on POST /connect/token, each | %.0f%% of calls: 503, 500, 429, %s latency (timeout %s), drop, HTML 504 |\n", 100**flagFraction, faultLatency, providerTimeout)
	fmt.Fprintf(&b, "| manager start-ups that exited (apiserver down) and were restarted | %d |\n", crashes)
	fmt.Fprintf(&b, "| refresh calls (rounds x N) | %d (%d) |\n", refreshCalls, round*n)
	fmt.Fprintf(&b, "| refresh calls that failed (fault or kill) | %d |\n", failedCalls)
	fmt.Fprintf(&b, "| retries faster than the backoff (no restart in between) | %d |\n", violations)
	fmt.Fprintf(&b, "| refresh tokens lost (connections with an invalid_grant at the sandbox) | %d %v |\n", len(lost), sortedKeys(lost))
	fmt.Fprintf(&b, "| connections that reported RefreshInterrupted (with the re-consent link) | %d (%d) %v |\n", len(interrupted), len(withLink), sortedKeys(interrupted))
	fmt.Fprintf(&b, "| re-consents the users completed / authorization codes refused | %d / %d |\n", reconsents, refusedCodes)
	fmt.Fprintf(&b, "| other Stalled reasons seen | %d %v |\n", len(otherStalls), otherStalls)
	fmt.Fprintf(&b, "| settle time after the last fault | %s |\n", time.Since(faultsEnd).Round(time.Second))
	fmt.Fprintf(&b, "| SyncJobs running through the storm (attended runs each round) / stored transactions checked (no duplicates, none missing, none foreign) | %d / %d |\n", jobs, storedRows)
	t.Log(b.String())

	if len(otherStalls) != 0 {
		t.Errorf("connections stalled for reasons the faults must not cause: %v", otherStalls)
	}
	// Matched per connection, both ways: each loss reached its own user, and each
	// report is a real loss.
	for name := range lost {
		if !interrupted[name] {
			t.Errorf("%s lost its refresh token (invalid_grant at the sandbox) and never reported RefreshInterrupted", name)
		} else if !withLink[name] {
			t.Errorf("%s reported RefreshInterrupted without a re-consent link", name)
		}
	}
	for name := range interrupted {
		if lost[name] == 0 {
			t.Errorf("%s reported RefreshInterrupted, but its refresh token was never refused", name)
		}
	}
	if mode != sandbox.RefreshRotateInvalidate {
		// The provider lets the operator keep the token: a kill must lose nothing.
		if len(lost) != 0 || reconsents != 0 {
			t.Errorf("refresh tokens %s: %d lost, %d re-consents; want none", mode, len(lost), reconsents)
		}
	}
	if violations != 0 {
		t.Errorf("%d retries came sooner than the backoff allows", violations)
	}
	// Every connection handled the last round's request with a refresh of its own.
	if refreshCalls < n {
		t.Errorf("%d refresh calls for %d connections: the sandbox did not see the storm", refreshCalls, n)
	}
	// Every call beyond the minimum must be explained by a failure or a kill: one retry
	// per failed call, plus the refreshes in flight at each kill (at most one per worker).
	if limit := round*n + failedCalls + len(killTimes)*concurrency + int(reconsents); refreshCalls > limit {
		t.Errorf("%d refresh calls, more than the %d that failures and kills explain", refreshCalls, limit)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// startLikeKubelet starts the manager, and starts it again after a second whenever
// it exits during start-up (as kubelet restarts a crashing container), for up to two
// minutes. It returns the number of failed start-ups.
func startLikeKubelet(ctx context.Context, t *testing.T, mgr *harness.Manager) int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for failed := 0; ; failed++ {
		err := mgr.Start(ctx)
		if err == nil {
			return failed
		}
		if time.Now().After(deadline) {
			t.Fatalf("manager did not start for 2 minutes: %v", err)
		}
		time.Sleep(time.Second) // kubelet's restart delay, shortened
	}
}

// backoffViolations counts retries of a connection that came sooner than half the
// first backoff step after a failed call with no manager restart in between (a
// restart loses nothing the backoff relies on only when the status write landed, so
// it is excused).
func backoffViolations(perConn map[string][]harness.TokenCall, restarts []time.Time) int {
	sort.Slice(restarts, func(i, j int) bool { return restarts[i].Before(restarts[j]) })
	restartBetween := func(a, b time.Time) bool {
		for _, r := range restarts {
			if r.After(a) && r.Before(b) {
				return true
			}
		}
		return false
	}
	minGap := consent.BackoffBase / 2
	v := 0
	for _, calls := range perConn {
		for i := 1; i < len(calls); i++ {
			prev, cur := calls[i-1], calls[i]
			if prev.Status == 200 {
				continue
			}
			if cur.At.Sub(prev.At) < minGap && !restartBetween(prev.At, cur.At) {
				v++
			}
		}
	}
	return v
}
