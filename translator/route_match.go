package translator

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/switchboard-gw/switchboard/store"
)

// headerMatchers turns a route's methods and headers into Envoy header
// matchers (all must match, as Kong ANDs its conditions). Hosts are handled
// by the virtual host, snis by a filter-state match on the TLS listener
// (route_sni.go).
func headerMatchers(r *store.Route) ([]*routev3.HeaderMatcher, error) {
	var out []*routev3.HeaderMatcher
	if len(r.Methods) > 0 {
		out = append(out, methodMatcher(r.Methods))
	}
	names := make([]string, 0, len(r.Headers))
	for name := range r.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := r.Headers[name]
		if len(values) == 0 {
			continue
		}
		m, err := headerMatcher(strings.ToLower(name), values)
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", name, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// methodMatcher matches any of Kong's methods (already upper case) on
// :method, as one exact match or one regex for several.
func methodMatcher(methods []string) *routev3.HeaderMatcher {
	if len(methods) == 1 {
		return stringHeader(":method", &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Exact{Exact: methods[0]},
		})
	}
	quoted := make([]string, len(methods))
	for i, m := range methods {
		quoted[i] = regexp.QuoteMeta(m)
	}
	return stringHeader(":method", safeRegex("^("+strings.Join(quoted, "|")+")$"))
}

// headerMatcher matches one Kong header condition: any of values (OR). Kong
// compares lower-cased values, so exact values match case-insensitively; a
// value starting with "~*" is a case-insensitive regex that, like Kong's
// regex operator, may match anywhere in the header value.
func headerMatcher(name string, values []string) (*routev3.HeaderMatcher, error) {
	if len(values) == 1 && !strings.HasPrefix(values[0], "~*") {
		return stringHeader(name, &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Exact{Exact: values[0]},
			IgnoreCase:   true,
		}), nil
	}
	alts := make([]string, len(values))
	for i, v := range values {
		re, isRegex := strings.CutPrefix(v, "~*")
		if !isRegex {
			alts[i] = regexp.QuoteMeta(v)
			continue
		}
		if _, err := regexp.Compile(re); err != nil {
			return nil, fmt.Errorf("invalid regex %q: %w", re, err)
		}
		alts[i] = ".*(?:" + re + ").*"
	}
	// Envoy's safe_regex must match the whole value and ignores
	// ignore_case, hence the explicit (?i) and the .* around regexes.
	return stringHeader(name, safeRegex("(?i)(?:"+strings.Join(alts, "|")+")")), nil
}

func stringHeader(name string, m *matcherv3.StringMatcher) *routev3.HeaderMatcher {
	return &routev3.HeaderMatcher{
		Name:                 name,
		HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: m},
	}
}

func safeRegex(re string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
		SafeRegex: &matcherv3.RegexMatcher{Regex: re},
	}}
}
