package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	leastrequestv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/least_request/v3"
	maglevv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/load_balancing_policies/maglev/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/store"
)

// setLoadBalancing maps Kong's algorithm (docs/kong-contract.md §6; the user
// documentation is docs/load-balancing.md). A service cluster (no upstream)
// balances round-robin over the host's addresses, as Kong's DNS balancer
// does.
//
//   - round-robin: Envoy's weighted round robin.
//   - least-connections: least request with a full scan. Kong picks the
//     address with the fewest in-flight requests (weight-scaled) every
//     time; Envoy's default "power of two choices" compares two random
//     hosts and can pick the busier one when both draws land on it. With
//     unequal weights Envoy scales by weight/(active+1), as Kong does.
//   - latency: Kong's peak-EWMA of response time has no equivalent in
//     standard Envoy builds (peak_ewma is contrib-only). Least request is
//     the closest: a slow host holds its requests longer, so it has more
//     in flight and is picked less. It reacts to concurrency, not to the
//     latency of a host that is slow but rarely busy.
//   - consistent-hashing: Maglev, not ring hash. Kong's continuum gives each
//     address a number of points that does not depend on how many targets
//     there are, so removing a target moves only the keys it held. Envoy's
//     ring divides a fixed ring among the hosts: when one leaves, the others
//     gain points and about one key in eight of the remaining hosts moves
//     (3 → 2 hosts). Maglev's lookup table moves well under 1% of them,
//     which is what a Kong user relies on. The table size is the smallest
//     prime ≥ slots (Kong uses at least 1000 slots).
func setLoadBalancing(c *clusterv3.Cluster, u *store.Upstream) {
	if u == nil {
		c.LbPolicy = clusterv3.Cluster_ROUND_ROBIN
		return
	}
	switch u.Algorithm {
	case "least-connections", "latency":
		c.LoadBalancingPolicy = typedLbPolicy("envoy.load_balancing_policies.least_request", &leastrequestv3.LeastRequest{
			SelectionMethod: leastrequestv3.LeastRequest_FULL_SCAN,
		})
	case "consistent-hashing":
		c.LoadBalancingPolicy = typedLbPolicy("envoy.load_balancing_policies.maglev", &maglevv3.Maglev{
			TableSize: wrapperspb.UInt64(maglevTableSize(u.Slots)),
		})
	default: // "round-robin" and unset
		c.LbPolicy = clusterv3.Cluster_ROUND_ROBIN
	}
}

// typedLbPolicy is a load_balancing_policy with one extension. It
// supersedes lb_policy, which stays at its zero value; the cluster's
// common_lb_config (panic threshold) still applies.
func typedLbPolicy(name string, cfg proto.Message) *clusterv3.LoadBalancingPolicy {
	return &clusterv3.LoadBalancingPolicy{Policies: []*clusterv3.LoadBalancingPolicy_Policy{{
		TypedExtensionConfig: &corev3.TypedExtensionConfig{Name: name, TypedConfig: mustAny(cfg)},
	}}}
}

// maglevTableSize is the smallest prime ≥ Kong's slots (at least
// minRingSize, as Kong's continuum), below Envoy's cap of 5000011. Kong's
// slots are at most 65536, so trial division is cheap.
func maglevTableSize(slots int64) uint64 {
	n := uint64(max(slots, minRingSize))
	for n < maxMaglevTableSize && !isPrime(n) {
		n++
	}
	return min(n, maxMaglevTableSize)
}

func isPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	for d := uint64(2); d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}
