package xds

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// Entities with Kong's defaults, as the admin API would store them.

func ptr[T any](v T) *T { return &v }

func kongService(id, name, host string, port int64) *store.Service {
	s := kongDefaults[store.Service]("services")
	s.ID, s.Name, s.CreatedAt, s.UpdatedAt = id, ptr(name), 1, 1
	s.Host, s.Port = host, port
	return s
}

func kongRoute(id, name, serviceID string, paths ...string) *store.Route {
	r := kongDefaults[store.Route]("routes")
	r.ID, r.Name, r.CreatedAt, r.UpdatedAt = id, ptr(name), 1, 1
	r.Paths, r.Service = paths, &store.ForeignKey{ID: serviceID}
	return r
}

func kongUpstream(id, name string) *store.Upstream {
	u := kongDefaults[store.Upstream]("upstreams")
	u.ID, u.Name, u.CreatedAt, u.UpdatedAt = id, name, 1, 1
	return u
}

// kongDefaults is entity with Kong's defaults, from the schema package the
// Admin API validates with.
func kongDefaults[T any](entity string) *T {
	v := new(T)
	if err := schema.FillDefaults(entity, v); err != nil {
		panic(err)
	}
	return v
}

func kongTarget(id, upstreamID, target string, weight int64) *store.Target {
	return &store.Target{ID: id, CreatedAt: 1, UpdatedAt: 1, Upstream: store.ForeignKey{ID: upstreamID}, Target: target, Weight: weight}
}

// apply commits mutations one by one and returns the last revision.
func apply(t testing.TB, st *store.Store, ms ...*store.Mutation) uint64 {
	t.Helper()
	var rev uint64
	for _, m := range ms {
		r, err := st.Apply(m)
		if err != nil {
			t.Fatalf("apply %s: %v", m, err)
		}
		rev = r
	}
	return rev
}

func upsertService(s *store.Service) *store.Mutation {
	return &store.Mutation{Op: store.OpUpsertService, Service: s}
}
func upsertRoute(r *store.Route) *store.Mutation {
	return &store.Mutation{Op: store.OpUpsertRoute, Route: r}
}
func upsertUpstream(u *store.Upstream) *store.Mutation {
	return &store.Mutation{Op: store.OpUpsertUpstream, Upstream: u}
}
func upsertTarget(t *store.Target) *store.Mutation {
	return &store.Mutation{Op: store.OpUpsertTarget, Target: t}
}
func deleteTarget(id string) *store.Mutation {
	return &store.Mutation{Op: store.OpDeleteTarget, ID: id}
}

// walkthrough is Kong's get-started state: an upstream with two targets on
// loopback, a service pointing at it, a route /mock.
func walkthrough() []*store.Mutation {
	return []*store.Mutation{
		upsertUpstream(kongUpstream("u1", "example_upstream")),
		upsertTarget(kongTarget("t1", "u1", "127.0.0.2:8080", 100)),
		upsertTarget(kongTarget("t2", "u1", "127.0.0.3:8080", 100)),
		upsertService(kongService("s1", "example_service", "example_upstream", 80)),
		upsertRoute(kongRoute("r1", "example_route", "s1", "/mock")),
	}
}

// fakeTranslator is a small stand-in for the translator package, enough to
// drive the server: one EDS cluster per upstream (named after it), a CLA of
// its targets (IPs or resolved names; weight 0 left out; manual health
// honoured), one listener and one route configuration with a route per
// Kong route whose service names an upstream.
//
// mutate, when set, edits every full translation (to inject bad output);
// endpointsErr makes Endpoints fail.
type fakeTranslator struct {
	mutate       func(*translator.Resources)
	endpointsErr error
}

func (f fakeTranslator) Translate(snap *store.Snapshot, dns map[string]translator.DNSAnswer) (*translator.Resources, error) {
	res, err := f.translate(snap, dns)
	if err == nil && f.mutate != nil {
		f.mutate(res)
	}
	return res, err
}

