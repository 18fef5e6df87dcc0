package translator

import (
	"strings"

	"github.com/switchboard-gw/switchboard/store"
)

// maxHeaderCount is where Kong caps the header count when sorting.
const maxHeaderCount = 255

// priority orders Kong routes the way Kong's default router
// (traditional_compatible, kong/router/transform.lua get_priority) does, so
// that Envoy's first-match-wins route list picks the route Kong would pick.
// Kong splits a route with several paths into one matcher per prefix length
// (and one for all its regexes); we go one step further and rank every path
// on its own, which orders the same way.
//
// Fields are compared in declaration order, each one deciding only when all
// before it are equal:
//
//  1. weight: how many of methods, hosts, headers, snis, paths are set
//     (more conditions first);
//  2. plainHosts: hosts set and none of them a wildcard;
//  3. headers: how many headers the route matches (capped at 255);
//  4. regex: a regex path beats a plain one;
//  5. regexPriority: for regex paths, higher regex_priority first;
//  6. length: for plain paths, longer prefixes first;
//  7. createdAt: older routes first (Kong's documented tiebreaker; the ATC
//     router itself falls back to the route id);
//  8. id and pathIndex: make the order total, hence deterministic.
type priority struct {
	weight        int
	plainHosts    bool
	headers       int
	regex         bool
	regexPriority int64
	length        int
	createdAt     int64
	id            string
	pathIndex     int
}

// priorityOf ranks one path of r (p nil: the route has no paths).
func priorityOf(r *store.Route, p *kongPath, pathIndex int) priority {
	pr := priority{createdAt: r.CreatedAt, id: r.ID, pathIndex: pathIndex}
	for _, set := range []bool{len(r.Methods) > 0, len(r.Hosts) > 0, len(r.Headers) > 0, len(r.SNIs) > 0, len(r.Paths) > 0} {
		if set {
			pr.weight++
		}
	}
	// Kong tests for a hosts table, so an empty (not null) hosts set
	// counts as plain-host-only.
	pr.plainHosts = r.Hosts != nil
	for _, h := range r.Hosts {
		if strings.Contains(h, "*") {
			pr.plainHosts = false
			break
		}
	}
	pr.headers = min(len(r.Headers), maxHeaderCount)
	if p != nil {
		if p.isRegex() {
			pr.regex = true
			pr.regexPriority = r.RegexPriority
		} else {
			pr.length = len(p.plain)
		}
	}
	return pr
}

// before reports whether a is evaluated before b.
func (a priority) before(b priority) bool {
	if a.weight != b.weight {
		return a.weight > b.weight
	}
	if a.plainHosts != b.plainHosts {
		return a.plainHosts
	}
	if a.headers != b.headers {
		return a.headers > b.headers
	}
	if a.regex != b.regex {
		return a.regex
	}
	if a.regexPriority != b.regexPriority {
		return a.regexPriority > b.regexPriority
	}
	if a.length != b.length {
		return a.length > b.length
	}
	if a.createdAt != b.createdAt {
		return a.createdAt < b.createdAt
	}
	if a.id != b.id {
		return a.id < b.id
	}
	return a.pathIndex < b.pathIndex
}

// compare is before as a three-way comparison for slices.SortFunc.
func (a priority) compare(b priority) int {
	switch {
	case a.before(b):
		return -1
	case b.before(a):
		return 1
	}
	return 0
}
