package e2e

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// TestHealth_Passive: Kong's passive checks ("circuit breaker") become
// Envoy outlier detection. A target failing real requests is ejected, a
// TCP-dead one too; an ejection lasts until PUT …/healthy (no active checks
// here), which Envoy honours within one push.
func TestHealth_Passive(t *testing.T) {
	t.Parallel()
	a, b, c := startCtlBackend(t, "a"), startCtlBackend(t, "b"), startCtlBackend(t, "c")
	s := startStack(t, stackOptions{})
	up := upstreamSetup{name: "passive", targets: []*ctlBackend{a, b, c}, upstream: url.Values{
		"healthchecks.passive.unhealthy.http_failures": {"3"},
		"healthchecks.passive.unhealthy.tcp_failures":  {"2"},
		"healthchecks.passive.unhealthy.timeouts":      {"2"},
	}}
	up.create(s)
	s.converge("passive upstream with three targets", func() (bool, string) {
		counts := s.spread("/passive", 12)
		return counts["a"] > 0 && counts["b"] > 0 && counts["c"] > 0, fmtCounts(counts)
	})

	t.Run("failing target is ejected", func(t *testing.T) {
		a.failStatus.Store(500)
		var fails int
		d := eventually(t, convergeBound, "a UNHEALTHY in /health after answering 500", func() (bool, string) {
			if r := s.get("/passive", ""); r.status == 500 {
				fails++
			}
			th := s.health("passive")[a.target()]
			return th.Health == "UNHEALTHY", fmt.Sprintf("%+v", th)
		})
		_, why := s.envoyHosts("passive")[a.addr()].failed()
		t.Logf("a ejected (Envoy: %s) after %d failed responses; /health said so after %s", why, fails, d.Round(time.Millisecond))
		got := hitsDuring(func() { s.spread("/passive", 30) }, a, b, c)
		if got[0] != 0 || got[1]+got[2] != 30 {
			t.Errorf("after ejection: hits a=%d b=%d c=%d, want a=0", got[0], got[1], got[2])
		}
	})

	t.Run("PUT healthy lifts the ejection", func(t *testing.T) {
		a.failStatus.Store(0)
		s.mustAPI("PUT", "/upstreams/passive/targets/"+a.target()+"/healthy", nil, 204)
		s.converge("PUT healthy after an ejection", func() (bool, string) {
			got := hitsDuring(func() { s.spread("/passive", 6) }, a)
			return got[0] > 0, fmt.Sprintf("a got %d of 6", got[0])
		})
		s.waitHealth("passive", a, "HEALTHY", convergeBound)
	})

	t.Run("TCP-dead target is ejected", func(t *testing.T) {
		b.kill()
		var failed int
		d := eventually(t, convergeBound, "b UNHEALTHY in /health after its listener closed", func() (bool, string) {
			if r := s.get("/passive", ""); r.err != nil || r.status >= 500 {
				failed++
			}
			th := s.health("passive")[b.target()]
			return th.Health == "UNHEALTHY", fmt.Sprintf("%+v", th)
		})
		_, why := s.envoyHosts("passive")[b.addr()].failed()
		t.Logf("dead b ejected (Envoy: %s); /health said so after %s; %d client-visible failures (retries=5)", why, d.Round(time.Millisecond), failed)
		if failed != 0 {
			t.Errorf("%d requests failed while b was dying; retries should hide them", failed)
		}
		got := hitsDuring(func() { s.spread("/passive", 20) }, a, c)
		if got[0]+got[1] != 20 {
			t.Errorf("after b died: a=%d c=%d of 20", got[0], got[1])
		}
	})
}
