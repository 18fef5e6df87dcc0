package main

import (
	"net"
	"strconv"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// dnsLookup is what the health report needs from the resolver.
type dnsLookup interface {
	Lookup(host string) (translator.DNSAnswer, bool)
}

// healthSource answers /upstreams/{u}/health from the control plane's DNS
// view: which addresses each target resolved to, or DNS_ERROR. Address
// health is left to the Admin API (health checks off, or the manual
// overrides held in the store).
type healthSource struct{ dns dnsLookup }

func newHealthSource(dns dnsLookup) admin.HealthSource { return healthSource{dns: dns} }

func (h healthSource) TargetHealth(_ *store.Upstream, t *store.Target) admin.TargetHealth {
	host, portStr, err := net.SplitHostPort(t.Target)
	if err != nil {
		return admin.TargetHealth{DNS: "unknown", DNSError: true}
	}
	port, _ := strconv.Atoi(portStr)
	ans, ok := h.dns.Lookup(host)
	switch {
	case !ok:
		return admin.TargetHealth{DNS: "unknown", DNSError: true}
	case ans.Err != "":
		return admin.TargetHealth{DNS: ans.Err, DNSError: true}
	case len(ans.Addresses) == 0:
		return admin.TargetHealth{DNS: ans.RecordType, DNSError: true}
	}
	out := admin.TargetHealth{DNS: ans.RecordType}
	for _, a := range ans.Addresses {
		ah := admin.AddressHealth{IP: a.IP, Port: port, Weight: int(t.Weight)}
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
