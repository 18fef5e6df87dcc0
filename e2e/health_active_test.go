package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"
)

// activeChecks are Kong active health-check settings with short intervals:
// probe every 0.25 s, one failure or success flips a target.
func activeChecks() url.Values {
	return url.Values{
		"healthchecks.active.http_path":                 {checkPath},
		"healthchecks.active.timeout":                   {"1"},
		"healthchecks.active.healthy.interval":          {"0.25"},
		"healthchecks.active.healthy.successes":         {"1"},
		"healthchecks.active.unhealthy.interval":        {"0.25"},
		"healthchecks.active.unhealthy.http_failures":   {"1"},
		"healthchecks.active.unhealthy.tcp_failures":    {"1"},
		"healthchecks.active.unhealthy.timeouts":        {"1"},
		"healthchecks.active.unhealthy.http_statuses[]": {"500"},
	}
}

// TestHealth_Active: Kong's active checks become Envoy health checks whose
// verdict /upstreams/{u}/health reports; manual /unhealthy and /healthy
// act within one push; with every target down Envoy answers Kong's 503
// instead of spraying traffic over the unhealthy targets (panic mode).
func TestHealth_Active(t *testing.T) {
	t.Parallel()
	a, b := startCtlBackend(t, "a"), startCtlBackend(t, "b")
	s := startStack(t, stackOptions{})
	upstreamSetup{name: "active", targets: []*ctlBackend{a, b}, upstream: activeChecks()}.create(s)
	s.converge("actively checked upstream", func() (bool, string) { return sawBoth(s, "/active", "a", "b") })
	// Probes run before any traffic (no_traffic_interval = Kong's interval).
	s.waitHealth("active", a, "HEALTHY", convergeBound)
	s.waitHealth("active", b, "HEALTHY", convergeBound)
	if a.probes.Load() == 0 {
		t.Errorf("a was never probed on %s", checkPath)
	}

	t.Run("probe Host: the target's name, else host_header", func(t *testing.T) {
		// Hostname targets need the stack's hosts file, so this part has
		// its own stack.
		c := startCtlBackend(t, "c")
		s2 := startStack(t, stackOptions{hosts: map[string]string{"c.test": c.ip}})
		named := fmt.Sprintf("c.test:%d", c.port)
		s2.mustAPI("POST", "/upstreams", withName("named", activeChecks()), 201)
		s2.mustAPI("POST", "/upstreams/named/targets", form("target", named), 201)
		t.Logf("named: %s", eventually(t, convergeBound, "a probe with the target's name as Host", func() (bool, string) {
			h, _ := c.probeHost.Load().(string)
			return h == named, fmt.Sprintf("last probe Host %q", h)
		}))
		withHeader := activeChecks()
		withHeader.Set("host_header", "probe.example")
		s2.mustAPI("PATCH", "/upstreams/named", withHeader, 200)
		t.Logf("header: %s", eventually(t, convergeBound, "a probe with host_header as Host", func() (bool, string) {
			h, _ := c.probeHost.Load().(string)
			return h == "probe.example", fmt.Sprintf("last probe Host %q", h)
		}))
	})

	t.Run("failing check: UNHEALTHY, no traffic; recovery", func(t *testing.T) {
		a.checkStatus.Store(500)
		d := s.waitHealth("active", a, "UNHEALTHY", convergeBound)
		t.Logf("a UNHEALTHY in /health %s after its check path turned 500", d.Round(time.Millisecond))
		got := hitsDuring(func() { s.spread("/active", 30) }, a, b)
		if got[0] != 0 || got[1] != 30 {
			t.Errorf("while a is unhealthy: a=%d b=%d of 30, want a=0", got[0], got[1])
		}
		a.checkStatus.Store(200)
		d = s.waitHealth("active", a, "HEALTHY", convergeBound)
		t.Logf("a HEALTHY again %s after its check path recovered", d.Round(time.Millisecond))
		eventually(t, convergeBound, "traffic back to a", func() (bool, string) {
			got := hitsDuring(func() { s.spread("/active", 6) }, a)
			return got[0] > 0, fmt.Sprintf("a got %d of 6", got[0])
		})
	})

	t.Run("manual unhealthy and healthy", func(t *testing.T) {
		s.mustAPI("PUT", "/upstreams/active/targets/"+b.target()+"/unhealthy", nil, 204)
		s.converge("PUT unhealthy", func() (bool, string) {
			got := hitsDuring(func() { s.spread("/active", 6) }, b)
			return got[0] == 0, fmt.Sprintf("b got %d of 6", got[0])
		})
		got := hitsDuring(func() { s.spread("/active", 30) }, a, b)
		if got[1] != 0 {
			t.Errorf("after PUT unhealthy: b got %d of 30", got[1])
		}
		if h := s.health("active")[b.target()].Health; h != "UNHEALTHY" {
			t.Errorf("/health right after PUT unhealthy: b is %s", h)
		}

		s.mustAPI("PUT", "/upstreams/active/targets/"+b.target()+"/healthy", nil, 204)
		s.converge("PUT healthy", func() (bool, string) {
			got := hitsDuring(func() { s.spread("/active", 6) }, b)
			return got[0] > 0, fmt.Sprintf("b got %d of 6", got[0])
		})
		if h := s.health("active")[b.target()].Health; h != "HEALTHY" {
			t.Errorf("/health right after PUT healthy: b is %s", h)
		}
	})

	t.Run("all targets down: Kong's 503, no panic spraying", func(t *testing.T) {
		a.checkStatus.Store(500)
		b.checkStatus.Store(500)
		s.waitHealth("active", a, "UNHEALTHY", convergeBound)
		s.waitHealth("active", b, "UNHEALTHY", convergeBound)
		if bh := s.balancerHealth("active"); bh != "UNHEALTHY" {
			t.Errorf("balancer_health = %s, want UNHEALTHY", bh)
		}
		var last proxyResponse
		got := hitsDuring(func() {
			for i := 0; i < 20; i++ {
				last = s.get("/active", "")
				if last.status != 503 || kongMessage(last.body) != "failure to get a peer from the ring-balancer" {
					t.Errorf("all down: got %s, want 503 failure to get a peer from the ring-balancer", last)
					return
				}
			}
		}, a, b)
		if got[0]+got[1] != 0 {
			t.Errorf("all down: the targets still got %d and %d requests", got[0], got[1])
		}
		a.checkStatus.Store(200)
		b.checkStatus.Store(200)
		s.waitHealth("active", a, "HEALTHY", convergeBound)
		if bh := s.balancerHealth("active"); bh != "HEALTHY" {
			t.Errorf("balancer_health = %s after recovery, want HEALTHY", bh)
		}
	})
}

