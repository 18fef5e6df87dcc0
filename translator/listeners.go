package translator

import (
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// listenerSpec is one proxy listener: the plain one always, the TLS one
// when Options.ProxyTLSPort is set. Each has its own RouteConfiguration
// (the TLS listener shares the plain one while they are equal: Sharing
// below), because what a route may do depends on the listener: an https-only route
// forwards on TLS and answers 426 (or redirects) on plain HTTP, route snis
// only exist on TLS, and a host "h:port" only matches on that port.
type listenerSpec struct {
	name, routeConfig, statPrefix string
	address                       string
	port                          uint32
	tls                           bool
}

// Sharing. While every route is listener-neutral the TLS table equals the
// plain one but for its name, and the TLS listener's HCM names the plain
// listener's route configuration: Envoy builds one RouteConfiguration per
// change instead of two, on the main thread that every route change waits
// for (at 5,000 hostless routes a new route answered in half the time).
// proxy-tls is still published with the TLS table. When a first
// non-neutral route ends the sharing, the TLS HCM names proxy-tls again and
// Envoy either subscribes to it afresh (the listener then warms until the
// table arrives: no window with an empty or stale one) or still holds a
// current copy (a draining filter chain kept the subscription). That only
// holds if nothing else subscribes to proxy-tls while it is shared, which
// is why the TLS proxy-cache loop has its own route configuration
// (TLSCacheLoopRouteConfigName).

// hcmRouteConfig is the route configuration spec's HCM names: its own, or
// the plain listener's while the tables are shared.
func (s listenerSpec) hcmRouteConfig(shared bool) string {
	if s.tls && shared {
		return RouteConfigName
	}
	return s.routeConfig
}

// sharesRoutes reports whether the TLS listener can use the plain
// listener's route configuration: every route translates the same on both.
// Routes no listener serves (stream routes) count too; they are rare and
// this keeps the answer a function of the routes alone.
func sharesRoutes(routes []*store.Route) bool {
	for _, r := range routes {
		if !listenerNeutral(r) {
			return false
		}
	}
	return true
}

// cacheLoopInUse reports whether the TLS proxy-cache loop needs the TLS
// table: some proxy-cache instance is enabled. Plugin writes translate
// everything again (Changes.All), so an Incremental computes it once per
// reset.
func cacheLoopInUse(plugins []*store.Plugin) bool {
	for _, p := range plugins {
		if p.Name == pluginProxyCache && p.Enabled {
			return true
		}
	}
	return false
}

// cacheLoopRoutes is the TLS cache loop's route configuration: tlsTable
// renamed while inUse, else an empty one (nothing loops there).
func cacheLoopRoutes(tlsTable *routev3.RouteConfiguration, inUse bool) *routev3.RouteConfiguration {
	if !inUse || tlsTable == nil {
		return &routev3.RouteConfiguration{Name: TLSCacheLoopRouteConfigName}
	}
	return renamedRouteConfig(tlsTable, TLSCacheLoopRouteConfigName)
}

// renamedRouteConfig is rc under another name, sharing every sub-message
// (protos are read-only once built). It copies the fields routeTable.render
// sets (TestTranslate's checkSharing fails when render sets another).
func renamedRouteConfig(rc *routev3.RouteConfiguration, name string) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{
		Name:                   name,
		VirtualHosts:           rc.VirtualHosts,
		RequestHeadersToAdd:    rc.RequestHeadersToAdd,
		RequestHeadersToRemove: rc.RequestHeadersToRemove,
		TypedPerFilterConfig:   rc.TypedPerFilterConfig,
	}
}

// listenerNeutral reports whether r translates the same on every listener:
// not https- or grpcs-only (which answer locally on plain HTTP), no snis
// (matched on TLS only), no host with a port (kept on that port's listener
// only). Most routes are; an Incremental translates them once.
func listenerNeutral(r *store.Route) bool {
	if _, httpsOnly := routeProtocols(r.Protocols); httpsOnly || len(r.SNIs) > 0 {
		return false
	}
	return !slices.ContainsFunc(r.Hosts, func(h string) bool { return strings.Contains(h, ":") })
}

// listenerSpecs lists the listeners of o (withDefaults applied), the plain
// one first.
func (o Options) listenerSpecs() []listenerSpec {
	out := []listenerSpec{{
		name: ListenerName, routeConfig: RouteConfigName, statPrefix: statPrefix,
		address: o.ProxyAddress, port: o.ProxyPort,
	}}
	if o.ProxyTLSPort != 0 {
		out = append(out, listenerSpec{
			name: TLSListenerName, routeConfig: TLSRouteConfigName, statPrefix: tlsStatPrefix,
			address: o.ProxyTLSAddress, port: o.ProxyTLSPort, tls: true,
		})
	}
	return out
}