func (fakeTranslator) translate(snap *store.Snapshot, dns map[string]translator.DNSAnswer) (*translator.Resources, error) {
	ups, err := snap.Upstreams()
	if err != nil {
		return nil, err
	}
	res := &translator.Resources{ClusterUpstream: map[string]string{}}
	byName := map[string]*store.Upstream{}
	for _, u := range ups {
		byName[u.Name] = u
		res.Clusters = append(res.Clusters, fakeCluster(u.Name))
		res.ClusterUpstream[u.Name] = u.Name
		cla, err := fakeCLA(snap, u, dns)
		if err != nil {
			return nil, err
		}
		res.Endpoints = append(res.Endpoints, cla)
	}
	routes, err := snap.Routes()
	if err != nil {
		return nil, err
	}
	vh := &routev3.VirtualHost{Name: "any", Domains: []string{"*"}}
	for _, r := range routes {
		svc, err := snap.ServiceByID(r.Service.ID)
		if err != nil || svc == nil || byName[svc.Host] == nil {
			continue
		}
		for _, p := range r.Paths {
			vh.Routes = append(vh.Routes, &routev3.Route{
				Name:   r.ID + p,
				Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: p}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: svc.Host}}},
			})
		}
	}
	res.Routes = []*routev3.RouteConfiguration{{Name: "kong", VirtualHosts: []*routev3.VirtualHost{vh}}}
	res.Listeners = []*listenerv3.Listener{fakeListener("kong")}
	return res, nil
}

func (f fakeTranslator) Endpoints(snap *store.Snapshot, dns map[string]translator.DNSAnswer, clusters []string) ([]*endpointv3.ClusterLoadAssignment, error) {
	if f.endpointsErr != nil {
		return nil, f.endpointsErr
	}
	var out []*endpointv3.ClusterLoadAssignment
	for _, name := range clusters {
		u, err := snap.UpstreamByName(name)
		if err != nil {
			return nil, err
		}
		if u == nil {
			return nil, ErrFullRebuild
		}
		cla, err := fakeCLA(snap, u, dns)
		if err != nil {
			return nil, err
		}
		out = append(out, cla)
	}
	return out, nil
}

func fakeCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ResourceApiVersion:    corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		}},
		ConnectTimeout: durationpb.New(time.Second),
	}
}

func fakeCLA(snap *store.Snapshot, u *store.Upstream, dns map[string]translator.DNSAnswer) (*endpointv3.ClusterLoadAssignment, error) {
	ts, err := snap.TargetsByUpstream(u.ID)
	if err != nil {
		return nil, err
	}
	hs, err := snap.TargetHealthByUpstream(u.ID)
	if err != nil {
		return nil, err
	}
	unhealthy := map[string]bool{}
	for _, h := range hs {
		unhealthy[h.TargetID] = !h.Healthy
	}
	slices.SortFunc(ts, func(a, b *store.Target) int { return compare(a.Target, b.Target) })
	loc := &endpointv3.LocalityLbEndpoints{}
	for _, t := range ts {
		if t.Weight == 0 {
			continue
		}
		host, portStr, _ := net.SplitHostPort(t.Target)
		port, _ := strconv.Atoi(portStr)
		ips := []string{host}
		if !isIPLiteral(host) {
			ips = nil
			for _, a := range dns[host].Addresses {
				ips = append(ips, a.IP)
			}
		}
		for _, ip := range ips {
			ep := &endpointv3.LbEndpoint{
				HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
						Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(port)},
					}}},
					Hostname: host,
				}},
				LoadBalancingWeight: wrapperspb.UInt32(uint32(t.Weight)),
			}
			if unhealthy[t.ID] {
				ep.HealthStatus = corev3.HealthStatus_UNHEALTHY
			}
			loc.LbEndpoints = append(loc.LbEndpoints, ep)
		}
	}
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: u.Name}
	if len(loc.LbEndpoints) > 0 {
		cla.Endpoints = []*endpointv3.LocalityLbEndpoints{loc}
	}
	return cla, nil
}

func fakeListener(routeName string) *listenerv3.Listener {
	router, _ := anypb.New(&routerv3.Router{})
	hcm, _ := anypb.New(&hcmv3.HttpConnectionManager{
		StatPrefix: "http",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: routeName,
			ConfigSource: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
		}},
		HttpFilters: []*hcmv3.HttpFilter{{Name: wellknown.Router, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}}},
	})
	return &listenerv3.Listener{
		Name: "proxy",
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8000},
		}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: wellknown.HTTPConnectionManager, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm},
		}}}},
	}
}

func isIPLiteral(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
