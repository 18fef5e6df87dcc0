package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-gw/switchboard/internal/poll"
)

// EnvoyBootstrap runs `switchboard envoy-bootstrap` for a node that
// streams from xdsAddress (one host:port, or several joined by commas)
// and serves its admin interface on adminAddr. extra are more
// envoy-bootstrap flags (ProxyTLSFlag).
func EnvoyBootstrap(switchboardBin, nodeID, xdsAddress, adminAddr string, delta bool, extra ...string) ([]byte, error) {
	args := []string{"envoy-bootstrap", "--node-id", nodeID, "--xds-address", xdsAddress, "--admin-listen", adminAddr,
		"--delta=" + strconv.FormatBool(delta)} // explicit both ways: delta is the default
	args = append(args, extra...)
	out, err := RunOutput(switchboardBin, args...)
	if err != nil {
		return nil, fmt.Errorf("switchboard envoy-bootstrap: %w", err)
	}
	return out, nil
}

// StartBootstrappedEnvoy writes the envoy-bootstrap config to dir/<name>.yaml
// and runs Envoy from it, as an operator's own Envoy would. logLevel is
// Envoy's --log-level ("" for info).
func StartBootstrappedEnvoy(bins Bins, dir, logDir, logLevel, name, nodeID, xdsAddress, adminAddr string, delta bool, extra ...string) (*Proc, error) {
	boot, err := EnvoyBootstrap(bins.Switchboard, nodeID, xdsAddress, adminAddr, delta, extra...)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, boot, 0o600); err != nil {
		return nil, err
	}
	if logLevel == "" {
		logLevel = "info"
	}
	return StartProc(logDir, name, bins.Envoy, "-c", path, "--use-dynamic-base-id", "--log-level", logLevel)
}

// StartExternalEnvoy runs one more Envoy from `switchboard envoy-bootstrap`
// against this stack's xDS listener, with its own node id and admin port;
// Stop stops it. It returns the Envoy's admin address.
func (s *Stack) StartExternalEnvoy(name string, delta bool) (*Proc, string, error) {
	adminAddr, err := FreePort()
	if err != nil {
		return nil, "", err
	}
	p, err := StartBootstrappedEnvoy(s.Bins, s.Dir, s.logDir, s.Opts.EnvoyLogLevel, name, s.NodeID+"-"+name, s.XDSAddr, adminAddr, delta,
		ProxyTLSFlag(s.ProxyTLSAddr != ""))
	if err != nil {
		return nil, "", err
	}
	s.extra = append(s.extra, p)
	return p, adminAddr, nil
}

// WaitEnvoyServing polls until the Envoy whose admin listener is adminAddr
// says LIVE and its proxy listener (when proxyAddr is set) answers HTTP with
// any status, or one of watch (nil entries are skipped) dies first.
func WaitEnvoyServing(adminAddr, proxyAddr string, watch ...*Proc) error {
	c := &http.Client{Timeout: 2 * time.Second}
	defer c.CloseIdleConnections()
	var last error
	err := pollBound(StartBound, func() (bool, error) {
		for _, p := range watch {
			if p != nil && p.Exited() {
				return false, fmt.Errorf("%s exited during startup: %w (%v)", p.Name, ErrExited, p.ExitErr())
			}
		}
		last = ProbeEnvoy(c, adminAddr, proxyAddr)
		return last == nil, nil
	})
	if err != nil && last != nil {
		return fmt.Errorf("envoy not serving: %w (last: %v)", err, last)
	}
	return err
}

// ProbeEnvoy checks once that Envoy's /ready says LIVE and that its proxy
// listener (when proxyAddr is set) answers HTTP.
func ProbeEnvoy(c *http.Client, adminAddr, proxyAddr string) error {
	body, err := get(c, "http://"+adminAddr+"/ready")
	if err != nil {
		return fmt.Errorf("envoy admin: %w", err)
	}
	if strings.TrimSpace(body) != "LIVE" {
		return fmt.Errorf("envoy /ready: %q", body)
	}
	if proxyAddr == "" {
		return nil
	}
	resp, err := c.Get("http://" + proxyAddr + "/")
	if err != nil {
		return fmt.Errorf("proxy listener: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// pollBound is poll.Until with a bound instead of a context, polling every
// 20ms as a startup wait.
func pollBound(bound time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	return poll.Until(ctx, 20*time.Millisecond, cond)
}

// get GETs url and returns the body; a status other than 200 is an error.
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

// ProxyTLSFlag is envoy-bootstrap's --proxy-tls for a control plane that
// serves the TLS listener (or not): the bootstrap then adds (or leaves out)
// that listener's proxy-cache loop, whose route configuration would
// otherwise hold Envoy's start.
func ProxyTLSFlag(on bool) string { return "--proxy-tls=" + strconv.FormatBool(on) }
