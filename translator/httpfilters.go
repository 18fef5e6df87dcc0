package translator

import (
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
)

// httpFilter is one HTTP filter of the proxy listener. A Kong plugin is one
// file implementing it plus one line in httpFilters; everything it needs
// about a route comes from the route's plan (plan.go), never from a second
// lookup.
type httpFilter interface {
	// name is the filter's name in the HCM's chain (unique).
	name() string
	// patchHCM appends the filter to the connection manager's chain (and
	// sets any listener-wide option it needs).
	patchHCM(hcm *hcmv3.HttpConnectionManager) error
	// patchRoute adds the per-route part (typed_per_filter_config) to one
	// Envoy route of rp; most filters leave routes they do not apply to
	// alone.
	patchRoute(er *routev3.Route, rp *routePlan) error
	// patchResources adds resources the filter needs beyond routes
	// (clusters of an auth service, secrets), once per translation.
	patchResources(res *Resources) error
}

// httpFilters is the chain, in order. Kong runs plugins by descending
// PRIORITY (key-auth 1250 → rate-limiting 910 → proxy-cache 100), and an
// early answer (401, 429, a cache hit) stops what follows, so the Envoy
// chain follows the same order: auth first, then rate limiting, then the
// cache right before the router. The router forwards the request and must
// be last (Envoy rejects a chain whose terminal filter is not last).
var httpFilters = slices.Concat(
	[]httpFilter{
		keyAuthFilter{},
		consumerHashStage{},
		rateLimitIdentityStage{},
		rateLimitResponseStage{},
	},
	localRateLimitStages(),
	[]httpFilter{
		rateLimitServiceFilter{failureDeny: false},
		rateLimitServiceFilter{failureDeny: true},
		cacheStatusStage{},
		proxyCacheFilter{},
		routerFilter{},
	},
)

// routerFilter is Envoy's router. It does not add x-envoy-* headers, which
// Kong's upstreams never see.
type routerFilter struct{}

func (routerFilter) name() string { return wellknown.Router }

func (f routerFilter) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, &hcmv3.HttpFilter{
		Name: f.name(),
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&routerv3.Router{
			SuppressEnvoyHeaders: true,
		})},
	})
	return nil
}

func (routerFilter) patchRoute(*routev3.Route, *routePlan) error { return nil }

func (routerFilter) patchResources(*Resources) error { return nil }
