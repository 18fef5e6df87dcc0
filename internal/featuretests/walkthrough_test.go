package featuretests

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// TestFeature_GetStarted runs Kong's Get Started steps (docs/kong-contract.md
// §8) through the Admin API and checks what an Envoy receives at each step:
// the route and its cluster, then the upstream's cluster with both targets,
// and finally that a target's weight change reaches Envoy as endpoints only.
func TestFeature_GetStarted(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run(map[bool]string{false: "sotw", true: "delta"}[delta], func(t *testing.T) {
			t.Parallel()
			e := start(t, delta)
			e.must("POST", "/services", http.StatusCreated, "name", "example_service", "url", "http://127.0.0.1:9")
			e.must("POST", "/services/example_service/routes", http.StatusCreated, "paths[]", "/mock", "name", "example_route")
			e.waitFor("the /mock route", func() bool { return hasPrefixRoute(e, "/mock") })

			e.must("POST", "/upstreams", http.StatusCreated, "name", "example_upstream")
			e.must("POST", "/upstreams/example_upstream/targets", http.StatusCreated, "target", "127.0.0.2:80")
			e.must("POST", "/upstreams/example_upstream/targets", http.StatusCreated, "target", "127.0.0.3:80")
			e.must("PATCH", "/services/example_service", http.StatusOK, "host", "example_upstream")
			cluster := "upstream/example_upstream/http/60000"
			// The service's own cluster goes once nothing uses it (removals are
			// published last), leaving the upstream's.
			e.waitFor("the upstream's cluster alone, with two endpoints", func() bool {
				return routeCluster(e, "/mock") == cluster && len(endpointWeights(e, cluster)) == 2 &&
					len(e.envoy.Versions(resourcev3.ClusterType)) == 1
			})
			if cl := resources[*clusterv3.Cluster](e, resourcev3.ClusterType)[cluster]; cl.GetType() != clusterv3.Cluster_EDS {
				t.Fatalf("cluster %s is %v, want EDS", cluster, cl.GetType())
			}

			// A weight change is endpoints only: no cluster, listener or route
			// response follows it.
			m := e.envoy.Mark()
			e.must("PATCH", "/upstreams/example_upstream/targets/127.0.0.2:80", http.StatusOK, "weight", "7")
			e.waitFor("the new weight", func() bool { return endpointWeights(e, cluster)["127.0.0.2:80"] == 7 })
			for _, r := range e.envoy.Since(m) {
				if r.TypeURL != resourcev3.EndpointType {
					t.Errorf("a target weight change sent %s %v (removed %v)", r.TypeURL, r.Names, r.Removed)
				}
			}
		})
	}
}

// resources returns the simulated Envoy's resources of one type as T.
func resources[T any](e *env, typeURL string) map[string]T {
	e.t.Helper()
	ms, err := e.envoy.Resources(typeURL)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]T{}
	for n, m := range ms {
		if v, ok := m.(T); ok {
			out[n] = v
		}
	}
	return out
}

// routes returns every Envoy route of every route configuration.
func routes(e *env) []*routev3.Route {
	var out []*routev3.Route
	for _, rc := range resources[*routev3.RouteConfiguration](e, resourcev3.RouteType) {
		for _, vh := range rc.GetVirtualHosts() {
			out = append(out, vh.GetRoutes()...)
		}
	}
	return out
}

// hasPrefixRoute reports whether some route matches the path prefix p.
func hasPrefixRoute(e *env, p string) bool {
	return slices.ContainsFunc(routes(e), func(r *routev3.Route) bool { return r.GetMatch().GetPrefix() == p })
}

// routeCluster is the cluster of the first route matching prefix p.
func routeCluster(e *env, p string) string {
	for _, r := range routes(e) {
		if r.GetMatch().GetPrefix() == p {
			return r.GetRoute().GetCluster()
		}
	}
	return ""
}

// endpointWeights is ip:port → load-balancing weight in cluster's
// ClusterLoadAssignment.
func endpointWeights(e *env, cluster string) map[string]uint32 {
	out := map[string]uint32{}
	cla := resources[*endpointv3.ClusterLoadAssignment](e, resourcev3.EndpointType)[cluster]
	for _, l := range cla.GetEndpoints() {
		for _, ep := range l.GetLbEndpoints() {
			sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
			out[fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue())] = ep.GetLoadBalancingWeight().GetValue()
		}
	}
	return out
}
