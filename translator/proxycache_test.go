package translator

import (
	"encoding/json"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// TestProxyCache_Route checks what a route carries: the cache's off switch
// without an instance; with one, the status stage on and its settings in
// route metadata, keyed by the plugin's revision.
func TestProxyCache_Route(t *testing.T) {
	plain := &routev3.Route{}
	if err := (proxyCacheFilter{}).patchRoute(plain, &routePlan{route: &store.Route{ID: "r1"}}); err != nil {
		t.Fatal(err)
	}
	// The route configuration has the cache off; a route without an
	// instance inherits that.
	if len(plain.GetTypedPerFilterConfig()) != 0 {
		t.Errorf("route without an instance: %v, want none (the configuration's default)", plain.GetTypedPerFilterConfig())
	}
	fc := &routev3.FilterConfig{}
	if err := routeConfigFilterDefaults()[cacheFilter].UnmarshalTo(fc); err != nil || !fc.GetDisabled() {
		t.Errorf("route configuration default: %v, want the cache off", fc)
	}

	cfg := `{"response_code":[200,301],"request_method":["GET","HEAD"],"content_type":["Application/JSON; charset=UTF-8","text/plain"],
		"cache_ttl":30,"cache_control":false,"vary_query_params":["a","b"],"vary_headers":["X-Kong-Test"],
		"response_headers":{"age":true,"X-Cache-Status":false,"X-Cache-Key":true}}`
	row := &store.Plugin{ID: "p1", Name: pluginProxyCache, Enabled: true, Config: json.RawMessage(cfg), ModifyIndex: 42}
	rp := &routePlan{route: &store.Route{ID: "r1"}, plugins: []pluginInstance{{id: "p1", name: pluginProxyCache, enabled: true, row: row}}}
	forwarding := func() *routev3.Route {
		return &routev3.Route{Match: &routev3.RouteMatch{}, Action: &routev3.Route_Route{Route: &routev3.RouteAction{}}}
	}
	// Routes with snis match the TLS connection's SNI, which the loop's
	// connection lacks: no cache there.
	sni := forwarding()
	sni.Match.FilterState = []*matcherv3.FilterStateMatcher{{Key: "x"}}
	if err := (proxyCacheFilter{}).patchRoute(sni, rp); err != nil {
		t.Fatal(err)
	}
	if _, on := sni.GetTypedPerFilterConfig()[cacheFilter]; on {
		t.Error("a route with snis turns the cache on")
	}
	er := forwarding()
	if err := (proxyCacheFilter{}).patchRoute(er, rp); err != nil {
		t.Fatal(err)
	}
	if err := er.GetTypedPerFilterConfig()[cacheFilter].UnmarshalTo(fc); err != nil || fc.GetDisabled() || !fc.GetIsOptional() {
		t.Errorf("the cache is not turned on for a route with an instance: %v", fc)
	}
	on := &routev3.FilterConfig{}
	lua := &luav3.LuaPerRoute{}
	if err := er.GetTypedPerFilterConfig()[cacheStatusFilter].UnmarshalTo(on); err != nil || on.GetConfig().UnmarshalTo(lua) != nil || lua.GetName() != cacheStatusScript {
		t.Errorf("status stage not enabled: %v", er.GetTypedPerFilterConfig())
	}
	got := map[string]string{}
	for k, v := range er.GetMetadata().GetFilterMetadata()[cacheStatusFilter].GetFields() {
		got[k] = v.GetStringValue()
	}
	want := map[string]string{
		"gen": "p1.42", "route": "r1", "methods": "GET HEAD", "vq": "a b", "vh": "x-kong-test", "hide": "X-Cache-Status",
		"store": "30 0 200,301 application/json;charset=utf-8,text/plain",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["cc"]; ok {
		t.Error("cc set without cache_control")
	}
}

// TestProxyCache_LuaNames: the status stage reads its metadata under the
// filter's own name and writes the headers the loop's store stage reads.
func TestProxyCache_LuaNames(t *testing.T) {
	if !strings.Contains(cacheStatusLua, `local NS = "`+cacheStatusFilter+`"`) {
		t.Errorf("the status script's namespace is not %q", cacheStatusFilter)
	}
	if !strings.Contains(cacheSHA256Lua, "local function sha256(") {
		t.Error("no sha256 function for the status script")
	}
}
