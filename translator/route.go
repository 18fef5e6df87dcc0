package translator

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// translatedRoute is one Kong route ready to be placed: the virtual-host
// domains it belongs to ("*" for a route without hosts) and one entry per
// path, each holding the Envoy route(s) for that path.
type translatedRoute struct {
	domains []string
	entries []*routeEntry
}

// routeEntry is one ranked unit of the route list. Its Envoy routes are
// shared by every virtual host that holds it; never mutate them.
type routeEntry struct {
	prio   priority
	routes []*routev3.Route
	// otherHost says a route of the entry inherits the virtual host's
	// retries and forwards to a cluster that may have more than one
	// endpoint: its virtual host then retries on another one
	// (routeTable.retryFor).
	otherHost bool
	// scoped caches routes with a host condition, one per domain (routes
	// have few hosts), for the single virtual host layout (routesIn).
	scoped []scopedRoutes
}

// translateRoute returns nil for a route that is left out (planRoute) or
// has no usable path.
func (t *translator) translateRoute(r *store.Route, l listenerSpec) *translatedRoute {
	rp, ok := t.planRoute(r, l)
	if !ok {
		return nil
	}
	headers, err := headerMatchers(r)
	if err != nil {
		t.errs = append(t.errs, routeError(r, err))
		return nil
	}
	var sni []*matcherv3.FilterStateMatcher
	if l.tls && len(r.SNIs) > 0 {
		sni = []*matcherv3.FilterStateMatcher{sniRouteMatcher(r.SNIs)}
	}

	paths, errs := parsePaths(r.Paths)
	out := &translatedRoute{domains: rp.domains}
	for i, p := range paths {
		routes, err := t.envoyRoutes(rp, p, headers, sni)
		if err != nil {
			errs = append(errs, fmt.Errorf("path %q: invalid Envoy route: %w", displayPath(p), err))
			continue
		}
		out.entries = append(out.entries, &routeEntry{prio: priorityOf(r, p, i), routes: routes, otherHost: retriesOnOtherHost(rp.cluster, routes)})
	}
	if len(errs) > 0 {
		t.errs = append(t.errs, routeError(r, errors.Join(errs...)))
	}
	if len(out.entries) == 0 {
		return nil
	}
	return out
}

// retriesOnOtherHost reports whether one of routes inherits the virtual
// host's retry policy and forwards to plan's cluster, which may have more
// than one endpoint.
func retriesOnOtherHost(plan *clusterPlan, routes []*routev3.Route) bool {
	if plan == nil || plan.oneEndpoint() {
		return false
	}
	return slices.ContainsFunc(routes, func(r *routev3.Route) bool {
		return r.GetRoute() != nil && r.GetRoute().GetRetryPolicy() == nil
	})
}

// parsePaths parses a route's paths; a route without paths gets one nil
// path (match everything). Broken paths are reported and skipped.
func parsePaths(raw []string) ([]*kongPath, []error) {
	if len(raw) == 0 {
		return []*kongPath{nil}, nil
	}
	paths := make([]*kongPath, 0, len(raw))
	var errs []error
	for _, s := range raw {
		p, err := parseKongPath(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("path %q: %w", s, err))
			continue
		}
		paths = append(paths, &p)
	}
	return paths, errs
}

// envoyRoutes builds the Envoy route(s) of one path of a Kong route (two
// when pathRules needs an exact rule first), each validated.
func (t *translator) envoyRoutes(rp *routePlan, p *kongPath, headers []*routev3.HeaderMatcher, sni []*matcherv3.FilterStateMatcher) ([]*routev3.Route, error) {
	r, svc, plan := rp.route, rp.service, rp.cluster
	var servicePath *string
	if svc != nil {
		servicePath = svc.Path
	}
	strip := r.StripPath && plan != nil
	var out []*routev3.Route
	for _, rule := range pathRules(p, strip, servicePath) {
		if rp.grpcsOnly {
			out = append(out, grpcsOnlyRoutes(routeName(r), rule.match, headers)...)
			continue
		}
		er := &routev3.Route{Name: routeName(r), Match: rule.match}
		er.Match.Headers = headers
		er.Match.FilterState = sni
		switch {
		case rp.httpsOnly:
			setHTTPSOnly(er, r)
		case svc == nil:
			setDirectJSON(er, 503, msgNoService)
		default:
			er.Action = &routev3.Route_Route{Route: t.routeAction(r, svc, plan, p, rule, authenticates(rp))}
			// Kong tells the upstream which prefix it stripped.
			if strip && p != nil && !p.isRegex() {
				er.RequestHeadersToAdd = []*corev3.HeaderValueOption{
					setHeader("x-forwarded-prefix", escapeFormatter(p.plain)),
				}
			}
		}
		for _, f := range httpFilters {
			if err := f.patchRoute(er, rp); err != nil {
				return nil, fmt.Errorf("filter %s: %w", f.name(), err)
			}
		}
		if err := er.ValidateAll(); err != nil {
			return nil, err
		}
		out = append(out, er)
	}
	return out, nil
}

