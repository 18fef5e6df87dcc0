package envoy

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// leftBehind starts Envoy on dir the way a detached Runner does, as if the
// switchboard that started it had been SIGKILLed: the next Runner finds
// its pid file, bootstrap and admin address.
func leftBehind(t *testing.T, dir string, bootstrap []byte) *exec.Cmd {
	t.Helper()
	path := filepath.Join(dir, "envoy-bootstrap.yaml")
	if err := os.WriteFile(path, bootstrap, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(envoyBinary(t), "-c", path, "--log-level", "info", "--log-format", "[%l][%n] %v",
		"--admin-address-path", filepath.Join(dir, "envoy-admin-address"), "--use-dynamic-base-id")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	writePID(dir, cmd.Process.Pid)
	eventually(t, 20*time.Second, "the left-behind Envoy is LIVE", func() bool {
		addr := readAdminAddress(filepath.Join(dir, "envoy-admin-address"))
		state, err := readyState(context.Background(), &http.Client{Timeout: time.Second}, addr)
		return addr != "" && err == nil && state == "LIVE"
	})
	return cmd
}

func TestRunner_AdoptsTheEnvoyLeftBehind(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	r := testRunner(t, &logs, func(o *RunnerOptions) { o.Dir, o.Detach = dir, true })
	old := leftBehind(t, dir, r.opts.Bootstrap)
	cancel := startRunner(t, r)
	if r.PID() != old.Process.Pid {
		t.Fatalf("runner runs pid %d, not the adopted %d\n%s", r.PID(), old.Process.Pid, logs.String())
	}
	if !strings.Contains(logs.String(), "adopted the running Envoy") {
		t.Fatalf("logs:\n%s", logs.String())
	}
	// A clean stop stops the adopted Envoy too.
	cancel()
	r.Wait()
	eventually(t, 10*time.Second, "the adopted Envoy stopped", func() bool { return !processAlive(old.Process.Pid) })
	if _, err := os.Stat(filepath.Join(dir, pidFileName)); !os.IsNotExist(err) {
		t.Fatalf("pid file left after a clean stop: %v", err)
	}
}

func TestRunner_ReplacesAnEnvoyWithAnotherBootstrap(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	r := testRunner(t, &logs, func(o *RunnerOptions) { o.Dir, o.Detach = dir, true })
	other, err := Bootstrap(BootstrapOptions{NodeID: "other", XDSAddresses: []string{deadAddress(t)}, AdminAddress: "127.0.0.1:0",
		InitialFetchTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	old := leftBehind(t, dir, other)
	startRunner(t, r)
	if r.PID() == old.Process.Pid || processAlive(old.Process.Pid) {
		t.Fatalf("the Envoy with the old bootstrap was kept (pid %d)\n%s", old.Process.Pid, logs.String())
	}
	if readPID(filepath.Join(dir, pidFileName)) != r.PID() {
		t.Fatal("pid file does not name the new Envoy")
	}
}

func TestRunner_DetachedLogsAndPID(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	r := testRunner(t, &logs, func(o *RunnerOptions) { o.Dir, o.Detach = dir, true })
	// A recycled pid in a stale pid file is not adopted: it is not Envoy.
	writePID(dir, os.Getpid())
	startRunner(t, r)
	if r.PID() == os.Getpid() || readPID(filepath.Join(dir, pidFileName)) != r.PID() {
		t.Fatalf("pid %d, file %d", r.PID(), readPID(filepath.Join(dir, pidFileName)))
	}
	eventually(t, 10*time.Second, "Envoy's log lines forwarded from envoy.log", func() bool {
		return strings.Contains(logs.String(), "envoy-test: ")
	})
	if b, _ := os.ReadFile(filepath.Join(dir, logFileName)); len(b) == 0 {
		t.Fatal("envoy.log is empty")
	}
}
