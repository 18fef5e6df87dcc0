package translator

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	cachev2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cache_v2/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	simplecachev2v3 "github.com/envoyproxy/go-control-plane/envoy/extensions/http/cache_v2/simple_http_cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	pluginProxyCache = "proxy-cache"
	// cacheFilter is Envoy's HTTP cache. Envoy 1.40 accepts no per-route
	// config for it, only FilterConfig: it is on in the HCM, off by
	// default in the route configuration, on in the routes of a
	// proxy-cache instance.
	cacheFilter = "envoy.filters.http.cache_v2"
	// cacheStatusFilter is the Lua stage right before the cache
	// (proxycache_status.lua); its name is also the route metadata
	// namespace the script reads its per-route values from.
	cacheStatusFilter = "switchboard.proxy_cache"
	cacheStatusScript = "proxy-cache"
	// CacheLoopCluster is the bootstrap's static cluster into its internal
	// listener (envoy.CacheLoopCluster; envoy/ and translator/ import
	// nothing of each other, cmd/switchboard's test checks they agree):
	// the cache filter sends what it may store there, where the route is
	// matched again and its action applies.
	CacheLoopCluster = "switchboard_cache_loop"
	// CacheLoopTLSCluster is the same for the TLS listener, whose loop
	// matches the TLS route configuration.
	CacheLoopTLSCluster = "switchboard_cache_loop_tls"
)

// The cache is on in the HCM and off in every route configuration
// (cacheOffByDefault); a route with a proxy-cache instance turns it back on
// (cacheOn). One entry per configuration instead of one per route: a
// per-route FilterConfig is ~90 of a plain route's ~250 bytes, and Envoy
// unpacks it for every route on every RDS update. Envoy 1.40 refuses an
// enabling FilterConfig without a config, and the cache filter has no
// per-route config type: is_optional makes it ignore the (empty) filter
// config while it still records the filter as enabled for the route.
var (
	cacheOffByDefault = mustAny(&routev3.FilterConfig{Disabled: true})
	cacheOn           = mustAny(&routev3.FilterConfig{IsOptional: true, Config: mustAny(&cachev2v3.CacheV2Config{})})
)

// routeConfigFilterDefaults are the per-filter defaults every proxy route
// configuration carries.
func routeConfigFilterDefaults() map[string]*anypb.Any {
	return map[string]*anypb.Any{cacheFilter: cacheOffByDefault}
}

//go:embed proxycache_sha256.lua
var cacheSHA256Lua string

//go:embed proxycache_status.lua
var cacheStatusLua string

// proxyCacheConfig is what the translator reads of a proxy-cache
// instance's config (Kong's defaults are filled in).
type proxyCacheConfig struct {
	ResponseCode    []int           `json:"response_code"`
	RequestMethod   []string        `json:"request_method"`
	ContentType     []string        `json:"content_type"`
	CacheTTL        int             `json:"cache_ttl"`
	CacheControl    bool            `json:"cache_control"`
	VaryQueryParams []string        `json:"vary_query_params"`
	VaryHeaders     []string        `json:"vary_headers"`
	ResponseHeaders map[string]bool `json:"response_headers"`
}

// proxyCacheFilter serves proxy-cache with Envoy's cache filter between a
// Lua status stage (Kong's key, X-Cache-Status/-Key) and the bootstrap's
// loop listener (the store decision). A route with an instance carries its
// settings in route metadata, so a plugin change is an RDS push.
type proxyCacheFilter struct{}

func (proxyCacheFilter) name() string { return cacheFilter }

func (f proxyCacheFilter) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	// The loop matches the route configuration the HCM names: the plain
	// loop for proxy (the TLS listener's too while it shares it), the TLS
	// loop (proxy-cache-tls, a copy of proxy-tls) otherwise.
	loop := CacheLoopCluster
	if hcm.GetRds().GetRouteConfigName() == TLSRouteConfigName {
		loop = CacheLoopTLSCluster
	}
	hcm.HttpFilters = append(hcm.HttpFilters, &hcmv3.HttpFilter{
		Name: f.name(),
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(&cachev2v3.CacheV2Config{
			TypedConfig:             mustAny(&simplecachev2v3.SimpleHttpCacheV2Config{}),
			OverrideUpstreamCluster: loop,
		})},
	})
	return nil
}

func (proxyCacheFilter) patchResources(*Resources) error { return nil }

func proxyCacheInstance(rp *routePlan) (cfg proxyCacheConfig, p pluginInstance, ok bool, err error) {
	for _, p := range rp.plugins {
		if p.name != pluginProxyCache || p.row == nil {
			continue
		}
		if err := json.Unmarshal(p.row.Config, &cfg); err != nil {
			return cfg, p, false, fmt.Errorf("plugin %s: config: %w", p.id, err)
		}
		return cfg, p, true, nil
	}
	return cfg, pluginInstance{}, false, nil
}

