package translator

import (
	"slices"
	"strings"

	"github.com/switchboard-gw/switchboard/store"
)

// listenerSpec is one proxy listener: the plain one always, the TLS one
// when Options.ProxyTLSPort is set. Each has its own RouteConfiguration,
// because what a route does depends on the listener: an https-only route
// forwards on TLS and answers 426 (or redirects) on plain HTTP, route snis
// only exist on TLS, and a host "h:port" only matches on that port.
type listenerSpec struct {
	name, routeConfig, statPrefix string
	address                       string
	port                          uint32
	tls                           bool
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
