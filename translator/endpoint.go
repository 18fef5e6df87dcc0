package translator

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// endpoint is one address to balance over, before it becomes an LbEndpoint.
type endpoint struct {
	addr     netip.AddrPort
	hostname string // Host header value (Kong's port rule applied)
	noSNI    bool   // an IP over TLS: connect without SNI (cluster_tls.go)
	weight   uint32 // 0: unset (service clusters without SRV weights)
	health   corev3.HealthStatus
	// healthyAt is the store index of the manual /healthy that marked this
	// address, 0 without one; see healthyLocality.
	healthyAt uint64
}

// buildUpstreamEndpoints builds the CLA of an upstream cluster from the
// upstream's targets (any order), its manual health overrides and the DNS
// answers. Kong semantics (docs/kong-contract.md §5):
//   - weight 0 disables a target: no endpoint (Envoy rejects weight 0);
//   - an IP target is one endpoint; a hostname target is one endpoint per
//     resolved address, each with the target's weight (SRV answers bring
//     their own port and weight); an unresolved or failed name has none;
//   - each endpoint's hostname is the Host Kong would send: the target's
//     name (or the SRV name with use_srv_name, or the IP), with ":port"
//     unless the port is the scheme default (never over TLS, see
//     endpointHostname); auto_host_rewrite and auto_host_sni use it;
//   - a manual override marks the whole target, or one address of it, as
//     HEALTHY or UNHEALTHY (EDS health_status); an address override wins.
//     An address marked HEALTHY sits in a locality of its own that names
//     the override's store index (healthyLocality).
//
// Two targets resolving to the same address become one endpoint with the
// summed weight. The result is sorted by address, so it changes only when
// the endpoints do.
func buildUpstreamEndpoints(name string, v variant, u *store.Upstream, targets []*store.Target, health []*store.TargetHealth, dns map[string]DNSAnswer) *endpointv3.ClusterLoadAssignment {
	targets = slices.Clone(targets)
	slices.SortFunc(targets, func(a, b *store.Target) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.ID, b.ID))
	})
	overrides := indexOverrides(health)
	hcHostnames := activeChecksOn(u) && (u.HostHeader == nil || *u.HostHeader == "")

	var eps []*endpoint
	byAddr := map[netip.AddrPort]*endpoint{}
	for _, t := range targets {
		if t.Weight <= 0 {
			continue
		}
		host, port, ok := schema.SplitTarget(t.Target)
		if !ok {
			continue
		}
		for _, r := range resolve(host, uint32(port), dns) {
			weight := uint32(min(t.Weight, 65535))
			if r.weight > 0 {
				weight = r.weight
			}
			if e := byAddr[r.addr]; e != nil {
				e.weight = addWeights(e.weight, weight)
				continue
			}
			hostname := host
			if u.UseSRVName && r.srvName != "" {
				hostname = r.srvName
			}
			health, healthyAt := overrides.statusOf(t.ID, r.addr)
			e := &endpoint{
				addr:      r.addr,
				hostname:  endpointHostname(hostname, r.addr.Port(), v.protocol),
				noSNI:     sendsNoSNI(v.protocol, hostname),
				weight:    weight,
				health:    health,
				healthyAt: healthyAt,
			}
			byAddr[r.addr] = e
			eps = append(eps, e)
		}
	}
	return buildCLA(name, eps, hcHostnames)
}

// buildServiceEndpoints builds the CLA of a service whose host is not an
// upstream: the host itself when it is an IP, else its resolved addresses
// (Kong's DNS round-robin; SRV ports and weights honoured).
func buildServiceEndpoints(name string, svc *store.Service, dns map[string]DNSAnswer) *endpointv3.ClusterLoadAssignment {
	protocol := variantOf(svc).protocol
	host := serviceHost(svc)
	var eps []*endpoint
	seen := map[netip.AddrPort]bool{}
	for _, r := range resolve(host, uint32(svc.Port), dns) {
		if seen[r.addr] {
			continue
		}
		seen[r.addr] = true
		eps = append(eps, &endpoint{
			addr:     r.addr,
			hostname: endpointHostname(host, r.addr.Port(), protocol),
			noSNI:    sendsNoSNI(protocol, host),
			weight:   r.weight,
		})
	}
	return buildCLA(name, eps, false)
}

func buildCLA(name string, eps []*endpoint, hcHostnames bool) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	if len(eps) == 0 {
		// An empty CLA still completes the cluster; Envoy answers its
		// requests with 503 UH, which the HCM maps to Kong's message.
		return cla
	}
	slices.SortFunc(eps, func(a, b *endpoint) int {
		return cmp.Or(cmp.Compare(a.healthyAt, b.healthyAt), a.addr.Compare(b.addr))
	})
	for i, e := range eps {
		if i == 0 || e.healthyAt != eps[i-1].healthyAt {
			cla.Endpoints = append(cla.Endpoints, &endpointv3.LocalityLbEndpoints{Locality: healthyLocality(e.healthyAt)})
		}
		group := cla.Endpoints[len(cla.Endpoints)-1]
		group.LbEndpoints = append(group.LbEndpoints, buildLbEndpoint(e, hcHostnames))
	}
	return cla
}

