package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/repo"
)

// BuildManager builds cmd/consent-operator into dir and returns the binary's path.
func BuildManager(ctx context.Context, dir string) (string, error) {
	root, err := repo.Root()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "consent-operator")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/consent-operator")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the manager: %w\n%s", err, out)
	}
	return bin, nil
}

// FreePort returns a loopback address nobody listens on (for the manager's servers).
func FreePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("releasing port: %w", err)
	}
	return addr, nil
}

// Gateway is the consent-operator binary's gateway subcommand as a child process,
// serving on addr for publicURL, with no gateway rate limits (thousands of users come
// from one address here, each journey once).
func Gateway(binary, kubeconfig, logPath, addr, publicURL, operatorNamespace, jwks string) *Manager {
	return &Manager{Binary: binary, Kubeconfig: kubeconfig, LogPath: logPath, Args: []string{
		"gateway", "--metrics-bind-address=0", "--bind-address=" + addr, "--public-url=" + publicURL,
		"--operator-namespace=" + operatorNamespace, "--truelayer-webhook-jwks-sandbox=" + jwks,
		"--rate-per-client=-1", "--rate-per-connection=-1",
	}}
}

// KeepLog copies a log out of the test's temporary directory, which is removed when
// the test ends, so a failure can be read afterwards.
func KeepLog(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Log(err)
		return
	}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("%s-%d%s", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().Unix(), filepath.Base(path)))
	if err := os.WriteFile(out, data, 0o600); err != nil {
		t.Log(err)
		return
	}
	t.Logf("log kept at %s", out)
}

// RunUntilCleanup starts p and stops it when the test ends.
func RunUntilCleanup(ctx context.Context, t testing.TB, p *Manager) {
	t.Helper()
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			KeepLog(t, p.LogPath)
		}
	})
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
}

// Manager runs the consent-operator binary (the manager, or with Args starting with
// "gateway" the gateway) as a child process.
type Manager struct {
	Binary     string
	Kubeconfig string
	// Args are the flags; the health probe address is added by Start.
	Args []string
	// Env is added to the manager's environment (e.g. GOMEMLIMIT, as the chart sets it
	// from the container's memory limit).
	Env []string
	// LogPath receives the manager's output (appended across restarts).
	LogPath string

	probeAddr string
	cmd       *exec.Cmd
	done      chan error
	// Starts counts the processes started.
	Starts int
}

// Start starts the manager and waits until /readyz answers 200.
func (m *Manager) Start(ctx context.Context) error {
	if m.cmd != nil {
		return errors.New("manager already running")
	}
	if m.probeAddr == "" {
		addr, err := FreePort()
		if err != nil {
			return err
		}
		m.probeAddr = addr
	}
	logf, err := os.OpenFile(m.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening manager log: %w", err)
	}
	args := append(append([]string(nil), m.Args...), "--health-probe-bind-address="+m.probeAddr)
	cmd := exec.Command(m.Binary, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+m.Kubeconfig), m.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("starting manager: %w", err)
	}
	m.Starts++
	m.cmd = cmd
	m.done = make(chan error, 1)
	go func() { m.done <- cmd.Wait(); _ = logf.Close() }()
	return m.waitReady(ctx)
}

func (m *Manager) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(2 * time.Minute)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-m.done:
			m.cmd = nil
			return fmt.Errorf("manager exited during start-up (%v); see %s", err, m.LogPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := hc.Get("http://" + m.probeAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("manager not ready after 2 minutes; see %s", m.LogPath)
}

// PID is the running process's id (0 when stopped).
func (m *Manager) PID() int {
	if m.cmd == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// Kill sends SIGKILL and waits for the process to be gone.
func (m *Manager) Kill() error { return m.signal(syscall.SIGKILL, 10*time.Second) }

// Stop sends SIGTERM and waits for a graceful exit.
func (m *Manager) Stop() error { return m.signal(syscall.SIGTERM, 60*time.Second) }

func (m *Manager) signal(sig syscall.Signal, wait time.Duration) error {
	if m.cmd == nil {
		return nil
	}
	if err := m.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signalling manager: %w", err)
	}
	select {
	case <-m.done:
	case <-time.After(wait):
		_ = m.cmd.Process.Kill() // did not stop in time
		<-m.done
		m.cmd = nil
		return fmt.Errorf("manager did not exit within %s of %s", wait, sig)
	}
	m.cmd = nil
	return nil
}

// ProcStats are a process's resource figures from /proc.
type ProcStats struct {
	// PeakRSS is VmHWM: the largest resident set so far, in bytes.
	PeakRSS int64
	// RSS is VmRSS now, in bytes.
	RSS int64
	// CPU is user plus system time.
	CPU time.Duration
}

// Stats reads /proc/<pid>/status and /proc/<pid>/stat of the running manager.
func (m *Manager) Stats() (ProcStats, error) {
	pid := m.PID()
	if pid == 0 {
		return ProcStats{}, errors.New("manager not running")
	}
	return ReadProcStats(pid)
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// ReadProcStats reads the figures of process pid.
func ReadProcStats(pid int) (ProcStats, error) {
	var st ProcStats
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, fmt.Errorf("reading process status: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "kB")), 10, 64)
		if err != nil {
			return st, fmt.Errorf("parsing %s: %w", key, err)
		}
		if key == "VmHWM" {
			st.PeakRSS = kb << 10
		} else {
			st.RSS = kb << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, fmt.Errorf("reading process stat: %w", err)
	}
	// The command name (field 2) may contain spaces; fields after ")" are fixed.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return st, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14 overall
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15 overall
	if err := errors.Join(err1, err2); err != nil {
		return st, fmt.Errorf("parsing CPU times: %w", err)
	}
	st.CPU = time.Duration(utime+stime) * time.Second / clockTicks
	return st, nil
}
