package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/xds"
	"github.com/switchboard-gw/switchboard/xds/envoyhealth"
)

// envoyHealth wires xds/envoyhealth: the poller over the Envoys the xDS
// server knows (plus the local one), and the Admin API's HealthSource.
type envoyHealth struct {
	poller *envoyhealth.Poller
	disc   *envoyhealth.Discovery
}

func newEnvoyHealth(xsrv *xds.Server, log *slog.Logger) *envoyHealth {
	disc := envoyhealth.NewDiscovery(func() []envoyhealth.Endpoint {
		var out []envoyhealth.Endpoint
		for _, n := range xsrv.DataPlaneAdmins() {
			out = append(out, envoyhealth.Endpoint{NodeID: n.NodeID, AdminAddress: n.AdminAddress})
		}
		return out
	})
	return &envoyHealth{disc: disc, poller: envoyhealth.New(disc.Endpoints, envoyhealth.Options{
		Revision: xsrv.PublishedRevision, Upstreams: xsrv.CheckedUpstreams, Registerer: xsrv.Registry(), Logger: log,
	})}
}

// source is the HealthSource of the Admin API: DNS answers from dns, Envoy
// health from the poller, manual overrides from st.
func (e *envoyHealth) source(st *store.Store, dns envoyhealth.DNS) admin.HealthSource {
	return adminHealth{envoyhealth.NewSource(dns, e.poller, func(upstreamID string) []*store.TargetHealth {
		rows, _ := st.Snapshot().TargetHealthByUpstream(upstreamID)
		return rows
	})}
}

// adminHealth hands envoyhealth's answer to the Admin API in its types
// (xds may not import admin).
type adminHealth struct{ src *envoyhealth.Source }

func (a adminHealth) TargetHealth(up *store.Upstream, t *store.Target) admin.TargetHealth {
	th := a.src.TargetHealth(up, t)
	out := admin.TargetHealth{DNS: th.DNS, DNSError: th.DNSError}
	for _, x := range th.Addresses {
		out.Addresses = append(out.Addresses, admin.AddressHealth{IP: x.IP, Port: x.Port, Weight: x.Weight, Health: x.Health})
	}
	return out
}

func (e *envoyHealth) setLocal(nodeID string, admin func() string) { e.disc.SetLocal(nodeID, admin) }

func (e *envoyHealth) run(ctx context.Context) { e.poller.Run(ctx) }

func (e *envoyHealth) handler() http.Handler { return e.poller.Handler() }

// localEnvoyNodeID is the node id of the Envoy that `serve --envoy` runs.
func localEnvoyNodeID(nodeID string) string { return "switchboard-local-" + shortID(nodeID) }
