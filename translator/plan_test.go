package translator

import (
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/google/go-cmp/cmp"
)

// TestHTTPFilters_Order checks the rules of the filter table: unique names,
// the router last, and every listener built with the table's chain.
func TestHTTPFilters_Order(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range httpFilters {
		if seen[f.name()] {
			t.Errorf("filter %s registered twice", f.name())
		}
		seen[f.name()] = true
	}
	if last := httpFilters[len(httpFilters)-1].name(); last != wellknown.Router {
		t.Errorf("last filter is %s, want the router", last)
	}
	res, err := Translate(&Input{})
	if err != nil {
		t.Fatal(err)
	}
	hcm := listenerHCM(t, res.Listeners[0])
	var names []string
	for _, f := range hcm.GetHttpFilters() {
		names = append(names, f.GetName())
	}
	var want []string
	for _, f := range httpFilters {
		want = append(want, f.name())
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("HCM chain (-table +listener):\n%s", diff)
	}
}

// TestResolvePlugins checks Kong's precedence (docs/kong-contract.md §9): one
// instance per name, the most specific enabled scope, consumer-scoped
// instances kept aside when more specific than the static one.
func TestResolvePlugins(t *testing.T) {
	all := []pluginInstance{
		{id: "g", name: "rate-limiting", enabled: true},
		{id: "s", name: "rate-limiting", serviceID: "s1", enabled: true},
		{id: "r-off", name: "rate-limiting", routeID: "r1", enabled: false},
		{id: "rs", name: "proxy-cache", routeID: "r1", serviceID: "s1", enabled: true},
		{id: "r", name: "proxy-cache", routeID: "r1", enabled: true},
		{id: "c", name: "rate-limiting", consumerID: "c1", enabled: true},
		{id: "rc", name: "proxy-cache", routeID: "r1", consumerID: "c1", enabled: true},
		{id: "other-route", name: "key-auth", routeID: "r2", enabled: true},
		{id: "other-service", name: "key-auth", serviceID: "s2", enabled: true},
	}
	ids := func(ps []pluginInstance) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.id)
		}
		return out
	}
	static, perConsumer := resolvePlugins("r1", "s1", all)
	// proxy-cache: route+service (4) beats route (6); rate-limiting: the
	// disabled route instance does not count, so the service one (7).
	if diff := cmp.Diff([]string{"rs", "s"}, ids(static)); diff != "" {
		t.Errorf("static (-want +got):\n%s", diff)
	}
	// route+consumer (2) beats route+service (4); consumer (5) beats
	// service (7).
	if diff := cmp.Diff([]string{"rc", "c"}, ids(perConsumer)); diff != "" {
		t.Errorf("per consumer (-want +got):\n%s", diff)
	}
	static, _ = resolvePlugins("r9", "", all)
	if diff := cmp.Diff([]string{"g"}, ids(static)); diff != "" {
		t.Errorf("route without service (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		p    pluginInstance
		rank int
	}{
		{pluginInstance{routeID: "r", serviceID: "s", consumerID: "c"}, 1},
		{pluginInstance{routeID: "r", consumerID: "c"}, 2},
		{pluginInstance{serviceID: "s", consumerID: "c"}, 3},
		{pluginInstance{routeID: "r", serviceID: "s"}, 4},
		{pluginInstance{consumerID: "c"}, 5},
		{pluginInstance{routeID: "r"}, 6},
		{pluginInstance{serviceID: "s"}, 7},
		{pluginInstance{}, 8},
	} {
		if got := tc.p.scopeRank(); got != tc.rank {
			t.Errorf("scopeRank(%+v) = %d, want %d", tc.p, got, tc.rank)
		}
	}
}

// listenerHCM unpacks the HTTP connection manager of l's first filter.
func listenerHCM(t *testing.T, l *listenerv3.Listener) *hcmv3.HttpConnectionManager {
	t.Helper()
	hcm := &hcmv3.HttpConnectionManager{}
	if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	return hcm
}
