package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/internal/poll"
	"github.com/switchboard-gw/switchboard/internal/testenv"
)

// Bounds of the harness. They bound waits; none is an assertion on speed.
const (
	startBound     = testenv.StartBound // control plane + Envoy up
	convergeBound  = 20 * time.Second   // one write visible through Envoy
	requestTimeout = 15 * time.Second
)

// stack is one switchboard control plane and the Envoy it configures, on
// free loopback ports. The processes, flags and waits are internal/testenv's
// (shared with the benchmarks); this type keeps the names the scenarios use,
// and a scenario may fill the addresses itself (cluster_test.go does).
type stack struct {
	t *testing.T

	adminAddr, xdsAddr, proxyAddr, envoyAdminAddr string
	proxyTLSAddr                                  string // "" when the stack has no TLS listener
	dataDir, hostsFile, nodeID                    string
	withEnvoy, delta                              bool
	extraArgs                                     []string

	env   *testenv.Stack
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
	nodeID := "e2e-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	env, err := testenv.StartStack(testenv.Bins{Switchboard: switchboardBin, Envoy: envoyBin}, t.TempDir(),
		testenv.StackOptions{Name: "stack", NodeID: nodeID, Envoy: !opts.externalEnvoy, ExternalEnvoy: opts.externalEnvoy,
			Delta: opts.delta, Hosts: opts.hosts, ExtraArgs: append(dnsResolverArgs(t), opts.extraArgs...), AdminToken: opts.adminToken})
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{
		t:         t,
		adminAddr: env.AdminAddr, xdsAddr: env.XDSAddr, proxyAddr: env.ProxyAddr, envoyAdminAddr: env.EnvoyAdminAddr,
		proxyTLSAddr: env.ProxyTLSAddr,
		dataDir:      env.DataDir, hostsFile: env.HostsFile, nodeID: nodeID,
		withEnvoy: !opts.externalEnvoy, delta: opts.delta, extraArgs: opts.extraArgs,
		env:   env,
		cp:    wrapProc(env.CP),
		admin: &http.Client{Timeout: requestTimeout, Transport: withToken(opts.adminToken)},
		proxy: env.Proxy,
	}
	if env.Envoy != nil {
		s.envoy = wrapProc(env.Envoy)
	}
	for _, p := range []*proc{s.cp, s.envoy} {
		if p != nil {
			t.Logf("started %s (pid %d): %s", p.name, p.Pid(), strings.Join(p.cmd.Args, " "))
		}
	}
	t.Cleanup(func() {
		env.Stop()
		for _, p := range []*proc{s.envoy, s.cp} {
			if p != nil && t.Failed() {
				t.Logf("---- output of %s (pid %d) ----\n%s", p.name, p.Pid(), p.Tail(300))
			}
		}
	})
	t.Cleanup(s.proxy.CloseIdleConnections)
	return s
}

// serveArgs is the command line of `switchboard serve` for this stack.
func (s *stack) serveArgs() []string {
	c := testenv.Serve{AdminAddr: s.adminAddr, XDSAddr: s.xdsAddr, ProxyAddr: s.proxyAddr, EnvoyAdminAddr: s.envoyAdminAddr,
		ProxyTLSAddr: s.proxyTLSAddr,
		DataDir:      s.dataDir, HostsFile: s.hostsFile, NodeID: s.nodeID, Delta: s.delta,
		Extra: append(dnsResolverArgs(s.t), s.extraArgs...)}
	if s.env != nil {
		c.RateLimitAddr = s.env.RateLimitAddr
	}
	if s.withEnvoy {
		c.EnvoyBin = envoyBin
	}
	return c.Args()
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

// waitAdmin polls the Admin API until it answers with a leader that has
// replayed its log, or the process exits.
func (s *stack) waitAdmin() error {
	return testenv.WaitAdmin(testenv.NewAdminWith(s.adminAddr, s.admin), s.cp.Proc)
}

// waitServing waits until Envoy is LIVE and its proxy listener answers
// HTTP (with no config yet: Kong's 404).
func (s *stack) waitServing() error {
	var watch []*testenv.Proc
	for _, p := range []*proc{s.cp, s.envoy} {
		if p != nil {
			watch = append(watch, p.Proc)
		}
	}
	return testenv.WaitEnvoyServing(s.envoyAdminAddr, s.proxyAddr, watch...)
}

// probe checks once that Envoy is LIVE and its proxy listener answers.
func (s *stack) probe() error { return testenv.ProbeEnvoy(s.admin, s.envoyAdminAddr, s.proxyAddr) }

// envoyAdmin GETs a path from Envoy's admin listener and returns the body.
func (s *stack) envoyAdmin(path string) string {
	s.t.Helper()
	body, err := testenv.NewEnvoyAdmin(s.envoyAdminAddr).Get(path)
	if err != nil {
		s.t.Fatalf("envoy admin %s: %v", path, err)
	}
	return body
}

func (s *stack) adminURL(path string) string { return "http://" + s.adminAddr + path }
func (s *stack) proxyURL(path string) string { return "http://" + s.proxyAddr + path }

// writeHostsFile writes an /etc/hosts-style file for --dns-hostsfile.
func writeHostsFile(t *testing.T, hosts map[string]string) string {
	t.Helper()
	path, err := testenv.WriteHostsFile(t.TempDir(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// eventually polls cond until it reports done or bound passes; it returns
// how long that took. cond's detail string explains the last miss.
func eventually(t *testing.T, bound time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	return poll.Eventually(t, bound, what, cond)
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
