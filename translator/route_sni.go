package translator

import (
	"regexp"
	"strings"

	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// sniRouteMatcher matches a route's snis against the connection's SNI (the
// TLS listener's set_filter_state stores it), as Kong 3.9's default router
// (traditional_compatible, kong/router/transform.lua) does: an exact name,
// "*.x" as a suffix ".x" of any depth, "x.*" as a prefix "x." of any depth,
// a trailing dot dropped, several names OR-ed. Without an SNI the state is
// absent and the route does not match. The plain listener ignores snis
// (Kong/kong#6425), so only the TLS route configuration carries this.
func sniRouteMatcher(snis []string) *matcherv3.FilterStateMatcher {
	alts := make([]string, 0, len(snis))
	for _, s := range snis {
		s = strings.TrimSuffix(s, ".")
		switch {
		case strings.HasPrefix(s, "*."):
			alts = append(alts, `.+`+regexp.QuoteMeta(s[1:]))
		case strings.HasSuffix(s, ".*"):
			alts = append(alts, regexp.QuoteMeta(s[:len(s)-1])+`.+`)
		default:
			alts = append(alts, regexp.QuoteMeta(s))
		}
	}
	return &matcherv3.FilterStateMatcher{
		Key: sniFilterStateKey,
		Matcher: &matcherv3.FilterStateMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{
				Regex: `^(?:` + strings.Join(alts, "|") + `)$`,
			}},
		}},
	}
}
