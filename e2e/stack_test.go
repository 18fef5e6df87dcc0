package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Bounds of the harness. They bound waits; none is an assertion on speed.
const (
	startBound     = 45 * time.Second // control plane + Envoy up
	convergeBound  = 20 * time.Second // one write visible through Envoy
	requestTimeout = 15 * time.Second
)

// stack is one switchboard control plane and the Envoy it configures, on
// free loopback ports.
type stack struct {
	t *testing.T

	adminAddr, xdsAddr, proxyAddr, envoyAdminAddr string
	dataDir, hostsFile, nodeID                    string
	withEnvoy, delta                              bool
	extraArgs                                     []string

	cp    *proc // the switchboard process
	envoy *proc // an Envoy the test started itself (withEnvoy == false)

	admin *http.Client
	proxy *http.Client
}

// stackOptions shape startStack.
type stackOptions struct {
	// hosts maps hostnames to loopback IPs, written to --dns-hostsfile.
	hosts map[string]string
	// externalEnvoy: start switchboard without --envoy and run Envoy from
	// `switchboard envoy-bootstrap` here, so it survives the control plane.
	externalEnvoy bool
	// delta: Envoy speaks incremental xDS (DELTA_GRPC) instead of SotW.
	delta bool
	// extraArgs are appended to `switchboard serve`; adminToken is sent by
	// every Admin API call of the harness (security_test.go).
	extraArgs  []string
	adminToken string
}

// startStack starts switchboard (and Envoy) and waits until the Admin API
// answers and the proxy listener is serving.
func startStack(t *testing.T, opts stackOptions) *stack {
	t.Helper()
	requireStack(t)
	s := &stack{
		t:         t,
		dataDir:   t.TempDir(),
		nodeID:    "e2e-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")),
		withEnvoy: !opts.externalEnvoy,
		delta:     opts.delta,
		extraArgs: opts.extraArgs,
		admin:     &http.Client{Timeout: requestTimeout, Transport: withToken(opts.adminToken)},
		proxy: &http.Client{
			Timeout: requestTimeout,
			// One reused connection: a keep-alive client, as curl in a loop
			// is not, but steady and cheap.
			Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true},
		},
	}
	t.Cleanup(s.proxy.CloseIdleConnections)
	s.hostsFile = writeHostsFile(t, opts.hosts)

	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		s.adminAddr, s.xdsAddr, s.proxyAddr, s.envoyAdminAddr = freePort(t), freePort(t), freePort(t), freePort(t)
		lastErr = s.startControlPlane()
		if lastErr == nil && opts.externalEnvoy {
			lastErr = s.startExternalEnvoy()
		}
		if lastErr == nil {
			lastErr = s.waitServing()
		}
		if lastErr == nil {
			return s
		}
		if !s.bindFailed() {
			break
		}
		t.Logf("attempt %d: a port was taken between picking and binding; retrying: %v", attempt, lastErr)
		s.stopAll()
	}
	t.Fatalf("stack did not start: %v", lastErr)
	return nil
}

// serveArgs is the command line of `switchboard serve` for this stack.
func (s *stack) serveArgs() []string {
	args := []string{
		"serve",
		"--admin-listen", s.adminAddr,
		"--xds-listen", s.xdsAddr,
		"--proxy-listen", s.proxyAddr,
		"--envoy-admin-listen", s.envoyAdminAddr,
		"--data-dir", s.dataDir,
		"--dns-hostsfile", s.hostsFile,
		"--node-id", s.nodeID,
	}
	args = append(args, dnsResolverArgs(s.t)...)
	args = append(args, s.extraArgs...)
	if s.withEnvoy {
		args = append(args, "--envoy", "--envoy-bin", envoyBin)
		if s.delta {
			args = append(args, "--envoy-delta")
		}
	}
	return args
}

func (s *stack) startControlPlane() error {
	s.cp = startProc(s.t, "switchboard", switchboardBin, s.serveArgs()...)
	return s.waitAdmin()
}

// restartControlPlane starts switchboard again on the same ports and data
// directory (after a crash) and waits for the Admin API.
func (s *stack) restartControlPlane() {
	s.t.Helper()
	if !s.cp.exited() {
		s.t.Fatal("restartControlPlane: the control plane is still running")
	}
	if err := s.startControlPlane(); err != nil {
		s.t.Fatalf("control plane restart: %v", err)
	}
}

// startExternalEnvoy runs Envoy from `switchboard envoy-bootstrap`, as an
// operator with their own Envoy would.
func (s *stack) startExternalEnvoy() error {
	args := []string{"envoy-bootstrap",
		"--node-id", s.nodeID,
		"--xds-address", s.xdsAddr,
		"--admin-listen", s.envoyAdminAddr}
	if s.delta {
		args = append(args, "--delta")
	}
	cmd := exec.Command(switchboardBin, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return fmt.Errorf("switchboard envoy-bootstrap: %v\n%s", err, stderr)
	}
	path := filepath.Join(s.dataDir, "external-envoy.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return err
	}
	s.envoy = startProc(s.t, "envoy", envoyBin, "-c", path, "--use-dynamic-base-id", "--log-level", "info")
	return nil
}

