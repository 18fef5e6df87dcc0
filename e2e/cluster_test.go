package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clusterNode is one control-plane process of a three-node cluster. It
// reuses the single-node stack for its Admin API client; every node shares
// the proxy and Envoy-admin addresses of the one external Envoy.
type clusterNode struct {
	*stack
	raftAddr string
	join     []string
}

// clusterSecret is what every node of a test cluster shares: a join and a
// forwarded write need it.
const clusterSecret = "e2e-cluster-secret"

func (n *clusterNode) args() []string {
	args := append(n.serveArgs(), "--raft-listen", n.raftAddr, "--cluster-secret", clusterSecret)
	if len(n.join) > 0 {
		args = append(args, "--join", strings.Join(n.join, ","))
	}
	return args
}

func (n *clusterNode) start() {
	n.t.Helper()
	n.cp = startProc(n.t, n.nodeID, switchboardBin, n.args()...)
	if err := n.waitAdmin(); err != nil {
		n.t.Fatalf("%s: %v", n.nodeID, err)
	}
}

// status reads /clustering/status; ok is false when the node does not answer.
func (n *clusterNode) status() (st struct {
	State  string `json:"state"`
	Leader *struct {
		ID string `json:"id"`
	} `json:"leader"`
	AppliedIndex uint64 `json:"applied_index"`
	Revision     uint64 `json:"revision"`
}, ok bool) {
	resp, err := n.admin.Get(n.adminURL("/clustering/status"))
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st) == nil
}