func (f proxyCacheFilter) patchRoute(er *routev3.Route, rp *routePlan) error {
	cfg, p, ok, err := proxyCacheInstance(rp)
	if err != nil {
		return err
	}
	// Routes that forward nothing (426, 503 without a service) have nothing
	// to cache; routes with snis match on the TLS connection's SNI (filter
	// state), which the loop's internal connection does not carry. They
	// keep the route configuration's default: off (cacheOffByDefault).
	if !ok || er.GetRoute() == nil || len(er.GetMatch().GetFilterState()) > 0 {
		return nil
	}
	if er.TypedPerFilterConfig == nil {
		er.TypedPerFilterConfig = map[string]*anypb.Any{}
	}
	er.TypedPerFilterConfig[cacheFilter] = cacheOn
	md := cacheRouteMetadata(cfg, p, rp.route.ID)
	setFilterMetadata(er, cacheStatusFilter, md)
	return setPerFilterConfig(er, cacheStatusFilter, &luav3.LuaPerRoute{Override: &luav3.LuaPerRoute_Name{Name: cacheStatusScript}})
}

// cacheRouteMetadata is what the status stage reads for one route. gen is
// the instance id and the revision it was last written at: every write of
// the plugin (DELETE /proxy-cache rewrites it unchanged) starts a new key
// space, which is how a purge reaches Envoy as an RDS change.
func cacheRouteMetadata(cfg proxyCacheConfig, p pluginInstance, routeID string) map[string]string {
	md := map[string]string{
		"gen":     p.id + "." + strconv.FormatUint(p.row.ModifyIndex, 10),
		"route":   routeID,
		"methods": strings.Join(cfg.RequestMethod, " "),
		"store":   cacheStoreParams(cfg),
	}
	if cfg.CacheControl {
		md["cc"] = "1"
	}
	if cfg.VaryQueryParams != nil {
		md["vq"] = strings.Join(cfg.VaryQueryParams, " ")
	}
	if len(cfg.VaryHeaders) > 0 {
		names := make([]string, len(cfg.VaryHeaders))
		for i, h := range cfg.VaryHeaders {
			names[i] = strings.ToLower(h)
		}
		md["vh"] = strings.Join(names, " ")
	}
	var hide []string
	for _, h := range []string{"age", "X-Cache-Status", "X-Cache-Key"} {
		if on, set := cfg.ResponseHeaders[h]; set && !on {
			hide = append(hide, h)
		}
	}
	if hide != nil {
		md["hide"] = strings.Join(hide, " ")
	}
	return md
}

// cacheStoreParams is the store stage's x-sb-cache value: "<cache_ttl>
// <cache_control 0|1> <codes,> <content types,>" (types lower case without
// spaces, as the stage compares them).
func cacheStoreParams(cfg proxyCacheConfig) string {
	codes := make([]string, len(cfg.ResponseCode))
	for i, c := range cfg.ResponseCode {
		codes[i] = strconv.Itoa(c)
	}
	types := make([]string, 0, len(cfg.ContentType))
	for _, t := range cfg.ContentType {
		t = strings.ToLower(strings.Join(strings.Fields(t), ""))
		if t != "" && !strings.Contains(t, ",") {
			types = append(types, t)
		}
	}
	honour := "0"
	if cfg.CacheControl {
		honour = "1"
	}
	return fmt.Sprintf("%d %s %s %s", cfg.CacheTTL, honour, strings.Join(codes, ","), strings.Join(types, ","))
}

// setFilterMetadata writes fields under namespace ns of the route's
// metadata.
func setFilterMetadata(er *routev3.Route, ns string, fields map[string]string) {
	if er.Metadata == nil {
		er.Metadata = &corev3.Metadata{}
	}
	if er.Metadata.FilterMetadata == nil {
		er.Metadata.FilterMetadata = map[string]*structpb.Struct{}
	}
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(fields))}
	for k, v := range fields {
		s.Fields[k] = structpb.NewStringValue(v)
	}
	er.Metadata.FilterMetadata[ns] = s
}

// cacheStatusStage is the HCM entry of the status stage, disabled unless a
// route with a proxy-cache instance enables it (proxyCacheFilter does);
// it runs right before the cache filter, so it also sees cache hits on
// their way out.
type cacheStatusStage struct{}

func (cacheStatusStage) name() string { return cacheStatusFilter }

func (f cacheStatusStage) patchHCM(hcm *hcmv3.HttpConnectionManager) error {
	hcm.HttpFilters = append(hcm.HttpFilters, disabledHTTPFilter(f.name(), &luav3.Lua{
		StatPrefix: "proxy_cache",
		SourceCodes: map[string]*corev3.DataSource{
			cacheStatusScript: {Specifier: &corev3.DataSource_InlineString{InlineString: cacheSHA256Lua + cacheStatusLua}},
		},
	}))
	return nil
}

// patchRoute is done by proxyCacheFilter.
func (cacheStatusStage) patchRoute(*routev3.Route, *routePlan) error { return nil }

func (cacheStatusStage) patchResources(*Resources) error { return nil }
