package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCluster_EveryNodeServesTheRateLimitService: in a three-node cluster
// each node serves the rate-limit service to the Envoys it configures.
// policy=cluster counts in the memory of the Envoy's node; when that node
// dies the Envoy moves to another, whose CDS points it at that node's own
// service, and limiting goes on there (its counters start at zero:
// docs/plugins.md).
func TestCluster_EveryNodeServesTheRateLimitService(t *testing.T) {
	t.Parallel()
	requireStack(t)
	be := startBackend(t, "a")
	hosts := writeHostsFile(t, map[string]string{"a.test": be.ip})
	proxyAddr, envoyAdmin := freePort(t), freePort(t)
	nodes, addrs := startCluster(t, "rl-node-", hosts, proxyAddr, envoyAdmin, nil)
	rls := map[*clusterNode]string{}
	for i, n := range nodes {
		rls[n] = addrs[i]
	}
	xds := []string{nodes[0].xdsAddr, nodes[1].xdsAddr, nodes[2].xdsAddr}
	boot, err := exec.Command(switchboardBin, "envoy-bootstrap", "--node-id", "rl-edge",
		"--xds-address", strings.Join(xds, ","), "--admin-listen", envoyAdmin).Output()
	if err != nil {
		t.Fatalf("envoy-bootstrap: %v", err)
	}
	bootPath := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(bootPath, boot, 0o600); err != nil {
		t.Fatal(err)
	}
	edge := nodes[0].stack
	edge.envoy = startProc(t, "envoy", envoyBin, "-c", bootPath, "--use-dynamic-base-id")
	if err := edge.waitServing(); err != nil {
		t.Fatal(err)
	}

	leader := nodes[0]
	leader.mustAPI("POST", "/services", form("name", "rl", "url", fmt.Sprintf("http://a.test:%d", be.port)), 201)
	leader.mustAPI("POST", "/services/rl/routes", form("name", "rl", "paths[]", "/rl"), 201)
	id := leader.mustAPI("POST", "/routes/rl/plugins", form("name", "rate-limiting", "config.policy", "cluster", "config.hour", "3"), 201)["id"].(string)
	waitRoutesContain(t, envoyAdmin, id)

	feeding := func(exclude *clusterNode) *clusterNode {
		var f *clusterNode
		eventually(t, 30*time.Second, "the Envoy's control plane", func() (bool, string) {
			for _, n := range nodes {
				if ok, _ := n.connectedEnvoy(); ok && n != exclude {
					f = n
					return true, ""
				}
			}
			return false, "none"
		})
		// Its CDS points the Envoy at its own rate-limit service.
		eventually(t, convergeBound, "the Envoy dials "+f.nodeID+"'s rate-limit service", func() (bool, string) {
			body, err := getText("http://" + envoyAdmin + "/clusters")
			if err != nil {
				return false, err.Error()
			}
			return strings.Contains(body, rateLimitServiceCluster+"::"+rls[f]+"::"), "not yet"
		})
		return f
	}
	first := feeding(nil)
	c := rlClient(newLoopbackIP(t))
	if got := rlCodes(rlSeq(t, edge, c, 4, "/rl")); got != "200,200,200,429" {
		t.Fatalf("through %s: %s", first.nodeID, got)
	}
	first.cp.kill(t)
	second := feeding(first)
	// The switch is not atomic for the data path: until the Envoy's gRPC
	// client reaches the new service, a call may fail, and a tolerant
	// instance lets the request through without headers (Kong's
	// fault_tolerant). Headers prove the new node's service answered; its
	// counter starts at zero.
	var a rlAnswer
	eventually(t, convergeBound, second.nodeID+"'s service answers", func() (bool, string) {
		a = rlGet(t, edge, c, "/rl")
		return a.header.Get("X-RateLimit-Limit-Hour") != "", a.String()
	})
	if rem := a.header.Get("X-RateLimit-Remaining-Hour"); a.status != 200 || (rem != "2" && rem != "1" && rem != "0") {
		t.Fatalf("after %s died, through %s: want 200 counted afresh by its service, got %s", first.nodeID, second.nodeID, a)
	}
}

const rateLimitServiceCluster = "switchboard/ratelimit"
