package translator

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	ratelimitconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	// rateLimitServiceCluster is the cluster of switchboard's own
	// rate-limit service (package ratelimit), which serves rate-limiting
	// policy=cluster and policy=redis. Each node advertises its own
	// service to the Envoys it configures (Options.RateLimitAddress).
	rateLimitServiceCluster = "switchboard/ratelimit"
	// The service is called by one of two ratelimit filters, because
	// Envoy's failure_mode_deny is per filter and Kong's fault_tolerant is
	// per instance: the tolerant one lets a request through when the
	// service cannot answer, the other fails it (Kong: 500).
	rateLimitTolerantFilter = "switchboard.ratelimit"
	rateLimitDenyFilter     = "switchboard.ratelimit_deny"
	// rateLimitServiceTimeout bounds one call. Envoy's default (20 ms) is
	// exceeded on a busy host, and a tolerant instance would then silently
	// stop limiting; Kong's own datastore timeouts are seconds.
	rateLimitServiceTimeout = time.Second
	msgUnexpected           = "An unexpected error occurred"
)

// rateLimitServiceFilter is Envoy's global ratelimit filter calling the
// service; failureDeny selects which of the two filters it is.
type rateLimitServiceFilter struct{ failureDeny bool }

func (f rateLimitServiceFilter) name() string {
	if f.failureDeny {
		return rateLimitDenyFilter
	}
	return rateLimitTolerantFilter
}

func (f rateLimitServiceFilter) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, disabledHTTPFilter(f.name(), &ratelimitv3.RateLimit{
		Domain:                         "switchboard",
		StatPrefix:                     "kong_rate_limiting",
		FailureModeDeny:                f.failureDeny,
		Timeout:                        durationpb.New(rateLimitServiceTimeout),
		DisableXEnvoyRatelimitedHeader: true,
		RateLimitedAsResourceExhausted: true,
		RateLimitService: &ratelimitconfv3.RateLimitServiceConfig{
			TransportApiVersion: corev3.ApiVersion_V3,
			GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: rateLimitServiceCluster},
			}},
		},
	}))
	if f.failureDeny {
		return nil
	}
	// Once for both filters: the service's body ({"message": …}) as JSON,
	// and Kong's 500 when a non-tolerant instance cannot reach it.
	hcm.LocalReplyConfig.Mappers = append(hcm.LocalReplyConfig.Mappers,
		celMapper("response.code_details == 'request_rate_limited'", textBody("%LOCAL_REPLY_BODY%")),
		celMapper("response.code_details == 'rate_limiter_error'", textBody(jsonMessage(msgUnexpected))),
	)
	return nil
}

func (rateLimitServiceFilter) patchResources(*Resources) error { return nil }

// patchRoute gives the route one rate_limits entry per (instance of this
// filter's fault tolerance × identifier variant); the conditions make at
// most one instance produce descriptors for a request.
func (f rateLimitServiceFilter) patchRoute(er *routev3.Route, rp *routePlan) error {
	applies, err := rateLimitApplies(rp)
	if err != nil {
		return err
	}
	serviceID := ""
	if rp.service != nil {
		serviceID = rp.service.ID
	}
	return rp.rateLimits.cache.setPerRoute(er, f.name(), rp, applies, serviceID, func() (proto.Message, error) {
		per := &ratelimitv3.RateLimitPerRoute{}
		for _, a := range applies {
			if a.local() || a.cfg.failureDeny() != f.failureDeny {
				continue
			}
			common := rateLimitServiceEntries(a)
			if cond, _ := a.condition(); cond != nil {
				common = append([]*routev3.RateLimit_Action{cond}, common...)
			}
			for _, v := range rateLimitVariants(a, serviceID) {
				actions := append(append([]*routev3.RateLimit_Action{}, common...), v.actions...)
				per.RateLimits = append(per.RateLimits, &routev3.RateLimit{Actions: actions})
			}
		}
		if len(per.RateLimits) == 0 {
			return nil, nil
		}
		return per, nil
	})
}

// rateLimitServiceEntries are the literal entries of a's descriptor, in
// the format ratelimit/doc.go defines: the windows' limits, the instance's
// scope (its counters are per plugin scope, as Kong's), policy and replies.
func rateLimitServiceEntries(a rateLimitApply) []*routev3.RateLimit_Action {
	var out []*routev3.RateLimit_Action
	for _, w := range a.cfg.windows() {
		out = append(out, genericKey("kong_"+w.name, strconv.FormatUint(uint64(w.limit), 10)))
	}
	if a.inst.routeID != "" {
		out = append(out, genericKey("kong_route", a.inst.routeID))
	}
	if a.inst.serviceID != "" {
		out = append(out, genericKey("kong_service", a.inst.serviceID))
	}
	out = append(out, genericKey("kong_policy", a.cfg.Policy), genericKey(rlKeyPlugin, a.inst.id),
		genericKey("kong_error_message", a.cfg.errorMessage()))
	if a.cfg.HideClientHeaders {
		out = append(out, genericKey("kong_hide_client_headers", "true"))
	}
	if code := a.cfg.errorCode(); code != 429 {
		out = append(out, genericKey("kong_error_code", strconv.Itoa(code)))
	}
	return out
}

// rateLimitServiceResources are the service's cluster and endpoints (see
// Options.RateLimitCluster); nil without either option (the filters then
// find no cluster: a tolerant instance lets requests through, the others
// fail).
func rateLimitServiceResources(opts Options) (*clusterv3.Cluster, *endpointv3.ClusterLoadAssignment, error) {
	if opts.RateLimitAddress == "" && !opts.RateLimitCluster {
		return nil, nil, nil
	}
	var eps []*endpoint
	if opts.RateLimitAddress != "" {
		ap, err := netip.ParseAddrPort(opts.RateLimitAddress)
		if err != nil {
			return nil, nil, fmt.Errorf("rate-limit service address: %w", err)
		}
		eps = append(eps, &endpoint{addr: ap})
	}
	c := &clusterv3.Cluster{
		Name:                 rateLimitServiceCluster,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: edsConfigSource()},
		ConnectTimeout:       durationpb.New(time.Second),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			// gRPC needs HTTP/2.
			httpProtocolOptionsKey: mustAny(&upstreamhttpv3.HttpProtocolOptions{
				UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
					ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
						ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
							Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
						},
					},
				},
			}),
		},
	}
	cla := buildCLA(rateLimitServiceCluster, eps, false)
	if err := c.ValidateAll(); err != nil {
		return nil, nil, fmt.Errorf("rate-limit service cluster: %w", err)
	}
	return c, cla, nil
}

// insertSorted inserts v into s, kept sorted by key.
func insertSorted[T any](s []T, v T, key func(T) string) []T {
	i, _ := slices.BinarySearchFunc(s, key(v), func(e T, k string) int { return cmp.Compare(key(e), k) })
	return slices.Insert(s, i, v)
}
