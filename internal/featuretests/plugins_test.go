package featuretests

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// mockRoute is the first Envoy route matching prefix /mock, or nil.
func mockRoute(e *env) *routev3.Route {
	for _, r := range routes(e) {
		if r.GetMatch().GetPrefix() == "/mock" {
			return r
		}
	}
	return nil
}

// perRoute decodes the /mock route's per-filter config of filter into m;
// false when the route has none.
func perRoute(e *env, filter string, m proto.Message) bool {
	a := mockRoute(e).GetTypedPerFilterConfig()[filter]
	if a == nil {
		return false
	}
	fc := &routev3.FilterConfig{}
	if a.UnmarshalTo(fc) != nil || fc.GetConfig().UnmarshalTo(m) != nil {
		return false
	}
	return true
}

// bucket is the size of the /mock route's first rate-limit bucket, 0
// without a limiter.
func bucket(e *env) uint32 {
	lrl := &localrlv3.LocalRateLimit{}
	if !perRoute(e, "envoy.filters.http.local_ratelimit.minute", lrl) || len(lrl.GetDescriptors()) == 0 {
		return 0
	}
	return lrl.GetDescriptors()[0].GetTokenBucket().GetMaxTokens()
}

// keys are the keys the /mock route accepts, nil without key-auth.
func keys(e *env) []string {
	ka := &luav3.LuaPerRoute{}
	if !perRoute(e, "switchboard.key_auth", ka) {
		return nil
	}
	out := []string{}
	for k := range ka.GetFilterContext().GetFields() {
		if key, ok := strings.CutPrefix(k, "key:"); ok {
			out = append(out, key)
		}
	}
	return out
}

// cacheMeta is a field of the /mock route's proxy-cache metadata, "" without
// an instance.
func cacheMeta(e *env, field string) string {
	return mockRoute(e).GetMetadata().GetFilterMetadata()["switchboard.proxy_cache"].GetFields()[field].GetStringValue()
}

// noPluginConfig reports whether the /mock route has no per-filter config
// left: with no plugin on it, it only inherits the route configuration's
// defaults (the cache off).
func noPluginConfig(e *env) bool {
	r := mockRoute(e)
	return r != nil && len(r.GetTypedPerFilterConfig()) == 0
}

// TestFeature_PluginsNeverTouchTheListener is D2 of the plugin contract:
// creating, changing and deleting plugins, consumers and credentials
// changes what the route table tells Envoy and never the Listener, so no
// connection is drained.
func TestFeature_PluginsNeverTouchTheListener(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run(map[bool]string{false: "sotw", true: "delta"}[delta], func(t *testing.T) {
			t.Parallel()
			e := start(t, delta)
			e.must("POST", "/services", http.StatusCreated, "name", "example_service", "url", "http://127.0.0.1:9")
			e.must("POST", "/services/example_service/routes", http.StatusCreated, "paths[]", "/mock", "name", "example_route")
			e.waitFor("the /mock route", func() bool { return mockRoute(e) != nil })
			listeners := maps.Clone(e.envoy.Versions(resourcev3.ListenerType))
			if len(listeners) == 0 {
				t.Fatal("no listener")
			}
			m := e.envoy.Mark()

			rl := e.must("POST", "/plugins", http.StatusCreated, "name", "rate-limiting", "config.minute", "5", "config.policy", "local").JSON()["id"].(string)
			e.waitFor("a 5/minute limiter on /mock", func() bool { return bucket(e) == 5 })
			e.must("PATCH", "/plugins/"+rl, http.StatusOK, "config.minute", "7")
			e.waitFor("the limit changed to 7", func() bool { return bucket(e) == 7 })

			e.must("POST", "/consumers", http.StatusCreated, "username", "luka")
			e.must("POST", "/plugins", http.StatusCreated, "name", "key-auth")
			e.waitFor("key-auth on /mock", func() bool { return keys(e) != nil })
			e.must("POST", "/consumers/luka/key-auth", http.StatusCreated, "key", "top-secret-key")
			e.waitFor("the new key", func() bool { return slices.Contains(keys(e), "top-secret-key") })
			e.must("DELETE", "/consumers/luka/key-auth/top-secret-key", http.StatusNoContent)
			e.waitFor("the key revoked", func() bool { k := keys(e); return k != nil && !slices.Contains(k, "top-secret-key") })
			e.must("POST", "/consumers/luka/key-auth", http.StatusCreated, "key", "second-key")
			e.waitFor("another key", func() bool { return slices.Contains(keys(e), "second-key") })
			e.must("DELETE", "/consumers/luka", http.StatusNoContent)
			e.waitFor("the consumer's key gone", func() bool { k := keys(e); return k != nil && !slices.Contains(k, "second-key") })

			pc := e.must("POST", "/plugins", http.StatusCreated, "name", "proxy-cache", "config.strategy", "memory",
				"config.cache_ttl", "30").JSON()["id"].(string)
			e.waitFor("proxy-cache on /mock", func() bool { return strings.HasPrefix(cacheMeta(e, "store"), "30 ") })
			gen := cacheMeta(e, "gen")
			e.must("PATCH", "/plugins/"+pc, http.StatusOK, "config.cache_ttl", "5")
			e.waitFor("the ttl changed to 5", func() bool { return strings.HasPrefix(cacheMeta(e, "store"), "5 ") })
			e.waitFor("a new cache generation", func() bool { g := cacheMeta(e, "gen"); return g != "" && g != gen })
			gen = cacheMeta(e, "gen")
			e.must("DELETE", "/proxy-cache", http.StatusNoContent)
			e.waitFor("the purge: another generation", func() bool { g := cacheMeta(e, "gen"); return g != "" && g != gen })
			e.must("DELETE", "/plugins/"+pc, http.StatusNoContent)
			e.waitFor("proxy-cache off /mock", func() bool { return cacheMeta(e, "gen") == "" })

			e.must("PATCH", "/plugins/"+rl, http.StatusOK, "enabled", "false")
			e.waitFor("the limiter off", func() bool { return bucket(e) == 0 })
			e.must("DELETE", "/plugins/"+rl, http.StatusNoContent)
			for _, p := range e.must("GET", "/plugins", http.StatusOK).JSON()["data"].([]any) {
				e.must("DELETE", "/plugins/"+p.(map[string]any)["id"].(string), http.StatusNoContent)
			}
			e.waitFor("no plugin filter on /mock", func() bool { return noPluginConfig(e) })

			for _, r := range e.envoy.Since(m) {
				if r.TypeURL == resourcev3.ListenerType {
					t.Errorf("a plugin/consumer/credential change sent a Listener response %v (removed %v)", r.Names, r.Removed)
				}
			}
			if got := e.envoy.Versions(resourcev3.ListenerType); !maps.Equal(got, listeners) {
				t.Errorf("listener versions moved: %v → %v", listeners, got)
			}
		})
	}
}
