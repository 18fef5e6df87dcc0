package schema

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

func init() { Register(Routes) }

// Routes is Kong 3.9's routes schema for the default
// traditional_compatible router; the protocol-dependent subschemas are
// applied by routeSubschemas.
var Routes = newEntity(&Entity{
	name:        "routes",
	endpointKey: "name",
	stamps:      KInteger,
	fields: []*Field{
		fUTF8Name(),
		{
			name: "protocols", kind: KSet, required: true, lenMin: 1,
			def:       anyOf("http", "https"),
			elements:  &Field{kind: KString, oneOf: anyOf(protocols...)},
			exclusive: [][]string{{"http", "https"}, {"tcp", "tls", "udp"}, {"tls_passthrough"}, {"grpc", "grpcs"}},
		},
		{name: "methods", kind: KSet, elements: &Field{kind: KString, match: &pattern{re: methodRe}}},
		{
			name: "hosts", kind: KArray, elements: &Field{
				kind:     KString,
				matchAll: []pattern{{re: regexp.MustCompile(`^[^*]*\*?[^*]*$`), err: "invalid wildcard: must have at most one wildcard"}},
				matchAny: &pattern{err: "invalid wildcard: must be placed at leftmost or rightmost label"},
				anyRes:   []*regexp.Regexp{regexp.MustCompile(`^\*\.`), regexp.MustCompile(`\.\*$`), regexp.MustCompile(`^[^*]*$`)},
				custom: func(s string) string {
					return validateHostWithOptionalPort(strings.ReplaceAll(s, "*", "abc"))
				},
			},
		},
		{
			name: "paths", kind: KArray, elements: &Field{
				kind:      KString,
				matchAny:  &pattern{err: "should start with: / (fixed path) or ~/ (regex path)"},
				anyRes:    []*regexp.Regexp{regexp.MustCompile(`^/`), regexp.MustCompile(`^~/`)},
				matchNone: []pattern{{re: emptySegRe, err: "must not have empty segments"}},
				custom:    validateRouterPath,
			},
		},
		{
			name: "headers", kind: KMap,
			keys: &Field{kind: KString, custom: validateHeaderName, matchNone: []pattern{{
				re:  regexp.MustCompile(`^[Hh][Oo][Ss][Tt]$`),
				err: "cannot contain 'host' header, which must be specified in the 'hosts' attribute",
			}}},
			values: &Field{kind: KArray, elements: &Field{kind: KString}},
		},
		Integer("https_redirect_status_code").Req().Default(int64(426)).OneOf(int64(426), int64(301), int64(302), int64(307), int64(308)),
		Integer("regex_priority").Default(int64(0)),
		Boolean("strip_path").Req().Default(true),
		String("path_handling").Default("v0").OneOf("v0", "v1"),
		Boolean("preserve_host").Req().Default(false),
		Boolean("request_buffering").Req().Default(true),
		Boolean("response_buffering").Req().Default(true),
		{name: "snis", kind: KSet, elements: &Field{kind: KString, custom: ValidateWildcardHost}},
		fSources("sources"),
		fSources("destinations"),
		Tags(),
		Foreign("service", "services"),
	},
	insertDefaults:  routeInsertDefaults,
	subschemaChecks: routeSubschemas,
	checks: []Check{{Conditional: &Conditional{
		IfField:   "protocols",
		IfMatch:   Match{Elements: &Match{NotOneOf: anyOf("grpcs", "https", "tls", "tls_passthrough")}},
		ThenField: "snis", ThenMatch: Match{LenEq: new(0)},
		ThenErr: "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'",
	}}},
})

// fSources is typedefs.sources/destinations: a set of {ip, port} records
// with at least one of the two.
func fSources(name string) *Field {
	return &Field{name: name, kind: KSet, elements: &Field{
		kind: KRecord,
		fields: []*Field{
			{name: "ip", kind: KString, custom: validateIPOrCIDR},
			fPort("port"),
		},
		recordChecks: []func(map[string]any, FieldErrors){func(m map[string]any, errs FieldErrors) {
			if !errs.fieldHasError("ip", "port") && m["ip"] == nil && m["port"] == nil {
				errs.AddEntity("at least one of these fields must be non-empty: " + quoteList("ip", "port"))
			}
		}},
	}}
}

func validateIPOrCIDR(s string) string {
	if _, err := netip.ParseAddr(s); err == nil {
		return ""
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return ""
	}
	return fmt.Sprintf("invalid ip or cidr range: '%s'", s)
}

// routeInsertDefaults applies the grpc subschema's default strip_path=false.
func routeInsertDefaults(in map[string]any) {
	if _, set := in["strip_path"]; set {
		return
	}
	protos, _ := in["protocols"].([]any)
	if len(protos) > 0 && (protos[0] == "grpc" || protos[0] == "grpcs") {
		in["strip_path"] = false
	}
}

// routeSubschemas applies the subschema chosen by the route's protocols
// (http, stream or grpc), as Kong's routes_subschemas do.
func routeSubschemas(m map[string]any, errs FieldErrors) {
	if errs.fieldHasError("protocols") {
		return
	}
	protos := stringsOf(m["protocols"])
	has := func(p ...string) bool {
		for _, want := range p {
			for _, got := range protos {
				if got == want {
					return true
				}
			}
		}
		return false
	}
	if len(protos) == 0 {
		return
	}
	mustBeNull := func(fieldNames []string, when string) {
		for _, f := range fieldNames {
			if m[f] != nil && !errs.fieldHasError(f) {
				errs[f] = fmt.Sprintf("cannot set '%s' when 'protocols' is %s", f, when)
			}
		}
	}
	atLeastOne := func(msg string, fieldNames ...string) {
		if errs.fieldHasError(fieldNames...) {
			return
		}
		for _, f := range fieldNames {
			if !isEmpty(m[f]) {
				return
			}
		}
		errs.AddEntity(fmt.Sprintf(msg, quoteList(fieldNames...)))
	}
	switch protos[0] {
	case "http", "https":
		mustBeNull([]string{"sources", "destinations"}, "'http' or 'https'")
		if has("https") {
			atLeastOne("must set one of %s when 'protocols' is 'https'", "methods", "hosts", "headers", "paths", "snis")
		} else {
			atLeastOne("must set one of %s when 'protocols' is 'http'", "methods", "hosts", "headers", "paths")
		}
	case "tcp", "tls", "udp", "tls_passthrough":
		mustBeNull([]string{"methods", "hosts", "paths", "headers"}, "'tcp', 'tls', 'tls_passthrough' or 'udp'")
		if has("tls_passthrough") {
			if !errs.fieldHasError("snis") && isEmpty(m["snis"]) {
				errs.AddEntity("must set snis when 'protocols' is 'tls_passthrough'")
			}
		} else {
			atLeastOne("must set one of %s when 'protocols' is 'tcp', 'tls' or 'udp'", "sources", "destinations", "snis")
		}
	case "grpc", "grpcs":
		if m["strip_path"] == true && !errs.fieldHasError("strip_path") {
			errs["strip_path"] = "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'"
		}
		mustBeNull([]string{"methods", "sources", "destinations"}, "'grpc' or 'grpcs'")
		if has("grpcs") {
			atLeastOne("must set one of %s when 'protocols' is 'grpcs'", "hosts", "headers", "paths", "snis")
		} else {
			atLeastOne("must set one of %s when 'protocols' is 'grpc'", "hosts", "headers", "paths")
		}
	}
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
