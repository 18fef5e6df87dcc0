package adstest

import (
	"context"
	"net"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"
)

// TestClient runs the client against go-control-plane's own ADS server (a
// snapshot cache, as switchboard's layout minus the EDS split), in both
// protocols: it must reach a complete configuration, a later endpoint
// change must arrive as one endpoint response (delta: exactly that
// resource), and a NACK must leave the accepted state alone.
func TestClient(t *testing.T) {
	for _, delta := range []bool{false, true} {
		name := map[bool]string{false: "sotw", true: "delta"}[delta]
		t.Run(name, func(t *testing.T) { testClient(t, delta) })
	}
}

func testClient(t *testing.T, delta bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cache := cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil)
	set := func(version string, weight uint32) {
		t.Helper()
		snap, err := cachev3.NewSnapshot(version, map[string][]types.Resource{
			resourcev3.ClusterType:  {cluster("c1"), cluster("c2")},
			resourcev3.EndpointType: {cla("c1", 1), cla("c2", weight)},
			resourcev3.ListenerType: {listener(t, "proxy", "routes")},
			resourcev3.RouteType:    {&routev3.RouteConfiguration{Name: "routes"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := cache.SetSnapshot(ctx, "sim-0", snap); err != nil {
			t.Fatal(err)
		}
	}
	set("1", 1)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, serverv3.NewServer(ctx, cache, nil))
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	c, err := Dial(ctx, lis.Addr().String(), Options{NodeID: "sim-0", Delta: delta})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-c.Complete():
	case <-ctx.Done():
		t.Fatalf("not complete: counts %v, err %v", c.Counts(), c.Err())
	}
	counts := c.Counts()
	if counts[resourcev3.ClusterType] != 2 || counts[resourcev3.EndpointType] != 2 ||
		counts[resourcev3.ListenerType] != 1 || counts[resourcev3.RouteType] != 1 {
		t.Errorf("counts = %v", counts)
	}
	if c.TimeToComplete() <= 0 || c.NACKs() != 0 {
		t.Errorf("time to complete %s, NACKs %d", c.TimeToComplete(), c.NACKs())
	}
	if subs := c.Subscriptions(resourcev3.EndpointType); len(subs) != 2 {
		t.Errorf("EDS subscriptions = %v, want c1 and c2", subs)
	}

	// Two endpoint changes, one after the other: the second is the barrier
	// that shows the first pushed nothing besides its own resource (no
	// fixed sleep waiting for an absence). A SotW snapshot cache re-sends
	// every type on a new version, so there only the endpoints are checked.
	c.Record()
	m := c.Mark()
	set("2", 7)
	waitVersion(ctx, t, c, m, "2")
	m = c.Mark()
	set("3", 9)
	waitVersion(ctx, t, c, m, "3")
	got := c.Recorded()
	var endpoints int
	for _, r := range got {
		if r.Nacked || r.Bytes == 0 {
			t.Errorf("response %+v, want accepted and sized", r)
		}
		if r.TypeURL == resourcev3.EndpointType {
			endpoints++
		}
		if delta && (r.TypeURL != resourcev3.EndpointType || len(r.Names) != 1 || r.Names[0] != "c2") {
			t.Errorf("response %+v, want only ClusterLoadAssignment c2", r)
		}
	}
	if endpoints != 2 {
		t.Errorf("after two endpoint changes, received %+v", got)
	}
	eds, err := c.Resources(resourcev3.EndpointType)
	if err != nil || len(eds) != 2 {
		t.Fatalf("endpoint resources %v, %v", eds, err)
	}

	// A NACKed response changes nothing the client holds.
	c.NackNext(resourcev3.EndpointType, "rejected by the test")
	m = c.Mark()
	set("4", 11)
	var nacked *Response
	err = c.WaitUntil(ctx, func() bool {
		for _, r := range c.Since(m) {
			if r.TypeURL == resourcev3.EndpointType {
				nacked = &r
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	if !nacked.Nacked || c.NACKs() != 1 {
		t.Errorf("response %+v, NACKs %d: want one NACK", nacked, c.NACKs())
	}
	if v := c.Versions(resourcev3.EndpointType)["c2"]; v == "4" {
		t.Errorf("c2 version %q after a NACK, want the one accepted before", v)
	}
}

// waitVersion waits until c accepted endpoints of version v (delta: the
// resource version go-control-plane derives, so any change of c2 counts).
// The responses looked at are those after mark m, taken before the change.
func waitVersion(ctx context.Context, t *testing.T, c *Client, m int, v string) {
	t.Helper()
	err := c.WaitUntil(ctx, func() bool {
		for _, r := range c.Since(m) {
			if r.TypeURL == resourcev3.EndpointType && (c.opts.Delta || r.Version == v) {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("waiting for endpoints %s: %v; have %+v", v, err, c.Recorded())
	}
}

func cluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{Name: name, ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}}}
}

func cla(name string, weight uint32) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
		LoadBalancingWeight: nil,
		LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
				Address: "127.0.0.2", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 80 + weight}}}}}}}},
	}}}
}

func listener(t *testing.T, name, routes string) *listenerv3.Listener {
	hcm, err := anypb.New(&hcmv3.HttpConnectionManager{StatPrefix: name, RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{
		Rds: &hcmv3.Rds{RouteConfigName: routes, ConfigSource: &corev3.ConfigSource{
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return &listenerv3.Listener{Name: name, FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
		Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm}}}}}}
}
