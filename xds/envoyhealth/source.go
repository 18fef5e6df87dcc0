package envoyhealth

import (
	"net/netip"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// Address health values, Kong's words (GET /upstreams/{u}/health).
const (
	HealthHealthy   = "HEALTHY"
	HealthUnhealthy = "UNHEALTHY"
)

// DNS is what the health report needs from the resolver.
type DNS interface {
	Lookup(host string) (translator.DNSAnswer, bool)
}

// View is what the health report needs from the poller (*Poller).
type View interface {
	Address(upstream string, addr netip.AddrPort) Lookup
}

// TargetHealth is one target as the data plane sees it; cmd hands it to
// the Admin API (admin.TargetHealth has the same fields and meaning).
type TargetHealth struct {
	// DNS is Kong's "dns" field: the record type used, or the resolver's
	// error text; DNSError marks a name that did not resolve.
	DNS       string
	DNSError  bool
	Addresses []AddressHealth
}

// AddressHealth is one resolved address of a target. Health is
// HealthHealthy or HealthUnhealthy when Envoy decided, "" to let the Admin
// API decide from the store (checks off, weight 0, manual overrides).
type AddressHealth struct {
	IP     string
	Port   int
	Weight int
	Health string
}

// Source answers /upstreams/{u}/health with what the connected Envoys do:
// the DNS view says which addresses a target has, the Envoy view (polled
// from each Envoy's admin /clusters) whether each is in load balancing.
// An address no Envoy reports on yet is left to the Admin API's store-based
// rules, and so is one whose manual /healthy or /unhealthy the Envoy views
// may not reflect yet: the override is the newer fact until a view read at
// least one poll interval after it was published (1–2 s; Envoy applies a
// push within milliseconds).
type Source struct {
	dns       DNS
	envoys    View
	overrides func(upstreamID string) []*store.TargetHealth
}

// NewSource builds a Source. envoys nil means DNS only (every health is
// left to the Admin API); overrides returns an upstream's manual health
// rows (the store's target_health).
func NewSource(dns DNS, envoys View, overrides func(upstreamID string) []*store.TargetHealth) *Source {
	return &Source{dns: dns, envoys: envoys, overrides: overrides}
}

// TargetHealth reports one target.
func (s *Source) TargetHealth(up *store.Upstream, t *store.Target) TargetHealth {
	th := s.dnsHealth(t)
	// Kong reports HEALTHCHECKS_OFF for these whatever the balancer does;
	// the Admin API decides.
	if s.envoys == nil || th.DNSError || !up.Healthchecks.InUse() || t.Weight == 0 {
		return th
	}
	var rows []*store.TargetHealth
	if s.overrides != nil {
		rows = s.overrides(up.ID)
	}
	for i, a := range th.Addresses {
		ip, err := netip.ParseAddr(a.IP)
		if err != nil || a.Port <= 0 || a.Port > 65535 {
			continue
		}
		addr := netip.AddrPortFrom(ip.Unmap(), uint16(a.Port))
		seen := s.envoys.Address(up.Name, addr)
		if seen.Status == Unknown {
			continue
		}
		// The translator's precedence (an address override beats one for
		// the whole target) decides which override applies.
		if o := translator.HealthOverride(rows, t.ID, addr); o != nil && o.ModifyIndex > seen.AsOf {
			continue
		}
		th.Addresses[i].Health = HealthHealthy
		if seen.Status == Unhealthy {
			th.Addresses[i].Health = HealthUnhealthy
		}
	}
	return th
}

// dnsHealth is the control plane's DNS view of a target: which addresses
// it resolved to, or DNS_ERROR.
func (s *Source) dnsHealth(t *store.Target) TargetHealth {
	host, tport, ok := schema.SplitTarget(t.Target)
	if !ok {
		return TargetHealth{DNS: "unknown", DNSError: true}
	}
	port := int(tport)
	ans, ok := s.dns.Lookup(host)
	switch {
	case !ok:
		return TargetHealth{DNS: "unknown", DNSError: true}
	case ans.Err != "":
		return TargetHealth{DNS: ans.Err, DNSError: true}
	case len(ans.Addresses) == 0:
		return TargetHealth{DNS: ans.RecordType, DNSError: true}
	}
	out := TargetHealth{DNS: ans.RecordType}
	for _, a := range ans.Addresses {
		ah := AddressHealth{IP: a.IP, Port: port, Weight: int(t.Weight)}
		if a.Port != 0 {
			ah.Port = int(a.Port)
		}
		if a.Weight != 0 {
			ah.Weight = int(a.Weight)
		}
		out.Addresses = append(out.Addresses, ah)
	}
	return out
}