func buildLbEndpoint(e *endpoint, hcHostnames bool) *endpointv3.LbEndpoint {
	ep := &endpointv3.Endpoint{
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address:       e.addr.Addr().String(),
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(e.addr.Port())},
		}}},
		Hostname: e.hostname,
	}
	if hcHostnames {
		ep.HealthCheckConfig = &endpointv3.Endpoint_HealthCheckConfig{Hostname: e.hostname}
	}
	lb := &endpointv3.LbEndpoint{
		HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: ep},
		HealthStatus:   e.health,
	}
	if e.noSNI {
		lb.Metadata = noSNIMetadata()
	}
	if e.weight > 0 {
		lb.LoadBalancingWeight = wrapperspb.UInt32(e.weight)
	}
	return lb
}

// healthyLocality is the locality of an address that PUT …/healthy marked
// at store index at (nil for every other address).
//
// Kong's /healthy also forgets what passive checks held against the
// address, but Envoy has no call to lift an outlier ejection, and a
// changed EDS health_status leaves the ejection in place. A host whose
// locality changes is another matter: Envoy replaces it with a new host,
// which starts with no outlier record (and keeps its active health-check
// state). Each /healthy writes a new override with a new index, so each
// one lifts the ejection, within the same EDS push that clears the
// UNHEALTHY status. The clusters do not use locality-weighted balancing, so
// localities do not change how traffic is spread.
func healthyLocality(at uint64) *corev3.Locality {
	if at == 0 {
		return nil
	}
	return &corev3.Locality{SubZone: healthyLocalityPrefix + strconv.FormatUint(at, 10)}
}

// endpointHostname is the hostname Envoy gives an endpoint: the Host header
// (auto_host_rewrite) and, over TLS, the SNI (auto_host_sni). Kong appends
// ":port" to the Host unless the port is the scheme's default, but a TLS
// server name never carries a port and Envoy copies the hostname verbatim
// into the SNI; so over TLS the port is left out of both, and a target on a
// non-default port gets a Host without its port.
func endpointHostname(host string, port uint16, protocol string) string {
	if protocol == "https" || protocol == "grpcs" {
		return hostForHeader(host)
	}
	return hostWithPort(hostForHeader(host), uint32(port), protocol)
}

// resolved is one address a host name (or IP literal) stands for.
type resolved struct {
	addr    netip.AddrPort
	weight  uint32 // from SRV; 0: the caller's
	srvName string
}

// resolve returns host itself when it is an IP literal, else the DNS
// answer's addresses (nothing when unresolved or failed, or for an address
// that is not an IP). SRV answers override port and weight.
func resolve(host string, port uint32, dns map[string]DNSAnswer) []resolved {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []resolved{{addr: netip.AddrPortFrom(ip.Unmap(), uint16(port))}}
	}
	ans, ok := dns[host]
	if !ok || ans.Err != "" {
		return nil
	}
	out := make([]resolved, 0, len(ans.Addresses))
	for _, a := range ans.Addresses {
		ip, err := netip.ParseAddr(a.IP)
		if err != nil {
			continue
		}
		p := port
		if a.Port != 0 {
			p = a.Port
		}
		out = append(out, resolved{
			addr:    netip.AddrPortFrom(ip.Unmap(), uint16(p)),
			weight:  min(a.Weight, 65535),
			srvName: strings.TrimSuffix(a.Name, "."),
		})
	}
	return out
}

// healthOverrides indexes manual overrides by target id.
type healthOverrides map[string][]*store.TargetHealth

func indexOverrides(rows []*store.TargetHealth) healthOverrides {
	o := healthOverrides{}
	for _, h := range rows {
		o[h.TargetID] = append(o[h.TargetID], h)
	}
	return o
}

// statusOf is the EDS health of one address of a target (HealthOverride's
// row), unset without one (Envoy's UNKNOWN, treated as healthy). healthyAt
// is the store index of a HEALTHY override, 0 otherwise.
func (o healthOverrides) statusOf(targetID string, addr netip.AddrPort) (status corev3.HealthStatus, healthyAt uint64) {
	if h := HealthOverride(o[targetID], targetID, addr); h != nil {
		return overrideStatus(h)
	}
	return corev3.HealthStatus_UNKNOWN, 0
}

// HealthOverride picks the manual override (PUT …/healthy or …/unhealthy)
// that decides the health of one address of a target, among rows (any
// order; rows of other targets are ignored): one naming that address wins
// over one for the whole target, as Kong's per-address and per-target
// calls do. nil when none applies. The translator applies it to EDS
// health_status; the health report uses it to tell whether an override is
// newer than what Envoy shows.
func HealthOverride(rows []*store.TargetHealth, targetID string, addr netip.AddrPort) *store.TargetHealth {
	var whole *store.TargetHealth
	for _, h := range rows {
		switch {
		case h.TargetID != targetID:
		case h.Address == "":
			whole = h
		case sameAddress(h.Address, addr):
			return h
		}
	}
	return whole
}

func overrideStatus(h *store.TargetHealth) (corev3.HealthStatus, uint64) {
	if h.Healthy {
		return corev3.HealthStatus_HEALTHY, max(h.ModifyIndex, 1)
	}
	return corev3.HealthStatus_UNHEALTHY, 0
}

// sameAddress compares an override's "ip[:port]" (Kong's default port
// 8000, any IPv6 spelling) with an endpoint address.
func sameAddress(s string, addr netip.AddrPort) bool {
	host, port, ok := schema.SplitTarget(s)
	if !ok {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap() == addr.Addr() && port == addr.Port()
}

// addWeights sums two endpoint weights without overflowing uint32.
func addWeights(a, b uint32) uint32 {
	return uint32(min(uint64(a)+uint64(b), 1<<32-1))
}
