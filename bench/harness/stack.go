package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StartBound bounds how long a control plane or an Envoy may take to come up.
const StartBound = 60 * time.Second

// Bins are the binaries under test.
type Bins struct {
	Switchboard string
	Envoy       string
	Nginx       string
}

// StackOptions shape StartStack.
type StackOptions struct {
	// Name labels the processes and the work directory.
	Name string
	// Envoy starts the local Envoy (`serve --envoy`); without it the stack
	// is the control plane alone and the caller may attach Envoys itself.
	Envoy bool
	// Delta makes the local Envoy speak incremental xDS.
	Delta bool
	// Hosts is written to --dns-hostsfile (name → IP).
	Hosts map[string]string
}

// Stack is one switchboard process (and its local Envoy) on free ports.
type Stack struct {
	Bins                                          Bins
	Dir                                           string
	Opts                                          StackOptions
	CP                                            *Proc
	NodeID                                        string
	Admin                                         *Admin
	Proxy                                         *http.Client
	extra                                         []*Proc
	AdminAddr, XDSAddr, ProxyAddr, EnvoyAdminAddr string
}

// StartStack starts switchboard serve under workDir/<name> and waits until
// the Admin API answers with a leader and, with Envoy, the proxy listener
// serves. A port taken between picking and binding is retried.
func StartStack(bins Bins, workDir string, opts StackOptions) (*Stack, error) {
	// A fresh directory: the store is durable, and a reused data dir would
	// start the scenario with the previous run's entities.
	dir := filepath.Join(workDir, opts.Name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Stack{Bins: bins, Dir: dir, Opts: opts, NodeID: "sbbench-" + opts.Name,
		Proxy: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
	hosts, err := writeHosts(dir, opts.Hosts)
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := 1; attempt <= 3; attempt++ {
		ports, err := FreePorts(4)
		if err != nil {
			return nil, err
		}
		s.AdminAddr, s.XDSAddr, s.ProxyAddr, s.EnvoyAdminAddr = ports[0], ports[1], ports[2], ports[3]
		s.Admin = NewAdmin(s.AdminAddr)
		dataDir := filepath.Join(dir, fmt.Sprintf("data-%d", attempt))
		args := []string{"serve",
			"--admin-listen", s.AdminAddr, "--xds-listen", s.XDSAddr,
			"--proxy-listen", s.ProxyAddr, "--envoy-admin-listen", s.EnvoyAdminAddr,
			"--data-dir", dataDir, "--dns-hostsfile", hosts, "--node-id", s.NodeID,
			"--log-level", "warn"}
		if opts.Envoy {
			args = append(args, "--envoy", "--envoy-bin", bins.Envoy)
			if opts.Delta {
				args = append(args, "--envoy-delta")
			}
		}
		s.CP, err = StartProc(dir, fmt.Sprintf("switchboard-%d", attempt), bins.Switchboard, args...)
		if err != nil {
			return nil, err
		}
		last = s.waitAdmin()
		if last == nil && opts.Envoy {
			last = WaitEnvoyServing(s.CP, s.EnvoyAdminAddr, s.ProxyAddr)
		}
		if last == nil {
			return s, nil
		}
		bind := s.CP.BindFailed()
		s.CP.Stop(5 * time.Second)
		if !bind {
			break
		}
	}
	return nil, fmt.Errorf("stack %s did not start: %w\n%s", opts.Name, last, s.CP.Tail(40))
}

// Stop stops every process of the stack (extra Envoys first).
func (s *Stack) Stop() {
	for _, p := range s.extra {
		p.Stop(5 * time.Second)
	}
	s.CP.Stop(3 * time.Second)
	s.Proxy.CloseIdleConnections()
	s.Admin.Close()
}

// ProxyURL is the URL of path through the local Envoy.
func (s *Stack) ProxyURL(path string) string { return "http://" + s.ProxyAddr + path }

// waitAdmin polls until the Admin API serves the Kong endpoints (they
// answer 503 until the node has caught up with its log) and the durable log
// has a leader and has replayed (GET /clustering/status), or the process
// dies.
func (s *Stack) waitAdmin() error {
	ctx, cancel := context.WithTimeout(context.Background(), StartBound)
	defer cancel()
	return Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		if s.CP.Exited() {
			return false, fmt.Errorf("switchboard: %w (%v)", ErrExited, s.CP.ExitErr())
		}
		if r, err := s.Admin.Do("GET", "/services?size=1", nil); err != nil || r.Status != http.StatusOK {
			return false, nil
		}
		r, err := s.Admin.Do("GET", "/clustering/status", nil)
		if err != nil {
			return false, nil
		}
		if r.Status == http.StatusNotFound {
			return true, nil
		}
		var st struct {
			Leader       *struct{ ID string } `json:"leader"`
			CommitIndex  uint64               `json:"commit_index"`
			AppliedIndex uint64               `json:"applied_index"`
		}
		if json.Unmarshal(r.Body, &st) != nil {
			return false, nil
		}
		return st.Leader != nil && st.CommitIndex > 0 && st.AppliedIndex >= st.CommitIndex, nil
	})
}

// WaitEnvoyServing polls until Envoy's admin says LIVE and its proxy
// listener answers HTTP (any status), or owner dies.
func WaitEnvoyServing(owner *Proc, adminAddr, proxyAddr string) error {
	c := &http.Client{Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), StartBound)
	defer cancel()
	return Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		if owner.Exited() {
			return false, fmt.Errorf("%s: %w (%v)", owner.Name, ErrExited, owner.ExitErr())
		}
		body, err := get(c, "http://"+adminAddr+"/ready")
		if err != nil || strings.TrimSpace(body) != "LIVE" {
			return false, nil
		}
		if proxyAddr == "" {
			return true, nil
		}
		resp, err := c.Get("http://" + proxyAddr + "/")
		if err != nil {
			return false, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return true, nil
	})
}

// StartExternalEnvoy runs an Envoy from `switchboard envoy-bootstrap`
// against this stack's xDS listener, as an operator's own Envoy would. It
// returns the Envoy's admin address.
func (s *Stack) StartExternalEnvoy(name string, delta bool) (*Proc, string, error) {
	adminAddr, err := FreePort()
	if err != nil {
		return nil, "", err
	}
	args := []string{"envoy-bootstrap", "--node-id", s.NodeID + "-" + name,
		"--xds-address", s.XDSAddr, "--admin-listen", adminAddr}
	if delta {
		args = append(args, "--delta")
	}
	out, err := runOutput(s.Bins.Switchboard, args...)
	if err != nil {
		return nil, "", fmt.Errorf("envoy-bootstrap: %w", err)
	}
	path := filepath.Join(s.Dir, name+".yaml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return nil, "", err
	}
	p, err := StartProc(s.Dir, name, s.Bins.Envoy, "-c", path, "--use-dynamic-base-id", "--log-level", "warn")
	if err != nil {
		return nil, "", err
	}
	s.extra = append(s.extra, p)
	return p, adminAddr, nil
}

func writeHosts(dir string, hosts map[string]string) (string, error) {
	var b strings.Builder
	b.WriteString("# written by sbbench\n127.0.0.1 localhost\n")
	for n, ip := range hosts {
		fmt.Fprintf(&b, "%s %s\n", ip, n)
	}
	path := filepath.Join(dir, "hosts")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(b), err
}
