package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// Binaries under test, resolved once in TestMain.
var (
	switchboardBin string
	envoyBin       string
	// setupErr says why the stack cannot run at all (no Envoy, build
	// failure); tests that need the stack skip or fail with it.
	setupErr error
	// setupIsSkip: setupErr means "skip", not "fail" (no Envoy, not in CI).
	setupIsSkip bool
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "switchboard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	resolveBinaries(tmp)
	code := m.Run()
	printPropagationSummary()
	_ = os.RemoveAll(tmp)
	os.Exit(code)
}

// resolveBinaries finds Envoy and switchboard, building the latter into tmp
// when SWITCHBOARD_BIN is unset.
func resolveBinaries(tmp string) {
	envoyBin = os.Getenv("ENVOY_BIN")
	if envoyBin == "" {
		// `make envoy` leaves it at <repo>/bin/envoy.
		if p, err := filepath.Abs(filepath.Join("..", "bin", "envoy")); err == nil && isExecutable(p) {
			envoyBin = p
		} else if p, err := exec.LookPath("envoy"); err == nil {
			envoyBin = p
		}
	}
	if envoyBin == "" {
		setupErr = fmt.Errorf("no Envoy: set ENVOY_BIN or run `make envoy` (make test and make e2e do both)")
		setupIsSkip = os.Getenv("CI") == ""
		return
	}
	if !isExecutable(envoyBin) {
		setupErr = fmt.Errorf("ENVOY_BIN=%s is not an executable file", envoyBin)
		return
	}

	switchboardBin = os.Getenv("SWITCHBOARD_BIN")
	if switchboardBin != "" {
		if !isExecutable(switchboardBin) {
			setupErr = fmt.Errorf("SWITCHBOARD_BIN=%s is not an executable file (run `make build`)", switchboardBin)
		}
		return
	}
	switchboardBin = filepath.Join(tmp, "switchboard")
	start := time.Now()
	build := exec.Command("go", "build", "-o", switchboardBin, "./cmd/switchboard")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		setupErr = fmt.Errorf("go build ./cmd/switchboard: %v\n%s", err, out)
		return
	}
	fmt.Printf("e2e: built %s in %s\n", switchboardBin, time.Since(start).Round(time.Millisecond))
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// requireStack skips or fails t when the binaries are not available.
func requireStack(t *testing.T) {
	t.Helper()
	if setupErr == nil {
		return
	}
	if setupIsSkip {
		t.Skipf("skipping: %v", setupErr)
	}
	t.Fatalf("e2e setup: %v", setupErr)
}

// propagation collects "write returned → visible in Envoy" latencies from
// every scenario, for the summary TestMain prints. They are observations,
// never assertions.
var propagation struct {
	mu      sync.Mutex
	samples []time.Duration
}

func recordPropagation(d time.Duration) {
	propagation.mu.Lock()
	defer propagation.mu.Unlock()
	propagation.samples = append(propagation.samples, d)
}

func printPropagationSummary() {
	propagation.mu.Lock()
	defer propagation.mu.Unlock()
	s := slices.Clone(propagation.samples)
	if len(s) == 0 {
		return
	}
	slices.Sort(s)
	fmt.Printf("e2e: propagation (Admin API write returned → visible through Envoy): n=%d p50=%s p90=%s max=%s\n",
		len(s), pct(s, 50), pct(s, 90), s[len(s)-1])
}

// pct is the nearest-rank percentile of sorted s.
func pct(s []time.Duration, p int) time.Duration {
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)].Round(100 * time.Microsecond)
}