// waitRevision waits until this node's store has reached revision rev (a
// decimal X-Switchboard-Revision value; "" returns at once).
func (n *clusterNode) waitRevision(rev string) {
	n.t.Helper()
	if rev == "" {
		return
	}
	want, err := strconv.ParseUint(rev, 10, 64)
	if err != nil {
		n.t.Fatalf("revision %q: %v", rev, err)
	}
	eventually(n.t, 10*time.Second, n.nodeID+" reaches revision "+rev, func() (bool, string) {
		resp, err := n.admin.Get(n.adminURL("/clustering/status"))
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var st struct {
			Revision uint64 `json:"revision"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&st)
		return st.Revision >= want, fmt.Sprint(st.Revision)
	})
}

// connectedEnvoy reports whether the Envoy streams xDS from this node, and
// the config versions it holds.
func (n *clusterNode) connectedEnvoy() (bool, map[string]string) {
	ok, v, _ := n.connectedEnvoyAt()
	return ok, v
}

// connectedEnvoyAt is connectedEnvoy with the highest store revision the
// Envoy has acknowledged every change of.
func (n *clusterNode) connectedEnvoyAt() (bool, map[string]string, uint64) {
	resp, err := n.admin.Get(n.adminURL("/clustering/data-planes"))
	if err != nil {
		return false, nil, 0
	}
	defer resp.Body.Close()
	var dp struct {
		Data []struct {
			Connected      bool              `json:"connected"`
			ConfigVersions map[string]string `json:"config_versions"`
			AckedRevision  uint64            `json:"acked_revision"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&dp) != nil {
		return false, nil, 0
	}
	for _, d := range dp.Data {
		if d.Connected {
			return true, d.ConfigVersions, d.AckedRevision
		}
	}
	return false, nil, 0
}

// startCluster starts three control planes joined into one raft cluster,
// named prefix1..prefix3, sharing the one Envoy's proxy and admin
// addresses, and waits until they agree on a leader. Each node serves its
// own rate-limit service, on the address rls[i] (on the default address
// only the first would bind, and the nodes' CDS would differ). proxy is
// the transport of the nodes' proxy clients (nil: the default).
func startCluster(t *testing.T, prefix, hosts, proxyAddr, envoyAdmin string, proxy http.RoundTripper) (nodes []*clusterNode, rls []string) {
	t.Helper()
	for i := 1; i <= 3; i++ {
		addr := freePort(t)
		n := &clusterNode{stack: &stack{
			t: t, adminAddr: freePort(t), xdsAddr: freePort(t), proxyAddr: proxyAddr, envoyAdminAddr: envoyAdmin,
			dataDir: t.TempDir(), hostsFile: hosts, nodeID: fmt.Sprintf("%s%d", prefix, i),
			extraArgs: []string{"--ratelimit-listen", addr},
			admin:     &http.Client{Timeout: requestTimeout},
			proxy:     &http.Client{Timeout: requestTimeout, Transport: proxy},
		}, raftAddr: freePort(t)}
		if i > 1 {
			n.join = []string{nodes[0].adminAddr}
		}
		n.start()
		nodes = append(nodes, n)
		rls = append(rls, addr)
	}
	eventually(t, 30*time.Second, "three nodes agree on a leader", func() (bool, string) {
		ids := map[string]bool{}
		for _, n := range nodes {
			st, ok := n.status()
			if !ok || st.Leader == nil {
				return false, n.nodeID + " has no leader"
			}
			ids[st.Leader.ID] = true
		}
		return len(ids) == 1, fmt.Sprint(ids)
	})
	return nodes, rls
}

// TestCluster_FailoverLosesNoWriteAndNoRequest runs three control planes
// and one Envoy that knows all three. It kills the raft leader under a
// bounded write load (a new leader takes over, every acknowledged write
// survives, the dead node rejoins and catches up), then kills the node the
// Envoy streams from (Envoy moves to another node with the same config
// versions, and no proxied request fails throughout).
func TestCluster_FailoverLosesNoWriteAndNoRequest(t *testing.T) {
	t.Parallel()
	requireStack(t)
	a := startBackend(t, "a")
	b := startBackend(t, "b")
	hosts := writeHostsFile(t, map[string]string{"a.test": a.ip, "b.test": b.ip})
	proxyAddr, envoyAdmin := freePort(t), freePort(t)

	nodes, _ := startCluster(t, "node-", hosts, proxyAddr, envoyAdmin, &http.Transport{MaxIdleConnsPerHost: 4})

	// One Envoy bootstrapped with all three xDS addresses.
	xds := []string{nodes[0].xdsAddr, nodes[1].xdsAddr, nodes[2].xdsAddr}
	boot, err := exec.Command(switchboardBin, "envoy-bootstrap", "--node-id", "edge-1",
		"--xds-address", strings.Join(xds, ","), "--admin-listen", envoyAdmin, "--proxy-tls=false").Output() // the nodes run --proxy-tls-listen off
	if err != nil {
		t.Fatalf("envoy-bootstrap: %v", err)
	}
	bootPath := filepath.Join(t.TempDir(), "envoy.yaml")
	if err := os.WriteFile(bootPath, boot, 0o600); err != nil {
		t.Fatal(err)
	}
	edge := nodes[1].stack
	edge.envoy = startProc(t, "envoy", envoyBin, "-c", bootPath, "--use-dynamic-base-id")
	if err := edge.waitServing(); err != nil {
		t.Fatal(err)
	}

	// Configure through a follower or the leader alike: writes are
	// forwarded. Reads are local, so before writing through another node
	// the client waits for the revision its last write returned, as a
	// Kong client of a cluster would.
	rev := ""
	for i, step := range []struct {
		path string
		form url.Values
	}{
		{"/upstreams", form("name", "ha")},
		{"/upstreams/ha/targets", form("target", fmt.Sprintf("a.test:%d", a.port))},
		{"/upstreams/ha/targets", form("target", fmt.Sprintf("b.test:%d", b.port))},
		{"/services", form("name", "ha", "host", "ha")},
		{"/services/ha/routes", form("paths[]", "/ha")},
	} {
		n := nodes[(i+1)%3]
		n.waitRevision(rev)
		r := n.api("POST", step.path, step.form)
		if r.status != 201 {
			t.Fatalf("POST %s through %s: %d %s", step.path, n.nodeID, r.status, r.body)
		}
		rev = r.header.Get(revisionHeader)
	}
	edge.converge("config written through three nodes", func() (bool, string) { return sawBoth(edge, "/ha/anything", "a", "b") })
	load := startTraffic(edge.proxyURL("/ha/anything"), "", 4, 40000, 3*time.Minute)
	defer load.finish()

	// Bounded write load through every live node.
	var (
		mu      sync.Mutex
		acked   []string
		seq     atomic.Int64
		dead    sync.Map // nodeID → true while killed
		stopW   = make(chan struct{})
		writers sync.WaitGroup
	)
	for w := 0; w < 3; w++ {
		writers.Add(1)
		go func(w int) {
			defer writers.Done()
			for k := 0; k < 2000; k++ {
				select {
				case <-stopW:
					return
				default:
				}
				n := nodes[(w+k)%3]
				if _, isDead := dead.Load(n.nodeID); isDead {
					continue
				}
				name := fmt.Sprintf("w-%d", seq.Add(1))
				if st, _ := rawPost(n.stack, "/upstreams", form("name", name)); st == 201 {
					mu.Lock()
					acked = append(acked, name)
					mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}(w)
	}
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	eventually(t, 20*time.Second, "acknowledged writes before the kill", func() (bool, string) {
		return ackedCount() >= 30, fmt.Sprint(ackedCount())
	})

	// Kill the leader.
	st, _ := nodes[0].status()
	var leader *clusterNode
	for _, n := range nodes {
		if st.Leader != nil && n.nodeID == st.Leader.ID {
			leader = n
		}
	}
	if leader == nil {
		t.Fatalf("no leader known: %+v", st)
	}
	dead.Store(leader.nodeID, true)
	leader.cp.kill(t)
	killedAt := time.Now()
	var survivors []*clusterNode
	for _, n := range nodes {
		if n != leader {
			survivors = append(survivors, n)
		}
	}
	eventually(t, 20*time.Second, "a new leader", func() (bool, string) {
		for _, n := range survivors {
			if st, ok := n.status(); ok && st.State == "Leader" {
				return true, n.nodeID
			}
		}
		return false, "none yet"
	})
	t.Logf("new leader %s after the leader was killed", time.Since(killedAt).Round(time.Millisecond))
	before := ackedCount()
	eventually(t, 20*time.Second, "writes acknowledged after the failover", func() (bool, string) {
		return ackedCount() >= before+30, fmt.Sprint(ackedCount() - before)
	})

	// The dead node rejoins with its log and catches up.
	dead.Delete(leader.nodeID)
	leader.start()
	close(stopW)
	writers.Wait()
	mu.Lock()
	final := append([]string(nil), acked...)
	mu.Unlock()
	for _, n := range nodes {
		eventually(t, 30*time.Second, n.nodeID+" holds every acknowledged write", func() (bool, string) {
			for _, name := range final {
				if r, err := n.admin.Get(n.adminURL("/upstreams/" + name)); err != nil || r.StatusCode != 200 {
					if r != nil {
						r.Body.Close()
					}
					return false, "missing " + name
				}
			}
			return true, ""
		})
	}
	t.Logf("%d acknowledged writes present on all three nodes after the leader's loss and return", len(final))

	// Kill the node the Envoy streams from; it moves to another node.
	// The versions to compare are taken once the Envoy has acknowledged
	// the last write: captured earlier, the node it moves to serves newer
	// config than the one compared with, and the versions never match.
	var last uint64
	for _, n := range nodes {
		st, _ := n.status()
		last = max(last, st.Revision)
	}
	var feeding *clusterNode
	var versions map[string]string
	eventually(t, 30*time.Second, fmt.Sprintf("the Envoy acknowledges revision %d", last), func() (bool, string) {
		for _, n := range nodes {
			if ok, v, acked := n.connectedEnvoyAt(); ok {
				feeding, versions = n, v
				return acked >= last, fmt.Sprintf("%s: acked revision %d", n.nodeID, acked)
			}
		}
		return false, "no node lists the Envoy as connected"
	})
	feeding.cp.kill(t)
	movedAt := time.Now()
	var next *clusterNode
	eventually(t, 30*time.Second, "the Envoy reconnects to another node", func() (bool, string) {
		for _, n := range nodes {
			if n == feeding {
				continue
			}
			if ok, v := n.connectedEnvoy(); ok {
				next = n
				for _, typ := range []string{"clusters", "listeners", "routes"} {
					if v[typ] != versions[typ] {
						return false, fmt.Sprintf("%s version %s, was %s", typ, v[typ], versions[typ])
					}
				}
				return true, ""
			}
		}
		return false, "not yet"
	})
	t.Logf("Envoy moved from %s to %s in %s with the same config versions", feeding.nodeID, next.nodeID, time.Since(movedAt).Round(time.Millisecond))
	// If the killed node also led the cluster, writes answer 503 until a
	// new leader is elected; a client retries them.
	eventually(t, 20*time.Second, "a write accepted after the kill", func() (bool, string) {
		r := next.api("POST", "/services/ha/routes", form("name", "after-failover", "paths[]", "/after-failover"))
		return r.status == 201 || r.status == 409, fmt.Sprintf("%d %s", r.status, r.body)
	})
	edge.converge("write after the Envoy's control plane died", func() (bool, string) {
		r := edge.get("/after-failover/anything", "")
		return r.status == 200, r.String()
	})

	total, failed, detail := load.finish()
	t.Logf("proxied traffic: %d requests across both kills, %d failed", total, failed)
	if failed > 0 {
		t.Fatalf("%d of %d proxied requests failed: %s", failed, total, detail)
	}
}
