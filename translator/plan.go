package translator

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// The plan step resolves Kong's semantics once per route, before any Envoy
// proto is built: which service the route forwards to, which cluster that
// is, and which plugin instances apply (Kong's precedence, plugins.go).
// Builders (route.go, the HTTP filters of httpfilters.go) read the plan and
// never look entities up again, so that a plugin's filter sees the same
// resolution as the route it patches.

// clusterPlan is one Envoy cluster to emit: an upstream seen through one
// service variant, or a service with a plain host.
type clusterPlan struct {
	name     string
	variant  variant
	upstream *store.Upstream // nil for a service cluster
	service  *store.Service  // set for a service cluster
	cluster  *clusterv3.Cluster
	err      error // why the cluster could not be built (an *EntityError)
}

// oneEndpoint reports whether the cluster has exactly one endpoint
// whatever happens: a service cluster whose host is an IP address. An
// upstream's cluster never counts, even with one target, so that a target
// change never touches the route configuration.
func (p *clusterPlan) oneEndpoint() bool {
	return p.upstream == nil && p.service != nil && !needsDNS(serviceHost(p.service))
}

// routePlan is one Kong route, resolved.
type routePlan struct {
	route *store.Route
	// domains are the virtual-host domains the route lives in
	// (catchAllDomain for a route without hosts), deduplicated.
	domains []string
	// service is nil for a route without one (Kong answers 503).
	service *store.Service
	// cluster is nil when nothing is forwarded: no service, or an
	// https-only route on the plain-HTTP listener.
	cluster *clusterPlan
	// httpsOnly: an https-only route on the plain listener, which answers
	// 426 or redirects (https_redirect_status_code); grpcsOnly: a route
	// whose only protocol is grpcs, there, which answers as Kong does
	// (route_grpcs.go).
	httpsOnly, grpcsOnly bool
	// listener is the listener whose route configuration this is for.
	listener listenerSpec
	// plugins are the plugin instances that apply to every request of the
	// route, one per plugin name, by Kong's precedence (resolvePlugins);
	// perConsumer are the consumer-scoped candidates an auth filter
	// decides between per request. Both are empty until plugins exist.
	plugins     []pluginInstance
	perConsumer []pluginInstance
	// keyAuth holds every consumer's keys (keyauth.go), for the routes a
	// key-auth instance applies to.
	keyAuth *keyAuthData
	// rateLimits is the route's rate-limiting instances, resolved once,
	// and the translation's shared rate-limit configs (ratelimit_apply.go).
	rateLimits rateLimitRoute
}

// planRoute resolves r for listener l; ok is false for a route that is
// left out: not an HTTP route, pointing at a disabled service, unreachable
// on this listener, or broken (then with an error recorded).
//
// On the TLS listener every HTTP route forwards: an https-only one as
// expected, and an http-only one too, as Kong serves it there (Kong/kong
// #8073). On the plain listener an https-only route answers 426 or
// redirects.
func (t *translator) planRoute(r *store.Route, l listenerSpec) (rp *routePlan, ok bool) {
	plainOK, httpsOnly := routeProtocols(r.Protocols)
	if !plainOK && !httpsOnly {
		return nil, false // stream routes (tcp, tls, udp): no stream listener
	}
	if err := t.excluded(r.ID); err != nil {
		t.errs = append(t.errs, routeError(r, err))
		return nil, false
	}
	httpsOnly = httpsOnly && !l.tls
	grpcsOnly := httpsOnly && onlyGRPCS(r.Protocols)
	rp = &routePlan{route: r, httpsOnly: httpsOnly && !grpcsOnly, grpcsOnly: grpcsOnly, listener: l, domains: t.routeDomains(r, l.port)}
	if len(rp.domains) == 0 {
		return nil, false // every host names another port
	}
	if rp.service, rp.cluster, ok = t.routeTarget(r, httpsOnly); !ok {
		return nil, false
	}
	serviceID := ""
	if rp.service != nil {
		serviceID = rp.service.ID
	}
	rp.plugins, rp.perConsumer = resolvePlugins(r.ID, serviceID, t.plugins)
	rp.keyAuth = t.keyAuth
	rp.rateLimits.cache = t.rateLimits
	return rp, true
}

// routeTarget finds the route's service and the cluster it forwards to. A
// route without a service, or one that only redirects to https, needs no
// cluster. ok is false when the route is left out.
func (t *translator) routeTarget(r *store.Route, httpsOnly bool) (svc *store.Service, plan *clusterPlan, ok bool) {
	if r.Service == nil {
		return nil, nil, true
	}
	svc = t.services[r.Service.ID]
	switch {
	case svc == nil:
		t.errs = append(t.errs, routeError(r, fmt.Errorf("service %s does not exist", r.Service.ID)))
		return nil, nil, false
	case !svc.Enabled:
		return nil, nil, false // Kong leaves routes of disabled services out of the router
	case t.excluded(svc.ID) != nil:
		t.errs = append(t.errs, routeError(r, fmt.Errorf("service %s: %w", svc.ID, t.excluded(svc.ID))))
		return nil, nil, false
	case !isHTTPProtocol(svc.Protocol):
		t.errs = append(t.errs, routeError(r, fmt.Errorf("service protocol %q cannot serve an HTTP route", svc.Protocol)))
		return nil, nil, false
	case httpsOnly:
		return svc, nil, true
	}
	plan = t.clusterFor(svc, r.PreserveHost)
	t.lastPlan = plan
	if plan.cluster == nil {
		t.errs = append(t.errs, routeError(r, fmt.Errorf("cluster %s is not available", plan.name)))
		return nil, nil, false
	}
	return svc, plan, true
}