// waitAdmin polls the Admin API until it answers, or the process exits.
func (s *stack) waitAdmin() error {
	deadline := time.Now().Add(startBound)
	var last error
	for time.Now().Before(deadline) {
		if s.cp.exited() {
			return fmt.Errorf("switchboard exited during startup (%v): %w", s.cp.err, errExited)
		}
		resp, err := s.admin.Get(s.adminURL("/services"))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if err = s.clusterReady(); err == nil {
					return nil
				}
			} else {
				err = fmt.Errorf("GET /services: %s", resp.Status)
			}
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("admin API not up within %s: %v", startBound, last)
}

// clusterReady reads GET /clustering/status: the Admin API answers before
// the durable log has elected a leader and replayed, and until then reads
// may be empty and writes get 503. A build without that endpoint is ready
// as soon as the Admin API answers.
func (s *stack) clusterReady() error {
	resp, err := s.admin.Get(s.adminURL("/clustering/status"))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	var st struct {
		Leader       *struct{ ID string } `json:"leader"`
		CommitIndex  uint64               `json:"commit_index"`
		AppliedIndex uint64               `json:"applied_index"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return fmt.Errorf("GET /clustering/status: %w", err)
	}
	if st.Leader == nil || st.CommitIndex == 0 || st.AppliedIndex < st.CommitIndex {
		return fmt.Errorf("cluster not ready: leader %v, applied %d of %d", st.Leader != nil, st.AppliedIndex, st.CommitIndex)
	}
	return nil
}

// waitServing waits until Envoy is LIVE and its proxy listener answers
// HTTP (with no config yet: Kong's 404).
func (s *stack) waitServing() error {
	deadline := time.Now().Add(startBound)
	var last error
	for time.Now().Before(deadline) {
		for _, p := range []*proc{s.cp, s.envoy} {
			if p != nil && p.exited() {
				return fmt.Errorf("%s exited during startup (%v): %w", p.name, p.err, errExited)
			}
		}
		last = s.probe()
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("envoy not serving within %s: %v", startBound, last)
}

func (s *stack) probe() error {
	resp, err := s.admin.Get("http://" + s.envoyAdminAddr + "/ready")
	if err != nil {
		return fmt.Errorf("envoy admin: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != "LIVE" {
		return fmt.Errorf("envoy /ready: %s %q", resp.Status, body)
	}
	resp, err = s.proxy.Get(s.proxyURL("/"))
	if err != nil {
		return fmt.Errorf("proxy listener: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

func (s *stack) bindFailed() bool {
	for _, p := range []*proc{s.cp, s.envoy} {
		if p != nil && isBindError(p.out.String()) {
			return true
		}
	}
	return false
}

func (s *stack) stopAll() {
	for _, p := range []*proc{s.envoy, s.cp} {
		if p != nil {
			p.stop(5 * time.Second)
		}
	}
	s.envoy, s.cp = nil, nil
}

// envoyAdmin GETs a path from Envoy's admin listener and returns the body.
func (s *stack) envoyAdmin(path string) string {
	s.t.Helper()
	resp, err := s.admin.Get("http://" + s.envoyAdminAddr + path)
	if err != nil {
		s.t.Fatalf("envoy admin %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("envoy admin %s: %s %v", path, resp.Status, err)
	}
	return string(b)
}

func (s *stack) adminURL(path string) string { return "http://" + s.adminAddr + path }
func (s *stack) proxyURL(path string) string { return "http://" + s.proxyAddr + path }

// writeHostsFile writes an /etc/hosts-style file for --dns-hostsfile.
func writeHostsFile(t *testing.T, hosts map[string]string) string {
	t.Helper()
	names := make([]string, 0, len(hosts))
	for n := range hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# written by the switchboard e2e tests\n127.0.0.1 localhost\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%s %s\n", hosts[n], n)
	}
	path := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// eventually polls cond until it reports done or bound passes; it returns
// how long that took. cond's detail string explains the last miss.
func eventually(t *testing.T, bound time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	wait := 5 * time.Millisecond
	for {
		ok, detail := cond()
		if ok {
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s (last: %s)", what, bound, detail)
		case <-time.After(wait):
		}
		wait = min(wait*2, 100*time.Millisecond)
	}
}

// converge waits, after an Admin API write returned, until cond sees the
// change through Envoy, and records and logs how long that took.
func (s *stack) converge(what string, cond func() (bool, string)) time.Duration {
	s.t.Helper()
	d := eventually(s.t, convergeBound, "propagation of "+what, cond)
	recordPropagation(d)
	s.t.Logf("propagation %-45s %s", what+":", d.Round(100*time.Microsecond))
	return d
}
