package testenv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// StartBound bounds how long a control plane or an Envoy may take to come
// up. It bounds a wait; it is not an assertion on speed.
const StartBound = 60 * time.Second

// Bins are the binaries under test.
type Bins struct {
	Switchboard string
	Envoy       string
	Nginx       string
}

// Serve is the command line of one `switchboard serve`.
type Serve struct {
	AdminAddr, XDSAddr, ProxyAddr, EnvoyAdminAddr string
	// ProxyTLSAddr is the TLS listener's (--proxy-tls-listen); empty turns
	// it off, so that no test binds the default 0.0.0.0:8443.
	ProxyTLSAddr               string
	DataDir, HostsFile, NodeID string
	// EnvoyBin, when set, makes switchboard start and supervise a local
	// Envoy (--envoy); Delta makes that Envoy speak incremental xDS.
	EnvoyBin string
	Delta    bool
	// LogLevel is --log-level ("" keeps switchboard's default).
	LogLevel string
	// RateLimitAddr is --ratelimit-listen ("" keeps switchboard's default,
	// which parallel stacks would contend for).
	RateLimitAddr string
	// Extra flags, appended as given.
	Extra []string
}

// Args is the argument list, starting with "serve".
func (c Serve) Args() []string {
	args := []string{"serve",
		"--admin-listen", c.AdminAddr,
		"--xds-listen", c.XDSAddr,
		"--proxy-listen", c.ProxyAddr,
		"--proxy-tls-listen", orOff(c.ProxyTLSAddr),
		"--envoy-admin-listen", c.EnvoyAdminAddr,
		"--data-dir", c.DataDir,
		"--dns-hostsfile", c.HostsFile,
		"--node-id", c.NodeID,
	}
	if c.LogLevel != "" {
		args = append(args, "--log-level", c.LogLevel)
	}
	if c.RateLimitAddr != "" {
		args = append(args, "--ratelimit-listen", c.RateLimitAddr)
	}
	if c.EnvoyBin != "" {
		// Explicit both ways: delta is the product's default.
		args = append(args, "--envoy", "--envoy-bin", c.EnvoyBin, "--envoy-delta="+strconv.FormatBool(c.Delta))
	}
	return append(args, c.Extra...)
}

func orOff(addr string) string {
	if addr == "" {
		return "off"
	}
	return addr
}

// StackOptions shape StartStack.
type StackOptions struct {
	// Name labels the processes and the stack's directory.
	Name string
	// NodeID is the Envoy node id (default: Name).
	NodeID string
	// Envoy starts the local Envoy (`serve --envoy`); without it (and
	// without ExternalEnvoy) the stack is the control plane alone and the
	// caller may attach Envoys itself.
	Envoy bool
	// ExternalEnvoy runs the stack's Envoy from `switchboard
	// envoy-bootstrap` instead, as an operator's own Envoy: it outlives the
	// control plane.
	ExternalEnvoy bool
	// Delta makes the stack's Envoy speak incremental xDS.
	Delta bool
	// Hosts is written to --dns-hostsfile (name → IP).
	Hosts map[string]string
	// LogLevel is switchboard's --log-level ("" for its default);
	// EnvoyLogLevel that of the Envoys started from envoy-bootstrap ("" for
	// info).
	LogLevel, EnvoyLogLevel string
	// ExtraArgs are more `serve` flags.
	ExtraArgs []string
	// AdminToken is sent as Kong-Admin-Token by the stack's Admin client
	// (pair it with --admin-token in ExtraArgs).
	AdminToken string
	// LogFiles also writes each process's output to <name>.log in the
	// stack's directory (it is always kept in memory too).
	LogFiles bool
}

// Stack is one switchboard process (and its Envoy) on free ports.
type Stack struct {
	Bins Bins
	// Dir holds the hosts file, the data directory and bootstrap files.
	Dir  string
	Opts StackOptions
	// CP is the switchboard process; Envoy is the external Envoy
	// (ExternalEnvoy only; a local Envoy is a child of CP).
	CP, Envoy *Proc
	Admin     *Admin
	Proxy     *http.Client
	Serve     Serve
	NodeID    string
	DataDir   string
	HostsFile string
	extra     []*Proc
	logDir    string // "" keeps output in memory only

	AdminAddr, XDSAddr, ProxyAddr, EnvoyAdminAddr string
	// RateLimitAddr is the stack's rate-limit service (policy=cluster|redis).
	RateLimitAddr string
	// ProxyTLSAddr is the Envoy's TLS listener (a free loopback port).
	ProxyTLSAddr string
}

