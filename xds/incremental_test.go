package xds

import (
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
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
	if len(p.validRoutes) != 2 || len(rc.VirtualHosts) != 1 || len(rc.VirtualHosts[0].Routes) != 2 {
		t.Fatalf("validated %d routes; configuration left with %v", len(p.validRoutes), rc)
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
