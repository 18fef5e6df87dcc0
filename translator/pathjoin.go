package translator

import (
	"errors"
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// kongPath is one element of a route's paths: a plain prefix ("/mock") or a
// Kong regex ("~/users/(?<id>\d+)"), with the regex already converted to RE2
// syntax and checked.
type kongPath struct {
	raw   string // as stored, for messages and X-Forwarded-Prefix
	plain string // the prefix for a plain path, else ""
	re    string // the RE2 pattern (without "~") for a regex path, else ""
}

func (p kongPath) isRegex() bool { return p.re != "" }

// kongUpstreamPath is Kong's path_handling=v0 join (kong/router/utils.lua,
// get_upstream_uri): the path the backend receives for reqPath, when the
// route's strip_path flag is strip, matched is the part of reqPath the route
// path matched (nil when the route has no paths), and servicePath is the
// service's path (nil means "/"). It is the reference the Envoy rewrites
// below are tested against, and computes the constant result for a request
// that is exactly the route path.
func kongUpstreamPath(reqPath string, matched *string, strip bool, servicePath *string) string {
	base := "/"
	if servicePath != nil && *servicePath != "" {
		base = *servicePath
	}
	var postfix string
	if strip && matched != nil {
		postfix = reqPath[len(*matched):]
	} else {
		postfix = reqPath[1:]
	}
	postfix = sanitizePostfix(postfix)

	if strings.HasSuffix(base, "/") {
		if !strip {
			return base + reqPath[1:]
		}
		switch {
		case postfix == "" && base == "/":
			return "/"
		case postfix == "" && strings.HasSuffix(reqPath, "/"):
			return base
		case postfix == "":
			return base[:len(base)-1]
		case postfix[0] == '/':
			return base[:len(base)-1] + postfix
		default:
			return base + postfix
		}
	}
	if !strip {
		if reqPath == "/" {
			return base
		}
		return base + reqPath
	}
	switch {
	case postfix == "" && len(reqPath) > 1 && strings.HasSuffix(reqPath, "/"):
		return base + "/"
	case postfix == "":
		return base
	case postfix[0] == '/':
		return base + postfix
	default:
		return base + "/" + postfix
	}
}

// sanitizePostfix is Kong's sanitize_uri_postfix: dot segments left at the
// start of the remainder are dropped.
func sanitizePostfix(p string) string {
	switch {
	case p == "." || p == "..":
		return ""
	case strings.HasPrefix(p, "./"):
		return p[2:]
	case strings.HasPrefix(p, "../"):
		return p[3:]
	}
	return p
}

// pathRule is one Envoy route's share of a Kong path: what it matches and how
// it rewrites. A Kong path needs two Envoy routes when the request that is
// exactly the route path must be rewritten differently from the rest and a
// single RE2 substitution cannot tell the two apart (it has no conditionals);
// the exact rule then comes first.
type pathRule struct {
	match         *routev3.RouteMatch // path specifier only
	regexRewrite  *matcherv3.RegexMatchAndSubstitute
	prefixRewrite string
}

// pathRules turns a Kong path (nil: the route has no paths) with the route's
// strip_path and the service's path into Envoy match + rewrite pairs that
// reproduce kongUpstreamPath. Envoy's regex_rewrite runs RE2 GlobalReplace
// on the path without its query string; every pattern here is anchored with
// "^" so it applies once.
func pathRules(p *kongPath, strip bool, servicePath *string) []pathRule {
	base := "/"
	if servicePath != nil && *servicePath != "" {
		base = *servicePath
	}
	trimmed := strings.TrimSuffix(base, "/") // "" for "/"

	if p == nil {
		return []pathRule{{match: prefixMatch("/"), regexRewrite: baseRewrite(base)}}
	}
	if !strip {
		return []pathRule{{match: pathMatch(p), regexRewrite: baseRewrite(base)}}
	}

	if !p.isRegex() {
		// The rest of the path joins as <base without "/"> + "/" + <rest
		// without its leading "/">, which one pattern expresses; only the
		// request equal to the route path may differ (Kong drops the
		// trailing "/" of base, or does not add one).
		// A prefix ending in "/" leaves no "/" to swallow (Envoy has
		// merged duplicate slashes), and "/" onto base "/" is the identity.
		pattern := "^" + regexp.QuoteMeta(p.plain)
		if !strings.HasSuffix(p.plain, "/") {
			pattern += "/?"
		}
		general := pathRule{match: prefixMatch(p.plain)}
		if p.plain != "/" || trimmed != "" {
			general.regexRewrite = rewrite(pattern, escapeSubst(trimmed)+"/")
		}
		exact := kongUpstreamPath(p.plain, &p.plain, true, servicePath)
		if exact == trimmed+"/" {
			return []pathRule{general}
		}
		return []pathRule{
			{match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: p.plain}}, prefixRewrite: exact},
			general,
		}
	}

	general := pathRule{
		match:        pathMatch(p),
		regexRewrite: rewrite("^(?:"+p.re+")/?", escapeSubst(trimmed)+"/"),
	}
	if base == "/" {
		return []pathRule{general}
	}
	// A regex that matched the whole path leaves an empty remainder: Kong
	// then keeps a trailing "/" only if the request had one (and, for a base
	// without a trailing "/", the request is longer than "/").
	exactPattern := "^.*?(/?)$"
	if !strings.HasSuffix(base, "/") {
		exactPattern = "^(?:/$|.*?(/?)$)"
	}
	exact := pathRule{
		match:        regexMatch("(?:" + p.re + ")"),
		regexRewrite: rewrite(exactPattern, escapeSubst(trimmed)+`\1`),
	}
	return []pathRule{exact, general}
}