// StartStack starts switchboard serve in workDir/<name> (emptied first: the
// store is durable, and a reused data directory would start with the
// previous run's entities) and waits until the Admin API answers with a
// leader and, with an Envoy, the proxy listener serves. A port taken
// between picking and binding is retried.
func StartStack(bins Bins, workDir string, opts StackOptions) (*Stack, error) {
	dir := filepath.Join(workDir, opts.Name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Stack{Bins: bins, Dir: dir, Opts: opts, NodeID: opts.NodeID, DataDir: filepath.Join(dir, "data"),
		Proxy: &http.Client{Timeout: 15 * time.Second,
			// A few reused connections: a keep-alive client, as curl in a
			// loop is not, but steady and cheap.
			Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}}}
	if s.NodeID == "" {
		s.NodeID = opts.Name
	}
	if opts.LogFiles {
		s.logDir = dir
	}
	hosts, err := WriteHostsFile(dir, opts.Hosts)
	if err != nil {
		return nil, err
	}
	s.HostsFile = hosts
	var last error
	for attempt := 1; attempt <= 3; attempt++ {
		ports, err := FreePorts(6)
		if err != nil {
			return nil, err
		}
		s.AdminAddr, s.XDSAddr, s.ProxyAddr, s.EnvoyAdminAddr = ports[0], ports[1], ports[2], ports[3]
		s.RateLimitAddr = ports[4]
		s.ProxyTLSAddr = ports[5]
		if s.Admin != nil {
			s.Admin.Close()
		}
		s.Admin = NewAdmin(s.AdminAddr)
		s.Admin.Token = opts.AdminToken
		// A failed attempt may have written a log; start empty.
		if err := os.RemoveAll(s.DataDir); err != nil {
			return nil, err
		}
		s.Serve = Serve{AdminAddr: s.AdminAddr, XDSAddr: s.XDSAddr, ProxyAddr: s.ProxyAddr, EnvoyAdminAddr: s.EnvoyAdminAddr,
			ProxyTLSAddr: s.ProxyTLSAddr,
			DataDir:      s.DataDir, HostsFile: s.HostsFile, NodeID: s.NodeID, Delta: opts.Delta,
			LogLevel: opts.LogLevel, RateLimitAddr: s.RateLimitAddr, Extra: opts.ExtraArgs}
		if opts.Envoy && !opts.ExternalEnvoy {
			s.Serve.EnvoyBin = bins.Envoy
		}
		last = s.StartControlPlane()
		if last == nil && opts.ExternalEnvoy {
			s.Envoy, last = StartBootstrappedEnvoy(bins, dir, s.logDir, opts.EnvoyLogLevel, "envoy", s.NodeID, s.XDSAddr, s.EnvoyAdminAddr, opts.Delta,
				ProxyTLSFlag(s.ProxyTLSAddr != ""))
		}
		if last == nil && (opts.Envoy || opts.ExternalEnvoy) {
			last = WaitEnvoyServing(s.EnvoyAdminAddr, s.ProxyAddr, s.CP, s.Envoy)
		}
		if last == nil {
			return s, nil
		}
		bind := s.CP.BindFailed() || (s.Envoy != nil && s.Envoy.BindFailed())
		tail := s.CP.Tail(40)
		s.stopProcs()
		if !bind {
			return nil, fmt.Errorf("stack %s did not start: %w\n%s", opts.Name, last, tail)
		}
	}
	return nil, fmt.Errorf("stack %s did not start after 3 attempts (ports taken): %w", opts.Name, last)
}

// StartControlPlane starts `switchboard serve` with s.Serve (again, after
// a crash: same ports, same data directory) and waits for the Admin API.
func (s *Stack) StartControlPlane() error {
	if s.CP != nil && !s.CP.Exited() {
		return fmt.Errorf("stack %s: the control plane is still running", s.Opts.Name)
	}
	cp, err := StartProc(s.logDir, "switchboard", s.Bins.Switchboard, s.Serve.Args()...)
	if err != nil {
		return err
	}
	s.CP = cp
	return WaitAdmin(s.Admin, s.CP)
}

// Stop stops every process of the stack (extra Envoys first).
func (s *Stack) Stop() {
	s.stopProcs()
	s.Proxy.CloseIdleConnections()
	s.Admin.Close()
}

func (s *Stack) stopProcs() {
	for _, p := range s.extra {
		p.Stop(5 * time.Second)
	}
	s.extra = nil
	s.Envoy.Stop(5 * time.Second)
	s.CP.Stop(5 * time.Second)
}

// AdminURL is the URL of path on the Admin API.
func (s *Stack) AdminURL(path string) string { return "http://" + s.AdminAddr + path }

// ProxyURL is the URL of path through the stack's Envoy.
func (s *Stack) ProxyURL(path string) string { return "http://" + s.ProxyAddr + path }

// WaitAdmin polls until the Admin API serves the Kong endpoints (they
// answer 503 until the node has caught up with its log) and the durable
// log has a leader and has replayed, or cp dies.
func WaitAdmin(a *Admin, cp *Proc) error {
	return pollBound(StartBound, func() (bool, error) {
		if cp.Exited() {
			return false, fmt.Errorf("switchboard exited during startup: %w (%v)", ErrExited, cp.ExitErr())
		}
		if r, err := a.Do("GET", "/services?size=1", nil); err != nil || r.Status != http.StatusOK {
			return false, nil
		}
		return ClusterReady(a) == nil, nil
	})
}

// ClusterReady reads GET /clustering/status: the Admin API answers before
// the durable log has elected a leader and replayed, and until then reads
// may be empty and writes get 503. A build without that endpoint is ready
// as soon as the Admin API answers.
func ClusterReady(a *Admin) error {
	r, err := a.Do("GET", "/clustering/status", nil)
	if err != nil {
		return err
	}
	if r.Status == http.StatusNotFound {
		return nil
	}
	var st struct {
		Leader       *struct{ ID string } `json:"leader"`
		CommitIndex  uint64               `json:"commit_index"`
		AppliedIndex uint64               `json:"applied_index"`
	}
	if err := json.Unmarshal(r.Body, &st); err != nil {
		return fmt.Errorf("GET /clustering/status: %w", err)
	}
	if st.Leader == nil || st.CommitIndex == 0 || st.AppliedIndex < st.CommitIndex {
		return fmt.Errorf("cluster not ready: leader %v, applied %d of %d", st.Leader != nil, st.AppliedIndex, st.CommitIndex)
	}
	return nil
}
