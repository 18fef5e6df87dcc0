package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestHealth_ExternalEnvoy: an Envoy run from `switchboard envoy-bootstrap`
// advertises its admin address in its node metadata; the control plane
// polls it, reports its view in /upstreams/{u}/health, and lists it per
// node in /clustering/health.
func TestHealth_ExternalEnvoy(t *testing.T) {
	t.Parallel()
	a, b := startCtlBackend(t, "ext-a"), startCtlBackend(t, "ext-b")
	s := startStack(t, stackOptions{externalEnvoy: true})
	upstreamSetup{name: "external", targets: []*ctlBackend{a, b}, upstream: activeChecks()}.create(s)
	s.converge("upstream on an external Envoy", func() (bool, string) { return sawBoth(s, "/external", a.name, b.name) })

	b.checkStatus.Store(500)
	s.waitHealth("external", b, "UNHEALTHY", convergeBound)
	s.waitHealth("external", a, "HEALTHY", convergeBound)

	var nodes struct {
		Data []struct {
			NodeID    string `json:"node_id"`
			Fresh     bool   `json:"fresh"`
			Upstreams []struct {
				Name  string `json:"name"`
				Hosts []struct {
					Address string   `json:"address"`
					Health  string   `json:"health"`
					Reasons []string `json:"reasons"`
				} `json:"hosts"`
			} `json:"upstreams"`
		} `json:"data"`
	}
	r := s.api("GET", "/clustering/health?upstream=external", nil)
	if r.status != 200 || json.Unmarshal(r.body, &nodes) != nil {
		t.Fatalf("GET /clustering/health: %d %s", r.status, r.body)
	}
	if len(nodes.Data) != 1 || nodes.Data[0].NodeID != s.nodeID || !nodes.Data[0].Fresh || len(nodes.Data[0].Upstreams) != 1 {
		t.Fatalf("GET /clustering/health: want the external Envoy %s with a fresh view: %s", s.nodeID, r.body)
	}
	got := map[string]string{}
	for _, h := range nodes.Data[0].Upstreams[0].Hosts {
		got[h.Address] = fmt.Sprintf("%s %v", h.Health, h.Reasons)
	}
	if got[a.addr()] != "HEALTHY []" || got[b.addr()] != "UNHEALTHY [failed_active_health_check]" {
		t.Errorf("per-node hosts = %v", got)
	}
}