// withName is v plus name=n.
func withName(n string, v url.Values) url.Values {
	v.Set("name", n)
	return v
}

// balancerHealth reads GET /upstreams/{u}/health?balancer_health=1.
func (s *stack) balancerHealth(upstream string) string {
	s.t.Helper()
	r := s.api("GET", "/upstreams/"+upstream+"/health?balancer_health=1", nil)
	var body struct {
		Data struct {
			BalancerHealth string `json:"balancer_health"`
		} `json:"data"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &body) != nil {
		s.t.Fatalf("balancer_health: %d %s", r.status, r.body)
	}
	return body.Data.BalancerHealth
}

// TestHealth_ActiveHTTPS: an https service whose targets speak TLS, probed
// by Kong's "https" active check type (certificate not verified).
func TestHealth_ActiveHTTPS(t *testing.T) {
	t.Parallel()
	a := startCtlBackendTLS(t, "tls-a", true)
	s := startStack(t, stackOptions{})
	checks := activeChecks()
	checks.Set("healthchecks.active.type", "https")
	checks.Set("healthchecks.active.https_verify_certificate", "false")
	upstreamSetup{name: "secure", targets: []*ctlBackend{a}, upstream: checks, service: form("protocol", "https", "port", "443")}.create(s)
	s.converge("https upstream", func() (bool, string) {
		r := s.get("/secure", "")
		return r.backend == a.name, r.String()
	})
	s.waitHealth("secure", a, "HEALTHY", convergeBound)
	if a.probes.Load() == 0 {
		t.Errorf("no https probe reached %s", a.name)
	}
	a.checkStatus.Store(500)
	s.waitHealth("secure", a, "UNHEALTHY", convergeBound)
	if r := s.get("/secure", ""); r.status != 503 {
		t.Errorf("only target failing its https check: got %s, want 503", r)
	}
	a.checkStatus.Store(200)
	s.waitHealth("secure", a, "HEALTHY", convergeBound)
}
