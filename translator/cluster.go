package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/store"
)

const httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// buildCluster builds the EDS cluster of an upstream (u set) or of a service
// with a plain host (u nil), for the service variant v and the TLS settings
// ct the translator resolved (cluster_tls.go). Nothing here may depend on
// targets, DNS answers or certificate contents: a changed Cluster is
// re-created by Envoy, which resets health-check state and drains
// connections.
func buildCluster(name string, v variant, u *store.Upstream, ct clusterTLS) *clusterv3.Cluster {
	c := &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{
			EdsConfig: edsConfigSource(),
		},
		ConnectTimeout: durationpb.New(msOrDefault(v.connectTimeoutMS)),
		CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{
			// Kong fails closed (503) when no target is healthy; Envoy's
			// default 50% panic threshold would spray traffic over
			// unhealthy hosts instead.
			HealthyPanicThreshold: &typev3.Percent{Value: 0},
			// Envoy holds back health changes (an ejection, a failed probe)
			// that come within 1 s of the cluster's previous update, to
			// batch them. Kong stops sending to an unhealthy target at
			// once, and a failover should not wait.
			UpdateMergeWindow: durationpb.New(0),
		},
		// A target removed from Kong must stop receiving traffic even if
		// it still passes health checks.
		IgnoreHealthOnHostRemoval: true,
		CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			Priority:           corev3.RoutingPriority_DEFAULT,
			MaxConnections:     wrapperspb.UInt32(circuitBreakerLimit),
			MaxPendingRequests: wrapperspb.UInt32(circuitBreakerLimit),
			MaxRequests:        wrapperspb.UInt32(circuitBreakerLimit),
			MaxRetries:         wrapperspb.UInt32(circuitBreakerLimit),
		}}},
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			httpProtocolOptionsKey: mustAny(httpProtocolOptions(v)),
		},
	}
	setLoadBalancing(c, u)
	if v.isTLS() {
		setTrafficTLS(c, ct.traffic)
	}
	if u != nil {
		setHealthChecks(c, v, u, ct.probe)
	}
	return c
}

// httpProtocolOptions speaks HTTP/1.1 to upstreams as Kong does, HTTP/2 for
// gRPC, and closes idle upstream connections after Kong's keep-alive
// timeout; TLS preserve_host clusters take the SNI from the Host.
func httpProtocolOptions(v variant) *upstreamhttpv3.HttpProtocolOptions {
	o := &upstreamhttpv3.HttpProtocolOptions{
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{
			IdleTimeout: durationpb.New(upstreamIdleTimeout),
		},
	}
	if v.preserveHost {
		// The SNI is the Host the request carries upstream, which for a
		// preserve_host route is the client's (Kong's $upstream_host).
		o.UpstreamHttpProtocolOptions = &corev3.UpstreamHttpProtocolOptions{AutoSni: true}
	}
	if v.isGRPC() {
		o.UpstreamProtocolOptions = &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
				},
			},
		}
	} else {
		o.UpstreamProtocolOptions = &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{
					HttpProtocolOptions: &corev3.Http1ProtocolOptions{},
				},
			},
		}
	}
	return o
}

// edsConfigSource fetches a cluster's endpoints over ADS, waiting at most
// edsFetchTimeout for them. A cluster whose settings change (a PATCH of its
// upstream's health checks, say) is re-created by Envoy, and the new one
// warms until its endpoints arrive. The xds publisher re-sends them right
// behind the cluster; should that response be lost, Envoy gives up after
// initial_fetch_timeout (15 s by default) and uses the endpoints it already
// holds, so the short timeout bounds the worst case at a second. A new
// cluster is not slowed: its endpoints are published before it.
func edsConfigSource() *corev3.ConfigSource {
	cs := adsConfigSource()
	cs.InitialFetchTimeout = durationpb.New(edsFetchTimeout)
	return cs
}

// adsConfigSource fetches a resource over the ADS stream.
func adsConfigSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}
