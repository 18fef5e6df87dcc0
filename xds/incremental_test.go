package xds

import (
	"bytes"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
)

func TestValidateRoutes_OnlyNewRoutes(t *testing.T) {
	ok := func(prefix string) *routev3.Route {
		return &routev3.Route{
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "c"}}},
		}
	}
	a, b := ok("/a"), ok("/b")
	rc := &routev3.RouteConfiguration{Name: "kong", VirtualHosts: []*routev3.VirtualHost{{Name: "*", Domains: []string{"*"}, Routes: []*routev3.Route{a, b}}}}
	p := &publisher{}
	if err := p.validateRoutes(rc); err != nil {
		t.Fatal(err)
	}
	if len(p.validRoutes["kong"]) != 2 || len(rc.VirtualHosts) != 1 || len(rc.VirtualHosts[0].Routes) != 2 {
		t.Fatalf("validated %d routes; configuration left with %v", len(p.validRoutes["kong"]), rc)
	}
	bad := &routev3.Route{} // no match: invalid
	rc.VirtualHosts[0].Routes = append(rc.VirtualHosts[0].Routes, bad)
	if err := p.validateRoutes(rc); err == nil {
		t.Fatal("a new invalid route passed")
	}
	// The virtual host's own fields are still checked.
	rc.VirtualHosts[0].Routes = []*routev3.Route{a}
	rc.VirtualHosts[0].Domains = nil
	if err := p.validateRoutes(rc); err == nil {
		t.Fatal("a virtual host without domains passed")
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
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(rc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.marshalRoutes(rc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: spliced bytes differ from proto.Marshal (%d vs %d bytes)", step, len(got), len(want))
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
