package translator

import (
	"cmp"
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// Route layout
//
// Kong ranks every route of the listener in one list (priority.go) and
// takes the first whose conditions all match, the host being one condition
// among others. Envoy picks one virtual host by the Host header first, and
// never falls back to another virtual host, so routes without hosts (which
// Kong falls back to) would have to be copied into every host's virtual
// host: hosts × routes Envoy routes. The route table avoids that:
//
//   - when every route has hosts, or none has, each domain gets a virtual
//     host holding, in Kong's order, the routes of every host pattern that
//     covers it (coveringPatterns): Envoy's per-host lookup does the host
//     condition, and nothing is copied but a wildcard host's routes into
//     the exact hosts it covers;
//   - when both kinds exist, one virtual host holds every route once, in
//     Kong's order, a route with hosts carrying its host as an :authority
//     header condition (one Envoy route per host pattern). The list is then
//     exactly Kong's, and the config grows as hosts + routes.
//
// Envoy 1.40 was checked for a construct that keeps per-host lookup and
// still falls back once: a virtual host's matcher tree (exact_match_map on
// :authority) falls through to its on_no_match when a nested matcher_list
// matches nothing, but not when the selected action is a RouteList, and
// the map compares hosts case-sensitively, so every route condition would
// have to be rewritten as matcher predicates and the Host lowercased;
// docs/decisions.md has the details.

// routeTable holds the ranked entries of one listener by domain, each list
// in Kong's priority order, and all of them in one list for the single
// virtual host layout. It is built once per translation, or kept and
// changed entry by entry by an Incremental.
type routeTable struct {
	name     string // the RouteConfiguration's
	byDomain map[string][]*routeEntry
	all      []placedEntry // every (entry, domain), in Kong's order
	hosted   int           // placed entries with a domain other than "*"

	// Rendering caches, so that an Incremental's one-route change rebuilds
	// only the virtual hosts it touches (the others keep their pointers):
	// per-host virtual hosts by domain with the domains changed since they
	// were built, and the single virtual host.
	vhosts map[string]*routev3.VirtualHost
	dirty  map[string]bool
	// order and ordered are the last per-host render: its domains, sorted,
	// and their virtual hosts (nil until the first; see renderExactChanges).
	order       []string
	ordered     []*routev3.VirtualHost
	shown       handout[*routev3.VirtualHost] // copies of ordered handed out
	single      *routev3.VirtualHost
	singleDirty bool
	// retry and retryOneHost are Kong's default retries for a virtual
	// host, on another endpoint or (none of its routes can reach one:
	// retryFor) without the previous_hosts predicate, which then changes
	// nothing and costs Envoy an extension to build per virtual host and
	// one to allocate per request.
	retry, retryOneHost *routev3.RetryPolicy
	hosts               map[string]*routev3.HeaderMatcher // one shared host condition per domain
	// flat holds, per domain, its entries' routes end to end (the route
	// list of its virtual host when no other pattern covers it), and
	// flatAll those of every placed entry (the single virtual host's),
	// patched by add and remove once built (route_flat.go); nil until a
	// render needs them, dropped by a bulk place.
	flat    map[string]*flatRoutes
	flatAll *flatRoutes
}

// hostMatcher returns the shared host condition of domain.
func (rt *routeTable) hostMatcher(domain string) *routev3.HeaderMatcher {
	m := rt.hosts[domain]
	if m == nil {
		m = authorityMatcher(domain)
		rt.hosts[domain] = m
	}
	return m
}

// placedEntry is one entry in one domain.
type placedEntry struct {
	e      *routeEntry
	domain string
}

func comparePlaced(a, b placedEntry) int {
	return cmp.Or(a.e.prio.compare(b.e.prio), cmp.Compare(a.domain, b.domain))
}

func compareEntries(a, b *routeEntry) int { return a.prio.compare(b.prio) }

func newRouteTable(name string, routes []*translatedRoute) *routeTable {
	rt := &routeTable{
		name:     name,
		byDomain: map[string][]*routeEntry{}, vhosts: map[string]*routev3.VirtualHost{}, dirty: map[string]bool{},
		singleDirty: true, retry: vhostRetryPolicy(), retryOneHost: oneHostRetryPolicy(), hosts: map[string]*routev3.HeaderMatcher{},
		flat: map[string]*flatRoutes{},
	}
	for _, tr := range routes {
		for _, d := range tr.domains {
			rt.byDomain[d] = append(rt.byDomain[d], tr.entries...)
			for _, e := range tr.entries {
				rt.all = append(rt.all, placedEntry{e, d})
			}
			if d != catchAllDomain {
				rt.hosted += len(tr.entries)
			}
		}
	}
	for _, entries := range rt.byDomain {
		slices.SortFunc(entries, compareEntries)
	}
	slices.SortFunc(rt.all, comparePlaced)
	return rt
}

// add places tr's entries, keeping every list sorted.
func (rt *routeTable) add(tr *translatedRoute) {
	for _, d := range tr.domains {
		rt.dirty[d], rt.singleDirty = true, true
		for _, e := range tr.entries {
			list := rt.byDomain[d]
			i, _ := slices.BinarySearchFunc(list, e, compareEntries)
			rt.byDomain[d] = slices.Insert(list, i, e)
			if f := rt.flat[d]; f != nil {
				f.insert(i, e.routes, e.otherHost)
			}
			p := placedEntry{e, d}
			j, _ := slices.BinarySearchFunc(rt.all, p, comparePlaced)
			rt.all = slices.Insert(rt.all, j, p)
			if rt.flatAll != nil {
				rt.flatAll.insert(j, e.routesIn(d, rt.hostMatcher), e.otherHost)
			}
			if d != catchAllDomain {
				rt.hosted++
			}
		}
	}
}

// isBulk reports whether n changes to a list of size items are many enough
// to redo the list in one pass (a sort, a filter, a full render) rather
// than patch it n times: more than 64 and more than a sixteenth of it.
func isBulk(n, size int) bool { return n > max(64, size/16) }

// place adds trs: one by one when they are few, else appended and each
// list sorted once. Each add shifts the sorted lists: 50,000 routes that
// reach an empty table out of Kong's order (a file of UUIDs) cost ~0.7 s of
// shifting, a sort ~50 ms. Priorities are a total order, so both give the
// same lists.
func (rt *routeTable) place(trs []*translatedRoute) {
	if !isBulk(len(trs), len(rt.all)) {
		for _, tr := range trs {
			rt.add(tr)
		}
		return
	}
	touched := map[string]bool{}
	for _, tr := range trs {
		for _, d := range tr.domains {
			rt.dirty[d], rt.singleDirty = true, true
			touched[d] = true
			rt.byDomain[d] = append(rt.byDomain[d], tr.entries...)
			for _, e := range tr.entries {
				rt.all = append(rt.all, placedEntry{e, d})
			}
			if d != catchAllDomain {
				rt.hosted += len(tr.entries)
			}
		}
	}
	for d := range touched {
		slices.SortFunc(rt.byDomain[d], compareEntries)
		delete(rt.flat, d)
	}
	slices.SortFunc(rt.all, comparePlaced)
	rt.flatAll = nil
}

// unplace takes trs out: one by one when they are few, else every list
// they touch filtered once (each remove shifts the lists: 15,000 of
// 50,000 routes changed in one file cost ~1 s of shifting).
func (rt *routeTable) unplace(trs []*translatedRoute) {
	if !isBulk(len(trs), len(rt.all)) {
		for _, tr := range trs {
			rt.remove(tr)
		}
		return
	}
	gone := map[*routeEntry]bool{}
	touched := map[string]bool{}
	for _, tr := range trs {
		for _, e := range tr.entries {
			gone[e] = true
		}
		for _, d := range tr.domains {
			touched[d] = true
		}
	}
	for d := range touched {
		rt.dirty[d], rt.singleDirty = true, true
		delete(rt.flat, d)
		list := slices.DeleteFunc(rt.byDomain[d], func(e *routeEntry) bool { return gone[e] })
		if len(list) == 0 {
			delete(rt.byDomain, d)
			delete(rt.hosts, d)
		} else {
			rt.byDomain[d] = list
		}
	}
	rt.all = slices.DeleteFunc(rt.all, func(p placedEntry) bool {
		if !gone[p.e] {
			return false
		}
		if p.domain != catchAllDomain {
			rt.hosted--
		}
		return true
	})
	rt.flatAll = nil
}

// remove takes out what add placed for tr.
func (rt *routeTable) remove(tr *translatedRoute) {
	for _, d := range tr.domains {
		rt.dirty[d], rt.singleDirty = true, true
		for _, e := range tr.entries {
			list := rt.byDomain[d]
			if i, found := slices.BinarySearchFunc(list, e, compareEntries); found && list[i] == e {
				list = slices.Delete(list, i, i+1)
				if f := rt.flat[d]; f != nil {
					f.delete(i, e.otherHost)
				}
			}
			if len(list) == 0 {
				delete(rt.byDomain, d)
				delete(rt.hosts, d)
				delete(rt.flat, d)
			} else {
				rt.byDomain[d] = list
			}
			p := placedEntry{e, d}
			if j, found := slices.BinarySearchFunc(rt.all, p, comparePlaced); found && rt.all[j].e == e {
				rt.all = slices.Delete(rt.all, j, j+1)
				if rt.flatAll != nil {
					rt.flatAll.delete(j, e.otherHost)
				}
			}
			if d != catchAllDomain {
				rt.hosted--
			}
		}
	}
}

// build renders the table as the listener's RouteConfiguration, in the
// single virtual host layout when routes with and without hosts coexist.
func (rt *routeTable) build() *routev3.RouteConfiguration {
	return rt.render(len(rt.byDomain[catchAllDomain]) > 0 && rt.hosted > 0)
}

// render builds the RouteConfiguration in the chosen layout; both give
// Kong's choice for every request (TestRouteLayouts_Envoy). Virtual hosts
// whose routes did not change since the last render are reused.
func (rt *routeTable) render(single bool) *routev3.RouteConfiguration {
	rc := &routev3.RouteConfiguration{
		Name:                rt.name,
		RequestHeadersToAdd: forwardedHeaders(),
		// use_remote_address makes Envoy add this for external clients;
		// Kong's upstreams never see it.
		RequestHeadersToRemove: []string{"x-envoy-external-address"},
		TypedPerFilterConfig:   routeConfigFilterDefaults(),
	}
	if single {
		if rt.single == nil || rt.singleDirty {
			if rt.flatAll == nil {
				rt.flatAll = newFlatRoutes(len(rt.all), func(i int) ([]*routev3.Route, bool) {
					p := rt.all[i]
					return p.e.routesIn(p.domain, rt.hostMatcher), p.e.otherHost
				})
			}
			vh := &routev3.VirtualHost{Name: catchAllDomain, Domains: []string{catchAllDomain}, RetryPolicy: rt.retryOneHost}
			vh.Routes = rt.flatAll.snapshot()
			if rt.flatAll.other > 0 {
				vh.RetryPolicy = rt.retry
			}
			rt.single, rt.singleDirty = vh, false
		}
		rc.VirtualHosts = []*routev3.VirtualHost{rt.single}
		return rc
	}

	if vhs, ok := rt.renderExactChanges(); ok {
		rc.VirtualHosts = vhs
		return rc
	}
	domains := make([]string, 0, len(rt.byDomain))
	for d := range rt.byDomain {
		domains = append(domains, d)
	}
	slices.Sort(domains)
	vhosts := make(map[string]*routev3.VirtualHost, len(domains))
	for _, d := range domains {
		patterns := coveringPatterns(d)
		vh := rt.vhosts[d]
		for _, p := range patterns {
			if rt.dirty[p] {
				vh = nil
				break
			}
		}
		if vh == nil {
			vh = rt.virtualHost(d, patterns)
		}
		vhosts[d] = vh
		rc.VirtualHosts = append(rc.VirtualHosts, vh)
	}
	rt.vhosts, rt.dirty = vhosts, map[string]bool{}
	rt.order, rt.ordered = domains, slices.Clone(rc.VirtualHosts)
	return rc
}

// renderExactChanges is the per-host layout after changes to exact hosts
// only (a route with a host of its own added, changed or removed): such a
// domain's virtual host is the only one holding its routes, so only it is
// re-built and the sorted list is patched in place, instead of sorting and
// visiting every domain (50,000 of them in the benchmark) per change. ok
// is false when the full pass is needed: nothing rendered yet, or a
// wildcard or catch-all pattern changed (it covers other domains).
func (rt *routeTable) renderExactChanges() (vhs []*routev3.VirtualHost, ok bool) {
	// Each patched domain costs a shift of the sorted lists: past a
	// sixteenth of them (a first translation, a bulk load) one sort is
	// cheaper. The first translation at 50,000 one-host routes spent ~1 s
	// inserting domain by domain.
	if rt.order == nil || isBulk(len(rt.dirty), len(rt.order)) {
		return nil, false
	}
	for d := range rt.dirty {
		if kindOf(d) != domainExact {
			return nil, false
		}
	}
	for d := range rt.dirty {
		i, found := slices.BinarySearch(rt.order, d)
		switch {
		case len(rt.byDomain[d]) > 0:
			vh := rt.virtualHost(d, coveringPatterns(d))
			rt.vhosts[d] = vh
			if found {
				rt.ordered[i] = vh
			} else {
				rt.order = slices.Insert(rt.order, i, d)
				rt.ordered = slices.Insert(rt.ordered, i, vh)
			}
		case found:
			delete(rt.vhosts, d)
			rt.order = slices.Delete(rt.order, i, i+1)
			rt.ordered = slices.Delete(rt.ordered, i, i+1)
		}
	}
	rt.resetDirty()
	// A copy: the configuration handed out must not change under its
	// holder when the next change patches the list.
	return rt.shown.copyOf(rt.ordered), true
}

// resetDirty empties the changed-domain set. A map keeps the room it
// once needed, and ranging over it costs that room: a set that held many
// domains is replaced, not cleared (ranging over a cleared one that had
// held 50,000 took ~175 µs of every later change).
func (rt *routeTable) resetDirty() {
	if len(rt.dirty) > 64 {
		rt.dirty = map[string]bool{}
		return
	}
	clear(rt.dirty)
}

// virtualHost builds domain d's virtual host from the routes of the
// patterns covering it, in Kong's order.
func (rt *routeTable) virtualHost(d string, patterns []string) *routev3.VirtualHost {
	var lists [][]*routeEntry
	var only string // the one pattern with routes, if only one has
	for _, pattern := range patterns {
		if entries := rt.byDomain[pattern]; len(entries) > 0 {
			lists = append(lists, entries)
			only = pattern
		}
	}
	vh := &routev3.VirtualHost{Name: d, Domains: []string{d}, RetryPolicy: rt.retryOneHost}
	if len(lists) == 1 {
		f := rt.flat[only]
		if f == nil {
			entries := lists[0]
			f = newFlatRoutes(len(entries), func(i int) ([]*routev3.Route, bool) { return entries[i].routes, entries[i].otherHost })
			rt.flat[only] = f
		}
		vh.Routes = f.snapshot()
		if f.other > 0 {
			vh.RetryPolicy = rt.retry
		}
		return vh
	}
	entries := mergeSorted(lists)
	// Sized once: the catch-all virtual host of a hostless configuration
	// is rebuilt on every change, and growing its list by appends made
	// ~2 MB of garbage per change at 50,000 routes.
	n := 0
	for _, e := range entries {
		n += len(e.routes)
	}
	vh.Routes = make([]*routev3.Route, 0, n)
	for _, e := range entries {
		vh.Routes = append(vh.Routes, e.routes...)
		if e.otherHost {
			vh.RetryPolicy = rt.retry
		}
	}
	return vh
}

// routesIn returns the entry's Envoy routes for the single virtual host
// layout: as they are for "*", else with the domain as an :authority
// condition, built once per entry and domain.
func (e *routeEntry) routesIn(domain string, hostMatcher func(string) *routev3.HeaderMatcher) []*routev3.Route {
	if domain == catchAllDomain {
		return e.routes
	}
	for _, s := range e.scoped {
		if s.domain == domain {
			return s.routes
		}
	}
	m := hostMatcher(domain)
	rs := make([]*routev3.Route, len(e.routes))
	for i, r := range e.routes {
		rs[i] = withHeaderFirst(r, m)
	}
	e.scoped = append(e.scoped, scopedRoutes{domain, rs})
	return rs
}

// scopedRoutes are an entry's routes with one domain's host condition.
type scopedRoutes struct {
	domain string
	routes []*routev3.Route
}

// authorityMatcher matches the Host (the HCM has stripped its port)
// against a domain the way Envoy matches virtual-host domains:
// case-insensitively, "*.example.com" as a suffix and "example.*" as a
// prefix.
func authorityMatcher(domain string) *routev3.HeaderMatcher {
	sm := &matcherv3.StringMatcher{IgnoreCase: true}
	switch kindOf(domain) {
	case domainSuffix:
		sm.MatchPattern = &matcherv3.StringMatcher_Suffix{Suffix: domain[1:]}
	case domainPrefix:
		sm.MatchPattern = &matcherv3.StringMatcher_Prefix{Prefix: domain[:len(domain)-1]}
	default:
		sm.MatchPattern = &matcherv3.StringMatcher_Exact{Exact: domain}
	}
	return stringHeader(":authority", sm)
}

// withHeaderFirst returns a shallow copy of r whose match tests m before
// its own header conditions (the Host compare is the cheapest way to skip
// another host's route). Sub-messages are shared with r, read-only.
// TestWithHeaderFirst_CopiesEveryField fails when the Envoy protos gain a
// field this copy does not know.
func withHeaderFirst(r *routev3.Route, m *routev3.HeaderMatcher) *routev3.Route {
	rm := r.GetMatch()
	match := &routev3.RouteMatch{
		PathSpecifier:   rm.PathSpecifier,
		CaseSensitive:   rm.CaseSensitive,
		RuntimeFraction: rm.RuntimeFraction,
		Headers:         append([]*routev3.HeaderMatcher{m}, rm.GetHeaders()...),
		QueryParameters: rm.QueryParameters,
		Cookies:         rm.Cookies,
		Grpc:            rm.Grpc,
		TlsContext:      rm.TlsContext,
		DynamicMetadata: rm.DynamicMetadata,
		FilterState:     rm.FilterState,
	}
	return &routev3.Route{
		Name:                       r.Name,
		Match:                      match,
		Action:                     r.Action,
		Metadata:                   r.Metadata,
		Decorator:                  r.Decorator,
		TypedPerFilterConfig:       r.TypedPerFilterConfig,
		RequestHeadersToAdd:        r.RequestHeadersToAdd,
		RequestHeadersToRemove:     r.RequestHeadersToRemove,
		ResponseHeadersToAdd:       r.ResponseHeadersToAdd,
		ResponseHeadersToRemove:    r.ResponseHeadersToRemove,
		Tracing:                    r.Tracing,
		PerRequestBufferLimitBytes: r.PerRequestBufferLimitBytes, //nolint:staticcheck // deprecated, but copied as set
		StatPrefix:                 r.StatPrefix,
		RequestBodyBufferLimit:     r.RequestBodyBufferLimit,
		RouteSpecifiers:            r.RouteSpecifiers,
	}
}

// mergeSorted merges lists already in priority order, dropping an entry
// that appears twice (a route with two hosts covering one virtual host).
func mergeSorted(lists [][]*routeEntry) []*routeEntry {
	if len(lists) == 1 {
		return lists[0]
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]*routeEntry, 0, n)
	idx := make([]int, len(lists))
	for {
		best := -1
		for i, l := range lists {
			if idx[i] == len(l) {
				continue
			}
			if best < 0 || l[idx[i]].prio.before(lists[best][idx[best]].prio) {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		e := lists[best][idx[best]]
		idx[best]++
		if len(out) == 0 || out[len(out)-1] != e {
			out = append(out, e)
		}
	}
}
