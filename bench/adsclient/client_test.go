package adsclient

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

// TestClient_DeltaADS runs the client against go-control-plane's own ADS
// server (a snapshot cache, as switchboard's layout minus the EDS split):
// it must reach a complete configuration, and a later endpoint change must
// arrive as exactly that one resource.
func TestClient_DeltaADS(t *testing.T) {
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

	c, err := Dial(ctx, lis.Addr().String(), "sim-0")
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

	// Two endpoint changes, one after the other: the second is the barrier
	// that shows the first pushed nothing besides its own resource (no
	// fixed sleep waiting for an absence).
	c.Record()
	set("2", 7)
	waitRecorded(ctx, t, c, 1)
	set("3", 9)
	waitRecorded(ctx, t, c, 2)
	got := c.Recorded()
	if len(got) != 2 {
		t.Fatalf("after two endpoint changes, received %+v", got)
	}
	for i, r := range got {
		if r.TypeURL != resourcev3.EndpointType || len(r.Names) != 1 || r.Names[0] != "c2" || r.Bytes == 0 {
			t.Errorf("response %d = %+v, want only ClusterLoadAssignment c2", i, r)
		}
	}
}

// waitRecorded polls until c recorded n responses or ctx ends.
func waitRecorded(ctx context.Context, t *testing.T, c *Client, n int) {
	t.Helper()
	for len(c.Recorded()) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d responses: have %+v", n, c.Recorded())
		case <-time.After(5 * time.Millisecond):
		}
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
