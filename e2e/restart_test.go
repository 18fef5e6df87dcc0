package e2e

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestControlPlaneCrash kills the control plane with SIGKILL while an Envoy
// it configured keeps serving, then restarts it and checks that Envoy
// reconnects and new writes reach it.
//
// With --envoy the control plane is Envoy's parent (and Envoy dies with
// it), so this test runs Envoy itself from `switchboard envoy-bootstrap`,
// as an operator with a separately managed Envoy would.
func TestControlPlaneCrash(t *testing.T) {
	t.Parallel()
	a := startBackend(t, "a")
	b := startBackend(t, "b")
	s := startStack(t, stackOptions{
		hosts:         map[string]string{"a.test": a.ip, "b.test": b.ip},
		externalEnvoy: true,
	})
	target := func(bk *backend) string { return fmt.Sprintf("%s.test:%d", bk.name, bk.port) }

	configure := func() {
		s.mustAPI("POST", "/upstreams", form("name", "crash_upstream"), 201)
		s.mustAPI("POST", "/upstreams/crash_upstream/targets", form("target", target(a)), 201)
		s.mustAPI("POST", "/services", form("name", "crash", "host", "crash_upstream"), 201)
		s.mustAPI("POST", "/services/crash/routes", form("paths[]", "/crash"), 201)
	}
	configure()
	s.converge("config on an external Envoy", func() (bool, string) {
		r := s.get("/crash/anything", "")
		return r.backend == "a", r.String()
	})

	s.cp.kill(t)
	t.Logf("control plane pid %d killed", s.cp.cmd.Process.Pid)

	// Envoy keeps the last config: every request still succeeds, on reused
	// connections and on new ones.
	fresh := &http.Client{Timeout: requestTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	defer fresh.CloseIdleConnections()
	for i := 0; i < 50; i++ {
		if r := s.get("/crash/anything", ""); r.backend != "a" {
			t.Fatalf("request %d with the control plane down: %s", i, r)
		}
		resp, err := fresh.Get(s.proxyURL("/crash/anything"))
		if err != nil {
			t.Fatalf("new connection %d with the control plane down: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("new connection %d with the control plane down: %s", i, resp.Status)
		}
	}
	if err := s.probe(); err != nil {
		t.Fatalf("envoy with the control plane down: %v", err)
	}

	restarted := time.Now()
	s.restartControlPlane()
	t.Logf("control plane restarted in %s", time.Since(restarted).Round(time.Millisecond))

	// The store is durable: the restarted control plane still has the
	// config, and a new write reaches the Envoy that outlived the crash.
	if r := s.api("GET", "/services/crash", nil); r.status != 200 {
		t.Fatalf("GET /services/crash after restart: %d %s", r.status, r.body)
	}
	s.mustAPI("POST", "/upstreams/crash_upstream/targets", form("target", target(b)), 201)
	s.converge("new write after the control plane restart", func() (bool, string) {
		return sawBoth(s, "/crash/anything", "a", "b")
	})
	if s.envoy.exited() {
		t.Fatalf("the external Envoy died: %v\n%s", s.envoy.err, s.envoy.out.tail(50))
	}
}
