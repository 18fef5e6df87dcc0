package xds

import (
	"fmt"
	"slices"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
)

func TestMarshalRoutes_ValidatesNewProtos(t *testing.T) {
	ok := func(prefix string) *routev3.Route {
		return &routev3.Route{
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "c"}}},
		}
	}
	a, b := ok("/a"), ok("/b")
	rc := &routev3.RouteConfiguration{Name: "kong", VirtualHosts: []*routev3.VirtualHost{{Name: "*", Domains: []string{"*"}, Routes: []*routev3.Route{a, b}}}}
	p := &publisher{}
	if _, err := p.marshalRoutes(rc, true); err != nil {
		t.Fatal(err)
	}
	if len(rc.VirtualHosts) != 1 || len(rc.VirtualHosts[0].Routes) != 2 {
		t.Fatalf("configuration left with %v", rc)
	}
	// The translator builds a new virtual host for any change to one.
	bad := &routev3.Route{} // no match: invalid
	rc.VirtualHosts = []*routev3.VirtualHost{{Name: "*", Domains: []string{"*"}, Routes: []*routev3.Route{a, b, bad}}}
	if _, err := p.marshalRoutes(rc, true); err == nil {
		t.Fatal("a new invalid route passed")
	}
	// The same, in a virtual host large enough for a rope of its own.
	many := []*routev3.Route{}
	for i := range 3 * bigVhostRoutes {
		many = append(many, ok(fmt.Sprintf("/%d", i)))
	}
	rc.VirtualHosts = []*routev3.VirtualHost{{Name: "*", Domains: []string{"*"}, Routes: many}}
	if _, err := p.marshalRoutes(rc, true); err != nil {
		t.Fatal(err)
	}
	rc.VirtualHosts = []*routev3.VirtualHost{{Name: "*", Domains: []string{"*"}, Routes: append(slices.Clone(many), bad)}}
	if _, err := p.marshalRoutes(rc, true); err == nil {
		t.Fatal("a new invalid route passed in a large virtual host")
	}
	// The virtual host's own fields are still checked.
	rc.VirtualHosts = []*routev3.VirtualHost{{Name: "*", Routes: []*routev3.Route{a}}}
	if _, err := p.marshalRoutes(rc, true); err == nil {
		t.Fatal("a virtual host without domains passed")
	}
	// And the configuration's.
	if _, err := p.marshalRoutes(&routev3.RouteConfiguration{Name: "kong", RequestHeadersToRemove: []string{"a\nb"}}, true); err == nil {
		t.Fatal("an invalid configuration passed")
	}
}

// marshalRoutes splices cached route bytes; the result must be exactly
// proto's deterministic marshal, on real translations of varied routes,
// before and after a change.
func TestMarshalRoutes_EqualsProto(t *testing.T) {
	st := newStore(t, walkthrough()...)
	hosted := kongRoute("r2", "hosted", "s1", "/h", "/h2")
	hosted.Hosts = []string{"a.test", "*.b.test"}
	hosted.Methods = []string{"GET", "POST"}
	hosted.Headers = map[string][]string{"x-v": {"1", "2"}}
	apply(t, st, upsertRoute(hosted), upsertRoute(kongRoute("r3", "regex", "s1", "~/items/\\d+$")))
	p := newTestPublisher(st, testTranslator())
	check := func(step string) {
		t.Helper()
		res := p.inc.Resources()
		for _, rc := range res.Routes {
			version := splicedAsProto(t, p, rc, step).version
			// The version depends on the content only: a publisher
			// with nothing cached computes the same one.
			if fresh, _ := (&publisher{}).marshalRoutes(proto.Clone(rc).(*routev3.RouteConfiguration), false); fresh.version != version {
				t.Fatalf("%s: version %s, from scratch %s", step, version, fresh.version)
			}
		}
	}
	mustPublish(t, p, st)
	check("first")
	check("cached")
	apply(t, st, upsertRoute(kongRoute("r1", "example_route", "s1", "/changed")))
	mustPublish(t, p, st)
	check("after a change")
	assertCacheIsFullTranslation(t, p, st)
}

// The route configuration's version follows its content, order included
// (Envoy matches routes in order).
func TestMarshalRoutes_VersionFollowsContent(t *testing.T) {
	route := func(prefix string) *routev3.Route {
		return &routev3.Route{Name: prefix, Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}}}
	}
	a, b := route("/a"), route("/b")
	rc := func(vhs ...*routev3.VirtualHost) *routev3.RouteConfiguration {
		return &routev3.RouteConfiguration{Name: "kong", VirtualHosts: vhs}
	}
	vh := func(name string, rs ...*routev3.Route) *routev3.VirtualHost {
		return &routev3.VirtualHost{Name: name, Domains: []string{name}, Routes: rs}
	}
	p := &publisher{}
	version := func(c *routev3.RouteConfiguration) string {
		t.Helper()
		w, err := p.marshalRoutes(c, false)
		if err != nil {
			t.Fatal(err)
		}
		return w.version
	}
	seen := map[string]string{}
	for name, c := range map[string]*routev3.RouteConfiguration{
		"ab":        rc(vh("*", a, b)),
		"ba":        rc(vh("*", b, a)),
		"a":         rc(vh("*", a)),
		"x,y":       rc(vh("x", a), vh("y", b)),
		"y,x":       rc(vh("y", b), vh("x", a)),
		"x(ab)":     rc(vh("x", a, b)),
		"x(ab),y()": rc(vh("x", a, b), vh("y")),
	} {
		v := version(c)
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s share version %s", name, other, v)
		}
		seen[v] = name
		if again := version(proto.Clone(c).(*routev3.RouteConfiguration)); again != v {
			t.Errorf("%s: version %s, then %s for a copy", name, v, again)
		}
	}
}

// A replaced virtual host must not stay pinned by the ropes: in the single
// virtual host layout each one holds every route.
func TestMarshalRoutes_DropsReplacedVirtualHosts(t *testing.T) {
	route := &routev3.Route{
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "c"}}},
	}
	p := &publisher{}
	for range 200 {
		rc := &routev3.RouteConfiguration{Name: "kong", VirtualHosts: []*routev3.VirtualHost{{Name: "*", Domains: []string{"*"}, Routes: []*routev3.Route{route}}}}
		if _, err := p.marshalRoutes(rc, true); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(p.routeBytes["kong"].vhosts.at); n > 1 {
		t.Fatalf("%d virtual hosts' bytes kept for a configuration of one", n)
	}
}
