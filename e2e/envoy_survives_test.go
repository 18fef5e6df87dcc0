package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// localEnvoyPID is the pid the local Envoy's runner recorded.
func localEnvoyPID(t *testing.T, s *stack) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dataDir, "envoy", "envoy.pid"))
	if err != nil {
		t.Fatalf("local Envoy pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("local Envoy pid file: %v", err)
	}
	return pid
}

// envoysOf counts the running Envoys started with this stack's bootstrap.
func envoysOf(s *stack) int {
	boot := []byte(filepath.Join(s.dataDir, "envoy", "envoy-bootstrap.yaml"))
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), string(boot)) {
			n++
		}
	}
	return n
}

// TestLocalEnvoy_SurvivesSIGKILLAndIsAdopted: with --envoy, SIGKILL the
// control plane while a bounded load runs through its local Envoy. Not one
// request fails, the Envoy keeps its pid, and the restarted control plane
// adopts it (no second Envoy) and configures it again.
func TestLocalEnvoy_SurvivesSIGKILLAndIsAdopted(t *testing.T) {
	t.Parallel()
	a := startBackend(t, "a")
	s := startStack(t, stackOptions{hosts: map[string]string{"a.test": a.ip}})
	s.mustAPI("POST", "/services", form("name", "steady", "url", fmt.Sprintf("http://a.test:%d", a.port)), 201)
	s.mustAPI("POST", "/services/steady/routes", form("name", "steady", "paths[]", "/steady"), 201)
	s.converge("steady route", func() (bool, string) {
		r := s.get("/steady/x", "")
		return r.backend == "a", r.String()
	})
	pid := localEnvoyPID(t, s)
	// Should the test fail half-way, no Envoy outlives it.
	t.Cleanup(func() {
		if envoysOf(s) > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	load := startTraffic(s.proxyURL("/steady/x"), "a", 4, 40000, 2*time.Minute)
	defer load.finish()
	atLeast := func(n int, what string) {
		eventually(t, 30*time.Second, what, func() (bool, string) {
			total, _, _ := load.snapshot()
			return total >= n, fmt.Sprintf("%d requests", total)
		})
	}
	atLeast(200, "load before the kill")
	s.cp.kill(t)
	killed := time.Now()
	before, _, _ := load.snapshot()
	atLeast(before+500, "load with the control plane dead")
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the local Envoy died with its control plane: %v", err)
	}
	s.restartControlPlane()
	back := time.Since(killed)

	// The restarted control plane takes the Envoy over once its xDS server
	// is up, a moment after its Admin API answers.
	eventually(t, startBound, "the restart adopts the running Envoy", func() (bool, string) {
		return strings.Contains(s.cp.out.String(), "adopted the running Envoy"), s.cp.out.tail(5)
	})
	if got := localEnvoyPID(t, s); got != pid {
		t.Fatalf("the restart started Envoy pid %d instead of adopting %d", got, pid)
	}
	if n := envoysOf(s); n != 1 {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		t.Fatalf("%d Envoys run this stack's bootstrap after the restart (pid %d: %q %v)\n%s", n, pid, cmdline, err, s.cp.out.tail(60))
	}
	// The adopted Envoy follows the restarted control plane.
	s.mustAPI("POST", "/services/steady/routes", form("name", "after", "paths[]", "/after"), 201)
	s.converge("a write after the restart reaches the adopted Envoy", func() (bool, string) {
		r := s.get("/after/x", "")
		return r.backend == "a", r.String()
	})
	total, failed, detail := load.finish()
	t.Logf("SIGKILL of switchboard under load through the local Envoy: %d requests, %d failed; "+
		"control plane back after %s; Envoy pid %d adopted", total, failed, back.Round(time.Millisecond), pid)
	if failed > 0 {
		t.Fatalf("%d of %d requests failed: %s", failed, total, detail)
	}

	// A clean stop still stops the Envoy.
	s.cp.stop(10 * time.Second)
	eventually(t, 15*time.Second, "the local Envoy stops with a clean shutdown", func() (bool, string) {
		return envoysOf(s) == 0, fmt.Sprintf("%d Envoys left", envoysOf(s))
	})
}
