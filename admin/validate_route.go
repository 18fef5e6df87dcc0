package admin

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// routeSchema is Kong 3.9's routes schema for the default
// traditional_compatible router; the protocol-dependent subschemas are
// applied by routeChecks.
var routeSchema = newEntitySchema(&entitySchema{
	name:        "routes",
	endpointKey: "name",
	fields: []*field{
		fID(),
		fTimestamp("created_at", kInteger),
		fTimestamp("updated_at", kInteger),
		fUTF8Name(),
		{
			name: "protocols", kind: kSet, required: true, lenMin: 1,
			def:       anyOf("http", "https"),
			elements:  &field{kind: kString, oneOf: anyOf(protocols...)},
			exclusive: [][]string{{"http", "https"}, {"tcp", "tls", "udp"}, {"tls_passthrough"}, {"grpc", "grpcs"}},
		},
		{name: "methods", kind: kSet, elements: &field{kind: kString, match: &pattern{re: methodRe}}},
		{
			name: "hosts", kind: kArray, elements: &field{
				kind:     kString,
				matchAll: []pattern{{re: regexp.MustCompile(`^[^*]*\*?[^*]*$`), err: "invalid wildcard: must have at most one wildcard"}},
				matchAny: &pattern{err: "invalid wildcard: must be placed at leftmost or rightmost label"},
				anyRes:   []*regexp.Regexp{regexp.MustCompile(`^\*\.`), regexp.MustCompile(`\.\*$`), regexp.MustCompile(`^[^*]*$`)},
				custom: func(s string) string {
					return validateHostWithOptionalPort(strings.ReplaceAll(s, "*", "abc"))
				},
			},
		},
		{
			name: "paths", kind: kArray, elements: &field{
				kind:      kString,
				matchAny:  &pattern{err: "should start with: / (fixed path) or ~/ (regex path)"},
				anyRes:    []*regexp.Regexp{regexp.MustCompile(`^/`), regexp.MustCompile(`^~/`)},
				matchNone: []pattern{{re: emptySegRe, err: "must not have empty segments"}},
				custom:    validateRouterPath,
			},
		},
		{
			name: "headers", kind: kMap,
			keys: &field{kind: kString, custom: validateHeaderName, matchNone: []pattern{{
				re:  regexp.MustCompile(`^[Hh][Oo][Ss][Tt]$`),
				err: "cannot contain 'host' header, which must be specified in the 'hosts' attribute",
			}}},
			values: &field{kind: kArray, elements: &field{kind: kString}},
		},
		fInteger("https_redirect_status_code").req().dflt(int64(426)).one(int64(426), int64(301), int64(302), int64(307), int64(308)),
		fInteger("regex_priority").dflt(int64(0)),
		fBoolean("strip_path").req().dflt(true),
		fString("path_handling").dflt("v0").one("v0", "v1"),
		fBoolean("preserve_host").req().dflt(false),
		fBoolean("request_buffering").req().dflt(true),
		fBoolean("response_buffering").req().dflt(true),
		{name: "snis", kind: kSet, elements: &field{kind: kString, custom: validateSNI}},
		fSources("sources"),
		fSources("destinations"),
		fTags(),
		fForeign("service", "services"),
	},
	insertDefaults: routeInsertDefaults,
	checks:         routeChecks,
	entityChecks: []any{
		conditionalCheck("protocols",
			map[string]any{"elements": map[string]any{"type": "string", "not_one_of": anyOf("grpcs", "https", "tls", "tls_passthrough")}},
			"snis", map[string]any{"len_eq": 0}),
	},
})

// fSources is typedefs.sources/destinations: a set of {ip, port} records
// with at least one of the two.
func fSources(name string) *field {
	return &field{name: name, kind: kSet, elements: &field{
		kind: kRecord,
		fields: []*field{
			{name: "ip", kind: kString, custom: validateIPOrCIDR},
			fPort("port"),
		},
		recordChecks: []func(map[string]any, fieldErrors){func(m map[string]any, errs fieldErrors) {
			if !errs.fieldHasError("ip", "port") && m["ip"] == nil && m["port"] == nil {
				errs.addEntity("at least one of these fields must be non-empty: " + quoteList("ip", "port"))
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

// routeChecks runs the snis conditional and the subschema chosen by the
// route's protocols (http, stream or grpc), as Kong's routes_subschemas do.
func routeChecks(m map[string]any, errs fieldErrors) {
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
	if !has("grpcs", "https", "tls", "tls_passthrough") && !isEmpty(m["snis"]) && !errs.fieldHasError("snis") {
		errs["snis"] = "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'"
		errs.addEntity(fmt.Sprintf(msgConditionF, "protocols"))
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
		errs.addEntity(fmt.Sprintf(msg, quoteList(fieldNames...)))
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
				errs.addEntity("must set snis when 'protocols' is 'tls_passthrough'")
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
