package e2e

import (
	"fmt"
	"testing"
)

// TestLoadBalancing_Targets changes an upstream's targets under traffic:
// weights 3:1, a weight-0 target, a deleted target and an added one.
func TestLoadBalancing_Targets(t *testing.T) {
	t.Parallel()
	bs := map[string]*backend{}
	hosts := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d"} {
		bs[n] = startBackend(t, n)
		hosts[n+".test"] = bs[n].ip
	}
	target := func(n string) string { return fmt.Sprintf("%s.test:%d", n, bs[n].port) }
	s := startStack(t, stackOptions{hosts: hosts})

	s.mustAPI("POST", "/upstreams", form("name", "weighted"), 201)
	s.mustAPI("POST", "/upstreams/weighted/targets", form("target", target("a"), "weight", "300"), 201)
	s.mustAPI("POST", "/upstreams/weighted/targets", form("target", target("b"), "weight", "100"), 201)
	s.mustAPI("POST", "/services", form("name", "weighted", "host", "weighted"), 201)
	s.mustAPI("POST", "/services/weighted/routes", form("paths[]", "/w"), 201)
	s.converge("upstream with weights 3:1", func() (bool, string) {
		return sawBoth(s, "/w/headers", "a", "b")
	})

	t.Run("weights 3:1 split 75/25", func(t *testing.T) {
		const n = 200
		counts := s.spread("/w/headers", n)
		t.Logf("%d requests: %s", n, fmtCounts(counts))
		share := 100 * float64(counts["a"]) / n
		if share < 67 || share > 83 || counts["a"]+counts["b"] != n {
			t.Errorf("a got %.1f%% (%s), want 75±8%%", share, fmtCounts(counts))
		}
	})

	t.Run("weight 0 gets nothing", func(t *testing.T) {
		s.mustAPI("POST", "/upstreams/weighted/targets", form("target", target("c"), "weight", "0"), 201)
		// A weight-0 target is invisible by design, so the test waits for a
		// later write in the same upstream: once d answers, the config that
		// holds c has been applied too.
		s.mustAPI("POST", "/upstreams/weighted/targets", form("target", target("d"), "weight", "100"), 201)
		s.converge("target added (d)", func() (bool, string) {
			r := s.get("/w/headers", "")
			for i := 0; i < 10 && r.backend != "d"; i++ {
				r = s.get("/w/headers", "")
			}
			return r.backend == "d", r.String()
		})
		counts := s.spread("/w/headers", 100)
		t.Logf("100 requests: %s", fmtCounts(counts))
		if counts["c"] != 0 {
			t.Errorf("weight-0 target c got %d requests", counts["c"])
		}
		if counts["d"] == 0 {
			t.Errorf("added target d got no requests")
		}
	})

	t.Run("deleted target gets no more traffic", func(t *testing.T) {
		r := s.api("DELETE", "/upstreams/weighted/targets/"+target("a"), nil)
		if r.status != 204 {
			t.Fatalf("DELETE target a: %d %s", r.status, r.body)
		}
		s.converge("target deleted (a)", func() (bool, string) {
			counts := s.spread("/w/headers", 20)
			return counts["a"] == 0, fmtCounts(counts)
		})
		counts := s.spread("/w/headers", 100)
		t.Logf("100 requests: %s", fmtCounts(counts))
		if counts["a"] != 0 || counts["b"]+counts["d"] != 100 {
			t.Errorf("after deleting a: %s, want only b and d", fmtCounts(counts))
		}
	})

	t.Run("weight 0 back to 100 gets traffic", func(t *testing.T) {
		s.mustAPI("PATCH", "/upstreams/weighted/targets/"+target("c"), form("weight", "100"), 200)
		s.converge("target weight 0 → 100 (c)", func() (bool, string) {
			counts := s.spread("/w/headers", 12)
			return counts["c"] > 0, fmtCounts(counts)
		})
	})
}
