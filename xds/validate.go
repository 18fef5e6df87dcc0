package xds

import (
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/switchboard-gw/switchboard/translator"
)

// sanitize runs ValidateAll on every resource, so that nothing Envoy would
// reject on its schema is pushed (a NACK stalls that type for every Envoy),
// and repairs what it can instead of dropping the whole configuration for
// one bad entity:
//
//   - an invalid cluster is left out, with its ClusterLoadAssignment; routes
//     to it answer 503 (no cluster) until it is fixed;
//   - an invalid ClusterLoadAssignment becomes an empty one of the same
//     name: the cluster stays (and keeps its health state) with no hosts;
//   - an invalid route configuration or listener keeps the version last
//     published under that name, or is left out if there is none.
//
// The returned error joins one error per problem; the resources are always
// usable (and are checked for consistency afterwards).
//
// prevListener and prevRoute return the last published resource of a name,
// or nil; nil functions mean there is none. held reports that a resource is
// byte for byte what the cache holds, so validated when it was published:
// only the others are validated (a change costs O(change), not O(config));
// nil means validate everything.
func sanitize(res *translator.Resources, held func(typeURL, name string) bool, prevListener func(string) *listenerv3.Listener, prevRoute func(string) *routev3.RouteConfiguration) (*translator.Resources, error) {
	if held == nil {
		held = func(string, string) bool { return false }
	}
	validate := func(typeURL, name string, m interface{ ValidateAll() error }) error {
		if held(typeURL, name) {
			return nil
		}
		return m.ValidateAll()
	}
	var errs []error
	out := &translator.Resources{ClusterUpstream: res.ClusterUpstream}

	dropped := map[string]bool{} // EDS names of left-out clusters
	for _, c := range res.Clusters {
		if err := validate(resourcev3.ClusterType, c.GetName(), c); err != nil {
			errs = append(errs, fmt.Errorf("cluster %q: %w", c.GetName(), err))
			dropped[edsName(c)] = true
			continue
		}
		out.Clusters = append(out.Clusters, c)
	}
	for _, cla := range res.Endpoints {
		if dropped[cla.GetClusterName()] {
			continue
		}
		if err := validate(resourcev3.EndpointType, cla.GetClusterName(), cla); err != nil {
			errs = append(errs, fmt.Errorf("endpoints %q: %w", cla.GetClusterName(), err))
			cla = &endpointv3.ClusterLoadAssignment{ClusterName: cla.GetClusterName()}
		}
		out.Endpoints = append(out.Endpoints, cla)
	}
	for _, rc := range res.Routes {
		if err := validate(resourcev3.RouteType, rc.GetName(), rc); err != nil {
			errs = append(errs, fmt.Errorf("route configuration %q: %w", rc.GetName(), err))
			if prev := call(prevRoute, rc.GetName()); prev != nil {
				out.Routes = append(out.Routes, prev)
			}
			continue
		}
		out.Routes = append(out.Routes, rc)
	}
	for _, s := range res.Secrets {
		// The error names the field that failed, never a key.
		if err := validate(resourcev3.SecretType, s.GetName(), s); err != nil {
			errs = append(errs, fmt.Errorf("secret %q: %w", s.GetName(), err))
			continue
		}
		out.Secrets = append(out.Secrets, s)
	}
	for _, l := range res.Listeners {
		if err := validate(resourcev3.ListenerType, l.GetName(), l); err != nil {
			errs = append(errs, fmt.Errorf("listener %q: %w", l.GetName(), err))
			if prev := call(prevListener, l.GetName()); prev != nil {
				out.Listeners = append(out.Listeners, prev)
			}
			continue
		}
		out.Listeners = append(out.Listeners, l)
	}
	return out, errors.Join(errs...)
}

// validateEndpoints is sanitize for the endpoints-only path.
func validateEndpoints(clas []*endpointv3.ClusterLoadAssignment) ([]*endpointv3.ClusterLoadAssignment, error) {
	var errs []error
	out := make([]*endpointv3.ClusterLoadAssignment, 0, len(clas))
	for _, cla := range clas {
		if err := cla.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("endpoints %q: %w", cla.GetClusterName(), err))
			cla = &endpointv3.ClusterLoadAssignment{ClusterName: cla.GetClusterName()}
		}
		out = append(out, cla)
	}
	return out, errors.Join(errs...)
}

// consistent checks what go-control-plane's Snapshot.Consistent checks
// (one ClusterLoadAssignment per EDS cluster and no extra, every RDS name a
// listener references exists), plus unique names per type,
// which the cache would otherwise collapse silently.
func consistent(res *translator.Resources) error {
	snap := &cachev3.Snapshot{}
	groups := []struct {
		typ   types.ResponseType
		items []types.Resource
	}{
		{types.Cluster, asResources(res.Clusters)},
		{types.Endpoint, asResources(res.Endpoints)},
		{types.Listener, asResources(res.Listeners)},
		{types.Route, asResources(res.Routes)},
	}
	for _, g := range groups {
		snap.Resources[g.typ] = cachev3.NewResources("", g.items)
		if n := len(snap.Resources[g.typ].Items); n != len(g.items) {
			url, _ := cachev3.GetResponseTypeURL(g.typ)
			return fmt.Errorf("consistency: %d %s resources share a name", len(g.items)-n, typeName(url))
		}
	}
	// A route configuration no listener names is fine: proxy-tls while the
	// TLS listener shares the plain table, and the TLS cache loop's, which
	// the bootstrap names (translator/listeners.go, Sharing). Every name a
	// listener references must still exist.
	routes := snap.Resources[types.Route].Items
	refs := cachev3.GetResourceReferences(snap.Resources[types.Listener].Items)[resourcev3.RouteType]
	for name := range routes {
		if !refs[name] {
			delete(routes, name)
		}
	}
	if err := snap.Consistent(); err != nil {
		return fmt.Errorf("consistency: %w", err)
	}
	// Snapshot.Consistent does not look at secrets (kong-tls.md §6.1).
	secrets := make(map[string]bool, len(res.Secrets))
	for _, s := range res.Secrets {
		if secrets[s.GetName()] {
			return fmt.Errorf("consistency: two secrets named %q", s.GetName())
		}
		secrets[s.GetName()] = true
	}
	if err := secretRefsOf(res).missing(secrets); err != nil {
		return fmt.Errorf("consistency: %w", err)
	}
	return nil
}

// edsName is the name a cluster's ClusterLoadAssignment must carry.
func edsName(c *clusterv3.Cluster) string {
	if n := c.GetEdsClusterConfig().GetServiceName(); n != "" {
		return n
	}
	return c.GetName()
}

func asResources[T types.Resource](in []T) []types.Resource {
	out := make([]types.Resource, len(in))
	for i, r := range in {
		out[i] = r
	}
	return out
}

// call is f(name), or nil when f is nil.
func call[T any](f func(string) *T, name string) *T {
	if f == nil {
		return nil
	}
	return f(name)
}
