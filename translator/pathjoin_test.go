package translator

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

func strp(s string) *string { return &s }

// TestKongUpstreamPath pins the reference join to Kong's documented
// path_handling=v0 table (Admin API docs, "path_handling") and the
// walkthrough's examples.
func TestKongUpstreamPath(t *testing.T) {
	for _, tc := range []struct {
		servicePath *string
		routePath   string
		request     string
		strip       bool
		want        string
	}{
		// Kong's table, v0 rows.
		{strp("/s"), "/fv0", "/fv0req", false, "/s/fv0req"},
		{strp("/s"), "/fv0", "/fv0req", true, "/s/req"},
		{strp("/s"), "/tv0/", "/tv0/req", false, "/s/tv0/req"},
		{strp("/s"), "/tv0/", "/tv0/req", true, "/s/req"},
		{strp("/s/"), "/fv0", "/fv0req", false, "/s/fv0req"},
		{strp("/s/"), "/fv0", "/fv0req", true, "/s/req"},
		{strp("/s/"), "/tv0/", "/tv0/req", false, "/s/tv0/req"},
		{strp("/s/"), "/tv0/", "/tv0/req", true, "/s/req"},
		// Get Started: GET /mock/anything with route /mock.
		{nil, "/mock", "/mock/anything", true, "/anything"},
		{nil, "/mock", "/mock", true, "/"},
		{nil, "/mock", "/mock/", true, "/"},
		{nil, "/mock", "/mockbin", true, "/bin"},
		{nil, "/mock", "/mock/headers", false, "/mock/headers"},
		// The request equal to the route path.
		{strp("/s"), "/mock", "/mock", true, "/s"},
		{strp("/s/"), "/mock", "/mock", true, "/s"},
		{strp("/s"), "/mock/", "/mock/", true, "/s/"},
		{strp("/s"), "/", "/", true, "/s"},
		{strp("/s/"), "/", "/", true, "/s/"},
		{strp("/s"), "/", "/", false, "/s"},
	} {
		name := fmt.Sprintf("%v+%s+%s/strip=%v", deref(tc.servicePath), tc.routePath, tc.request, tc.strip)
		t.Run(name, func(t *testing.T) {
			matched := tc.routePath
			if got := kongUpstreamPath(tc.request, &matched, tc.strip, tc.servicePath); got != tc.want {
				t.Errorf("kongUpstreamPath = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPathRules runs the Envoy routes pathRules emits through a model of
// Envoy's matching and regex_rewrite (RE2 GlobalReplace; Go's regexp has
// RE2's syntax and leftmost-first semantics) and compares every result with
// Kong's join, over route paths, service paths and requests that the route
// matches. It never yields "//".
func TestPathRules(t *testing.T) {
	routePaths := []string{"/", "/mock", "/mock/", "/a/b", "/p%20q", `~/re/\d+`, `~/users/(?<id>\d+)/?`, `~/x|/y`}
	servicePaths := []*string{nil, strp("/"), strp("/s"), strp("/s/"), strp("/a/b"), strp("/a/b/")}
	suffixes := []string{"", "/", "/x", "x", "/x/y/", "x/", "/x.y"}
	for _, raw := range routePaths {
		p, err := parseKongPath(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range servicePaths {
			for _, strip := range []bool{true, false} {
				rules := pathRules(&p, strip, sp)
				for _, req := range requestsFor(p, suffixes) {
					matched, ok := kongMatch(p, req)
					if !ok {
						continue
					}
					want := kongUpstreamPath(req, &matched, strip, sp)
					got, ok := envoyForward(t, rules, req)
					if !ok {
						t.Errorf("%s (service path %v, strip %v): no Envoy rule matches %q", raw, deref(sp), strip, req)
						continue
					}
					if got != want {
						t.Errorf("%s (service path %v, strip %v): %q → %q, Kong gives %q", raw, deref(sp), strip, req, got, want)
					}
					if strings.Contains(got, "//") {
						t.Errorf("%s: %q → %q has an empty segment", raw, req, got)
					}
				}
			}
		}
	}
	// A route without paths forwards the whole path after service.path.
	for _, sp := range servicePaths {
		rules := pathRules(nil, true, sp)
		for _, req := range []string{"/", "/x", "/x/"} {
			got, _ := envoyForward(t, rules, req)
			if want := kongUpstreamPath(req, nil, true, sp); got != want {
				t.Errorf("no paths, service path %v: %q → %q, Kong gives %q", deref(sp), req, got, want)
			}
		}
	}
}

// requestsFor builds request paths a route path should see.
func requestsFor(p kongPath, suffixes []string) []string {
	var bases []string
	if p.isRegex() {
		bases = []string{"/re/12", "/users/7", "/users/7/", "/x", "/y"}
	} else {
		bases = []string{p.plain}
	}
	var out []string
	for _, b := range bases {
		for _, s := range suffixes {
			r := b + s
			if !strings.Contains(r, "//") { // Envoy merges slashes first
				out = append(out, r)
			}
		}
	}
	return out
}

// kongMatch is Kong's path match: a prefix, or a regex anchored at the start
// (leftmost-first), returning the matched part.
func kongMatch(p kongPath, req string) (string, bool) {
	if !p.isRegex() {
		return p.plain, strings.HasPrefix(req, p.plain)
	}
	m := regexp.MustCompile("^(?:" + p.re + ")").FindString(req)
	return m, regexp.MustCompile("^(?:" + p.re + ")").MatchString(req)
}

// envoyForward applies the first matching rule as Envoy would.
func envoyForward(t *testing.T, rules []pathRule, req string) (string, bool) {
	t.Helper()
	for _, r := range rules {
		var ok bool
		switch ps := r.match.PathSpecifier.(type) {
		case *routev3.RouteMatch_Prefix:
			ok = strings.HasPrefix(req, ps.Prefix)
		case *routev3.RouteMatch_Path:
			ok = req == ps.Path
		case *routev3.RouteMatch_SafeRegex:
			ok = regexp.MustCompile("^(?:" + ps.SafeRegex.Regex + ")$").MatchString(req)
		default:
			t.Fatalf("unexpected path specifier %T", ps)
		}
		if !ok {
			continue
		}
		switch {
		case r.prefixRewrite != "":
			// Only used with exact path matches: the whole path is swapped.
			return r.prefixRewrite, true
		case r.regexRewrite != nil:
			return globalReplace(r.regexRewrite, req), true
		}
		return req, true
	}
	return "", false
}

// globalReplace models RE2::GlobalReplace with an RE2 rewrite string.
func globalReplace(rw *matcherv3.RegexMatchAndSubstitute, s string) string {
	re := regexp.MustCompile(rw.Pattern.Regex)
	tmpl := regexp.MustCompile(`\\(\\|[0-9])`).ReplaceAllStringFunc(
		strings.ReplaceAll(rw.Substitution, "$", "$$"),
		func(m string) string {
			if m == `\\` {
				return `\`
			}
			return "${" + m[1:] + "}"
		})
	return re.ReplaceAllString(s, tmpl)
}

func TestParseKongPath(t *testing.T) {
	for _, tc := range []struct {
		raw, re, err string
	}{
		{raw: `~/users/(?<id>\d+)`, re: `/users/(?P<id>\d+)`},
		{raw: `~/a(?P<x>b)`, re: `/a(?P<x>b)`},
		{raw: `~/(?<=a)b`, err: "invalid"},
		{raw: `~`, err: "empty regex"},
		{raw: `~/(`, err: "missing closing )"},
	} {
		p, err := parseKongPath(tc.raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseKongPath(%q) error = %v, want %q", tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil || p.re != tc.re {
			t.Errorf("parseKongPath(%q) = %q, %v; want %q", tc.raw, p.re, err, tc.re)
		}
	}
}