// baseRewrite prepends the service path to the whole request path (strip_path
// false, or a route without paths): base + path without its leading "/"
// when base ends in "/", else base + path, except that "/" becomes base.
func baseRewrite(base string) *matcherv3.RegexMatchAndSubstitute {
	switch {
	case base == "/":
		return nil
	case strings.HasSuffix(base, "/"):
		return rewrite("^/", escapeSubst(base))
	default:
		return rewrite("^(?:/$|(/))", escapeSubst(base)+`\1`)
	}
}

func pathMatch(p *kongPath) *routev3.RouteMatch {
	if p.isRegex() {
		// Kong anchors a regex path at the start of the path only; Envoy
		// matches safe_regex against the whole path, hence the trailing ".*".
		return regexMatch("(?:" + p.re + ").*")
	}
	return prefixMatch(p.plain)
}

func prefixMatch(prefix string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}}
}

func regexMatch(re string) *routev3.RouteMatch {
	return &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{
		SafeRegex: &matcherv3.RegexMatcher{Regex: re},
	}}
}

func rewrite(pattern, substitution string) *matcherv3.RegexMatchAndSubstitute {
	return &matcherv3.RegexMatchAndSubstitute{
		Pattern:      &matcherv3.RegexMatcher{Regex: pattern},
		Substitution: substitution,
	}
}

// escapeSubst escapes a literal for an RE2 rewrite string, where "\" starts
// a capture reference.
func escapeSubst(s string) string {
	return strings.ReplaceAll(s, `\`, `\\`)
}

// namedGroupRE finds PCRE/Rust-style named groups "(?<name>", which RE2 (and
// so Envoy) spells "(?P<name>"; lookbehinds "(?<=" and "(?<!" are left for
// the compiler to reject.
var namedGroupRE = regexp.MustCompile(`\(\?<([A-Za-z_])`)

// parseKongPath classifies a stored route path and, for a regex, converts it
// to RE2 and compiles it to catch what Envoy would reject.
func parseKongPath(raw string) (kongPath, error) {
	re, isRegex := strings.CutPrefix(raw, "~")
	if !isRegex {
		return kongPath{raw: raw, plain: raw}, nil
	}
	if re == "" {
		return kongPath{}, errors.New("empty regex")
	}
	re = namedGroupRE.ReplaceAllString(re, `(?P<$1`)
	if _, err := regexp.Compile(re); err != nil {
		return kongPath{}, err
	}
	return kongPath{raw: raw, re: re}, nil
}
