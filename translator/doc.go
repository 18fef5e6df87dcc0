// Package translator turns one consistent store snapshot (plus the DNS
// answers the control plane resolved) into Envoy v3 resources. It is a pure
// function: no I/O, no globals, deterministic output sorted by name, so that
// it can be golden-tested. Kong semantics → Envoy fields live here and only
// here.
//
// Entry points:
//   - FromSnapshot reads the entities of a store snapshot into an Input;
//   - Translate builds the whole configuration, best effort (see
//     EntityError);
//   - Endpoints and EndpointsFromSnapshot rebuild one cluster's
//     ClusterLoadAssignment, for target-only changes;
//   - UpstreamClusterName, ServiceClusterName, UpstreamClusterPrefix and
//     ParseClusterName map between entities and cluster names (the naming
//     scheme is documented in names.go);
//   - Hostnames and TargetHostnames say which names need DNS answers;
//     HealthOverride is the precedence of manual health overrides.
//
// A translation first plans each route (plan.go: its service, cluster and
// effective plugins by Kong's precedence, plugins.go), then builds protos
// from the plans. The HTTP filter chain is one ordered table
// (httpfilters.go, the router last); a plugin is one file implementing
// httpFilter plus one line there.
//
// One file per resource kind: listener.go (the HTTP connection manager),
// route.go with route_match.go, route_action.go, pathjoin.go, priority.go
// and hosts.go (the route configuration), cluster.go with balancing.go
// (Kong's algorithms), healthcheck.go and hc_transport.go (active and
// passive checks, TLS sockets), endpoint.go. Every default we override is
// in defaults.go. docs/load-balancing.md explains the balancing and health
// mappings to users.
//
// translator imports store (for the entity types) and Envoy protos; never
// xds, admin, net/http or gRPC.
package translator
