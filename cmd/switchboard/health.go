package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
	"github.com/switchboard-gw/switchboard/xds"
	"github.com/switchboard-gw/switchboard/xds/envoyhealth"
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
	host, tport, ok := schema.SplitTarget(t.Target)
	if !ok {
		return admin.TargetHealth{DNS: "unknown", DNSError: true}
	}
	port := int(tport)
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

// envoyView is what the health report needs from the Envoy poller.
type envoyView interface {
	Address(upstream string, addr netip.AddrPort) envoyhealth.Lookup
}

// envoyHealthSource answers /upstreams/{u}/health with what the connected
// Envoys actually do: the DNS view says which addresses a target has, the
// Envoy view (xds/envoyhealth, polled from each Envoy's admin /clusters)
// whether each is in load balancing. An address no Envoy reports on yet
// is left to the Admin API's store-based rules, and so is one whose manual
// /healthy or /unhealthy the Envoy views may not reflect yet: the override
// is the newer fact until a view read at least one poll interval after it
// was published (1–2 s; Envoy applies a push within milliseconds).
type envoyHealthSource struct {
	dns       admin.HealthSource
	envoys    envoyView
	overrides func(upstreamID string) []*store.TargetHealth
}

func (h envoyHealthSource) TargetHealth(up *store.Upstream, t *store.Target) admin.TargetHealth {
	th := h.dns.TargetHealth(up, t)
	// Kong reports HEALTHCHECKS_OFF for these whatever the balancer does;
	// the Admin API decides.
	if th.DNSError || !up.Healthchecks.InUse() || t.Weight == 0 {
		return th
	}
	var mine []*store.TargetHealth
	for _, o := range h.overrides(up.ID) {
		if o.TargetID == t.ID {
			mine = append(mine, o)
		}
	}
	for i, a := range th.Addresses {
		ip, err := netip.ParseAddr(a.IP)
		if err != nil || a.Port <= 0 || a.Port > 65535 {
			continue
		}
		addr := netip.AddrPortFrom(ip.Unmap(), uint16(a.Port))
		seen := h.envoys.Address(up.Name, addr)
		if seen.Status == envoyhealth.Unknown {
			continue
		}
		if o := overrideFor(mine, addr); o != nil && o.ModifyIndex > seen.AsOf {
			continue
		}
		th.Addresses[i].Health = admin.HealthHealthy
		if seen.Status == envoyhealth.Unhealthy {
			th.Addresses[i].Health = admin.HealthUnhealthy
		}
	}
	return th
}

// overrideFor picks the manual override that applies to addr, as the
// translator does: one naming the address, else one for the whole target.
func overrideFor(rows []*store.TargetHealth, addr netip.AddrPort) *store.TargetHealth {
	var whole *store.TargetHealth
	for _, o := range rows {
		if o.Address == "" {
			whole = o
			continue
		}
		host, port, ok := schema.SplitTarget(o.Address)
		ip, err := netip.ParseAddr(host)
		if ok && err == nil && ip.Unmap() == addr.Addr() && port == addr.Port() {
			return o
		}
	}
	return whole
}

// envoyHealth polls the Envoys this control plane configures: those that
// advertise an admin address in their node metadata (envoy-bootstrap
// writes it) and the local Envoy of `serve --envoy`, whose real admin
// address the runner knows even when the flag asked for port 0.
type envoyHealth struct {
	poller *envoyhealth.Poller
	nodes  func() []xds.DataPlaneAdmin

	mu         sync.Mutex
	localID    string
	localAdmin func() string
}

func newEnvoyHealth(xsrv *xds.Server, log *slog.Logger) *envoyHealth {
	e := &envoyHealth{nodes: xsrv.DataPlaneAdmins}
	e.poller = envoyhealth.New(e.discover, envoyhealth.Options{
		Revision: xsrv.PublishedRevision, Upstreams: xsrv.CheckedUpstreams, Registerer: xsrv.Registry(), Logger: log,
	})
	return e
}

// source is the HealthSource of the Admin API: DNS answers from dns, Envoy
// health from the poller, manual overrides from st.
func (e *envoyHealth) source(st *store.Store, dns dnsLookup) admin.HealthSource {
	return envoyHealthSource{
		dns:    newHealthSource(dns),
		envoys: e.poller,
		overrides: func(upstreamID string) []*store.TargetHealth {
			rows, _ := st.Snapshot().TargetHealthByUpstream(upstreamID)
			return rows
		},
	}
}

// setLocal registers the local Envoy; admin is read at every poll because
// a restarted Envoy may listen on another port.
func (e *envoyHealth) setLocal(nodeID string, admin func() string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.localID, e.localAdmin = nodeID, admin
}

func (e *envoyHealth) discover() []envoyhealth.Endpoint {
	var out []envoyhealth.Endpoint
	e.mu.Lock()
	localID, localAdmin := e.localID, e.localAdmin
	e.mu.Unlock()
	if localAdmin != nil {
		if a := localAdmin(); a != "" {
			out = append(out, envoyhealth.Endpoint{NodeID: localID, AdminAddress: a})
		}
	}
	for _, n := range e.nodes() {
		if n.NodeID != localID {
			out = append(out, envoyhealth.Endpoint{NodeID: n.NodeID, AdminAddress: n.AdminAddress})
		}
	}
	return out
}

func (e *envoyHealth) run(ctx context.Context) { e.poller.Run(ctx) }

func (e *envoyHealth) handler() http.Handler { return e.poller.Handler() }

// localEnvoyNodeID is the node id of the Envoy that `serve --envoy` runs.
func localEnvoyNodeID(nodeID string) string { return "switchboard-local-" + shortID(nodeID) }
