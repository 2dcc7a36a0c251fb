package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/manager"
)

// runMainEnv makes the test binary run devenv's main instead of the tests, so the
// tests start the real program as a child process without building it separately.
const runMainEnv = "DEVENV_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSignalsStopEverything starts devenv (control plane, sandbox, manager; no
// samples) as a child process and sends it one signal, as a closed terminal (SIGHUP),
// Ctrl-C (SIGINT) or kill (SIGTERM) would. It must exit 0, with etcd and
// kube-apiserver (its children, in process groups of their own) gone and envtest's
// temporary directories removed.
func TestSignalsStopEverything(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			devDir := filepath.Join(tmp, "dev")
			envtestTmp := filepath.Join(tmp, "tmp")
			if err := os.MkdirAll(envtestTmp, 0o755); err != nil {
				t.Fatal(err)
			}
			// A store left by an earlier run, unreadable as SQLite: the manager starts
			// only if devenv replaced it with an empty one.
			db := manager.Options{DataDir: filepath.Join(devDir, "data")}.SQLitePath()
			if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(db, []byte("rows of an earlier run"), 0o600); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(os.Args[0], "--dir", devDir, "--no-samples", "--sandbox-addr", "127.0.0.1:0",
				"--gateway-bind-address", "127.0.0.1:0", "--metrics-bind-address", "0", "--data-api-bind-address", "0", "--health-probe-bind-address", "0",
				"--gateway-metrics-bind-address", "0", "--gateway-health-probe-bind-address", "0")
			cmd.Env = append(os.Environ(), runMainEnv+"=1", "TMPDIR="+envtestTmp)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			started := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "Press Ctrl-C to stop everything") {
						close(started)
					}
				}
				_, _ = io.Copy(io.Discard, stdout)
				exited <- cmd.Wait()
			}()
			select {
			case <-started:
			case err := <-exited:
				t.Fatalf("devenv exited before it was up: %v\n%s", err, stderr.String())
			case <-time.After(2 * time.Minute):
				_ = cmd.Process.Kill()
				t.Fatalf("devenv did not come up\n%s", stderr.String())
			}

			children := childrenOf(t, cmd.Process.Pid)
			t.Cleanup(func() { // a failing run must not leave a control plane behind
				for pid := range children {
					if running(pid) {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			})
			if !hasName(children, "etcd") || !hasName(children, "kube-apiserver") {
				t.Fatalf("devenv's children are %v, want etcd and kube-apiserver", children)
			}
			if dirs := envtestDirs(t, envtestTmp); len(dirs) == 0 {
				t.Fatalf("no envtest directories in %s while running", envtestTmp)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("devenv exited with %v after %s\n%s", err, sig, stderr.String())
				}
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				t.Fatalf("devenv did not stop after %s\n%s", sig, stderr.String())
			}

			for pid, name := range children {
				if running(pid) {
					t.Errorf("%s (pid %d) is still running after devenv stopped", name, pid)
				}
			}
			if dirs := envtestDirs(t, envtestTmp); len(dirs) != 0 {
				t.Errorf("envtest directories left behind: %v", dirs)
			}
			if _, err := os.Stat(filepath.Join(devDir, "kubeconfig")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the kubeconfig of the stopped apiserver is left behind (%v)", err)
			}
			out := stderr.String()
			last := -1
			for _, step := range []string{"store: a new, empty SQLite database", "stopping the manager", "stopping the bank sandbox", "stopping kube-apiserver and etcd", "everything is stopped"} {
				i := strings.Index(out, step)
				if i < 0 || i < last {
					t.Errorf("%q is not said after the steps before it:\n%s", step, out)
				}
				last = i
			}
		})
	}
}

// TestPrepareStore: the embedded store is emptied for each run unless kept, and a
// store given with --store is left alone; each case says which in one line.
func TestPrepareStore(t *testing.T) {
	opts := manager.Options{DataDir: t.TempDir()}
	db := opts.SQLitePath()
	write := func() {
		for _, p := range []string{db, db + "-wal"} {
			if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	write()
	note, err := prepareStore(opts, true)
	if err != nil || !strings.Contains(note, "kept from earlier runs") {
		t.Fatalf("keep: %q, %v", note, err)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("a kept store was removed: %v", err)
	}
	note, err = prepareStore(opts, false)
	if err != nil || !strings.Contains(note, "a new, empty SQLite database at "+db) || !strings.Contains(note, keepStoreEnv) {
		t.Fatalf("fresh: %q, %v", note, err)
	}
	for _, p := range []string{db, db + "-wal"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	opts.Store = "postgres://user:secret@127.0.0.1:5432/db"
	write()
	note, err = prepareStore(opts, false)
	if err != nil || strings.Contains(note, "secret") || !strings.Contains(note, "used as it is") {
		t.Fatalf("given store: %q, %v", note, err)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the SQLite file was removed although --store names another store: %v", err)
	}
}

// childrenOf maps the pids of pid's child processes to their command names.
func childrenOf(t *testing.T, pid int) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		name, ppid, _, ok := procStat(child)
		if ok && ppid == pid {
			out[child] = name
		}
	}
	return out
}

// running is false once pid has exited (gone, or a zombie nobody reaped).
func running(pid int) bool {
	_, _, state, ok := procStat(pid)
	return ok && state != "Z"
}

// procStat reads the command name, parent pid and state of pid from /proc.
func procStat(pid int) (name string, ppid int, state string, ok bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, "", false
	}
	// "pid (comm) state ppid ...": comm may hold spaces, so cut at the last ')'.
	s := string(raw)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0, "", false
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 2 {
		return "", 0, "", false
	}
	ppid, err = strconv.Atoi(f[1])
	return s[open+1 : end], ppid, f[0], err == nil
}

// envtestDirs lists the temporary directories envtest's processes create in dir.
func envtestDirs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "k8s_test_framework_*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func hasName(m map[int]string, name string) bool {
	for _, v := range m {
		if v == name {
			return true
		}
	}
	return false
}