// routeProtocols reports whether the route serves plain HTTP (http, or
// grpc over h2c) and whether it is https-only: on the plain listener such a
// route answers as Kong does over http, with 426 or a redirect
// (https_redirect_status_code).
func routeProtocols(protocols []string) (plainOK, httpsOnly bool) {
	if len(protocols) == 0 {
		return true, false // Kong's default, ["http", "https"]
	}
	var tls bool
	for _, p := range protocols {
		switch p {
		case "http", "grpc":
			plainOK = true
		case "https", "grpcs":
			tls = true
		}
	}
	return plainOK, tls && !plainOK
}

func isHTTPProtocol(p string) bool {
	switch p {
	case "http", "https", "grpc", "grpcs":
		return true
	}
	return false
}

// routeDomains maps the route's hosts to virtual-host domains of the
// listener on port, deduplicated.
func (t *translator) routeDomains(r *store.Route, port uint32) []string {
	if len(r.Hosts) == 0 {
		return []string{catchAllDomain}
	}
	var out []string
	for _, h := range r.Hosts {
		if d, ok := routeDomain(h, port); ok && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func routeName(r *store.Route) string {
	if r.Name != nil && *r.Name != "" {
		return *r.Name
	}
	return r.ID
}

func displayPath(p *kongPath) string {
	if p == nil {
		return "/"
	}
	return p.raw
}

// forwardedHeaders are the X-Forwarded-* headers Kong sets that Envoy does
// not set itself (use_remote_address already gives X-Forwarded-For and
// X-Forwarded-Proto, append_x_forwarded_port X-Forwarded-Port). They are
// evaluated before the route's host and path rewrites, so they carry what
// the client sent: X-Forwarded-Host the Host without its port (the HCM
// strips it, as nginx's $host does), X-Forwarded-Path the path without the
// query string.
func forwardedHeaders() []*corev3.HeaderValueOption {
	return []*corev3.HeaderValueOption{
		setHeader("x-forwarded-host", "%REQ(:AUTHORITY)%"),
		setHeader("x-forwarded-path", "%PATH(NQ)%"),
		setHeader("x-real-ip", "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"),
	}
}

// setHeader overwrites (or adds) a header; Kong replaces the X-Forwarded-*
// headers of untrusted clients. value is an Envoy format string.
func setHeader(name, value string) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{
		Header:       &corev3.HeaderValue{Key: name, Value: value},
		AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}
}

// escapeFormatter makes a literal safe inside an Envoy format string.
func escapeFormatter(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// setDirectJSON makes er answer itself with a Kong JSON error body.
func setDirectJSON(er *routev3.Route, status uint32, message string) {
	er.Action = &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
		Status: status,
		Body:   &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: jsonMessage(message)}},
	}}
	er.ResponseHeadersToAdd = append(er.ResponseHeadersToAdd, setHeader("content-type", jsonContentType))
}

// setHTTPSOnly answers an https-only route reached over plain HTTP as Kong
// does: 426 "Please use HTTPS protocol", or a redirect to https with the
// route's https_redirect_status_code.
func setHTTPSOnly(er *routev3.Route, r *store.Route) {
	codes := map[int64]routev3.RedirectAction_RedirectResponseCode{
		301: routev3.RedirectAction_MOVED_PERMANENTLY,
		302: routev3.RedirectAction_FOUND,
		307: routev3.RedirectAction_TEMPORARY_REDIRECT,
		308: routev3.RedirectAction_PERMANENT_REDIRECT,
	}
	if code, ok := codes[r.HTTPSRedirectStatusCode]; ok {
		er.Action = &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{
			SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true},
			ResponseCode:           code,
		}}
		return
	}
	// Kong also sends "Connection: Upgrade" and "Upgrade: TLS/1.2,
	// HTTP/1.1"; Envoy strips hop-by-hop headers from its own replies.
	setDirectJSON(er, 426, msgUseHTTPS)
}

// jsonMessage renders Kong's {"message": ...} body. Messages are constants
// without characters that need JSON escaping.
func jsonMessage(msg string) string { return `{"message":"` + msg + `"}` }
