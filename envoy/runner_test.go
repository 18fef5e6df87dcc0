package envoy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/poll"
)

// envoyBinary returns the real Envoy for tests that run it. Without one the
// test is skipped locally, but CI (CI set) must have it: `make test` runs
// `make envoy` first and exports ENVOY_BIN.
func envoyBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv(EnvBinary)
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("ENVOY_BIN is unset under CI; run the tests through `make test` (it runs `make envoy`)")
		}
		t.Skip("ENVOY_BIN is unset: skipping tests that run a real Envoy (run `make envoy` and set ENVOY_BIN=bin/envoy)")
	}
	return bin
}

// deadAddress returns a loopback host:port where nothing listens, for an
// xDS address that refuses connections.
func deadAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// testRunner builds a Runner for an Envoy with no control plane: after a
// short initial fetch timeout it goes LIVE with an empty config.
func testRunner(t *testing.T, logs io.Writer, tweak func(*RunnerOptions)) *Runner {
	t.Helper()
	y, err := Bootstrap(BootstrapOptions{
		NodeID:              "runner-test",
		XDSAddresses:        []string{deadAddress(t)},
		AdminAddress:        "127.0.0.1:0",
		InitialFetchTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := RunnerOptions{
		Binary:       envoyBinary(t),
		Bootstrap:    y,
		Logger:       slog.New(slog.NewTextHandler(logs, nil)),
		LogPrefix:    "envoy-test",
		ReadyTimeout: 20 * time.Second,
		StopTimeout:  5 * time.Second,
		MinBackoff:   50 * time.Millisecond,
		MaxBackoff:   200 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&opts)
	}
	r, err := NewRunner(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// startRunner starts r and registers its shutdown as a cleanup.
func startRunner(t *testing.T, r *Runner) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Start(ctx); err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { cancel(); r.Wait() })
	return cancel
}

func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// eventually polls cond until it holds or the bound passes.
func eventually(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	poll.True(t, bound, what, cond)
}

func TestRunner_StartReadyLogsStop(t *testing.T) {
	var logs syncBuffer
	r := testRunner(t, &logs, nil)
	cancel := startRunner(t, r)

	pid, admin := r.PID(), r.AdminAddress()
	if pid == 0 || admin == "" {
		t.Fatalf("after Start: pid %d admin %q", pid, admin)
	}
	resp, err := http.Get("http://" + admin + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "LIVE" {
		t.Fatalf("/ready = %d %q", resp.StatusCode, body)
	}
	// Envoy's own lines arrive through slog with the prefix and its logger name.
	eventually(t, 5*time.Second, "forwarded envoy log lines", func() bool {
		return strings.Contains(logs.String(), `msg="envoy-test: starting main dispatch loop" logger=main`)
	})

	cancel()
	select {
	case <-r.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("runner did not stop")
	}
	if alive(pid) {
		t.Fatalf("envoy pid %d still alive after stop", pid)
	}
	if r.PID() != 0 {
		t.Errorf("PID() = %d after stop", r.PID())
	}
	if !strings.Contains(logs.String(), "envoy-test: stopped") {
		t.Errorf("no stop message in logs:\n%s", logs.String())
	}
}

func TestRunner_RestartsAfterCrash(t *testing.T) {
	var logs syncBuffer
	r := testRunner(t, &logs, nil)
	startRunner(t, r)

	for i := 1; i <= 2; i++ {
		old := r.PID()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, 20*time.Second, "a new LIVE envoy after SIGKILL", func() bool {
			pid, admin := r.PID(), r.AdminAddress()
			if pid == 0 || pid == old || admin == "" {
				return false
			}
			state, err := readyState(context.Background(), http.DefaultClient, admin)
			return err == nil && state == "LIVE"
		})
		if got := r.Restarts(); got != i {
			t.Errorf("Restarts() = %d, want %d", got, i)
		}
	}
	if !strings.Contains(logs.String(), "envoy-test: exited; restarting") {
		t.Errorf("no restart message in logs:\n%s", logs.String())
	}
}

func TestRunner_SeveralOnOneHost(t *testing.T) {
	// Each Envoy needs its own hot-restart base id; --use-dynamic-base-id
	// picks a free one.
	a := testRunner(t, io.Discard, nil)
	b := testRunner(t, io.Discard, nil)
	startRunner(t, a)
	startRunner(t, b)
	if a.PID() == b.PID() || a.AdminAddress() == b.AdminAddress() {
		t.Fatalf("runners share a process: %d/%s vs %d/%s", a.PID(), a.AdminAddress(), b.PID(), b.AdminAddress())
	}
}

func TestRunner_FirstStartFailureIsReported(t *testing.T) {
	var logs syncBuffer
	// Valid YAML Envoy rejects: the admin port is taken.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	y, err := Bootstrap(BootstrapOptions{NodeID: "n", XDSAddresses: []string{deadAddress(t)}, AdminAddress: l.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	r := testRunner(t, &logs, func(o *RunnerOptions) { o.Bootstrap = y })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = r.Start(ctx)
	if err == nil {
		r.Wait()
		t.Fatal("Start succeeded with the admin port taken")
	}
	// The error quotes Envoy's own explanation.
	t.Log(err)
	if !strings.Contains(err.Error(), "last log lines") {
		t.Errorf("error lacks Envoy's log tail: %v", err)
	}
	select {
	case <-r.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("runner not done after a failed Start")
	}
}

func TestRunner_NotReadyInTime(t *testing.T) {
	// Waiting forever for the first CDS answer keeps Envoy INITIALIZING.
	y, err := Bootstrap(BootstrapOptions{NodeID: "n", XDSAddresses: []string{deadAddress(t)}, AdminAddress: "127.0.0.1:0", InitialFetchTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r := testRunner(t, io.Discard, func(o *RunnerOptions) {
		o.Bootstrap = y
		o.ReadyTimeout = 2 * time.Second
	})
	err = r.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not LIVE within") {
		t.Fatalf("Start err = %v, want not LIVE within", err)
	}
	r.Wait()
}

func TestRunner_CancelDuringStart(t *testing.T) {
	y, err := Bootstrap(BootstrapOptions{NodeID: "n", XDSAddresses: []string{deadAddress(t)}, AdminAddress: "127.0.0.1:0", InitialFetchTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r := testRunner(t, io.Discard, func(o *RunnerOptions) { o.Bootstrap = y })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start err = %v, want context deadline", err)
	}
	r.Wait()
	if r.PID() != 0 {
		t.Fatalf("envoy still running: pid %d", r.PID())
	}
}

func TestNewRunner_Validates(t *testing.T) {
	if _, err := NewRunner(RunnerOptions{Bootstrap: []byte("x")}); err == nil {
		t.Error("no binary accepted")
	}
	if _, err := NewRunner(RunnerOptions{Binary: "envoy"}); err == nil {
		t.Error("no bootstrap accepted")
	}
}
