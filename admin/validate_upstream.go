package admin

import "fmt"

var hashOnValues = []string{"none", "consumer", "ip", "header", "cookie", "path", "query_arg", "uri_capture"}

// healthchecks builds the upstream healthchecks record; its defaults are
// Kong's (health checking off).
func healthchecksField() *field {
	seconds := func(name string, def float64) *field { return fNumber(name).btw(0, 65535).dflt(def) }
	counter := func(name string) *field { return fInteger(name).btw(0, 255).dflt(int64(0)) }
	statuses := func(codes ...int64) *field {
		def := make([]any, len(codes))
		for i, c := range codes {
			def[i] = c
		}
		return &field{name: "http_statuses", kind: kArray, def: def, elements: fInteger("").btw(100, 999)}
	}
	checkType := func() *field { return fString("type").dflt("http").one("tcp", "http", "https", "grpc", "grpcs") }
	return fRecord("healthchecks",
		fRecord("active",
			checkType(),
			seconds("timeout", 1),
			fInteger("concurrency").btw(1, 2147483648).dflt(int64(10)),
			fPath("http_path").dflt("/"),
			&field{name: "https_sni", kind: kString, custom: validateSNI},
			fBoolean("https_verify_certificate").req().dflt(true),
			fHeaders("headers"),
			fRecord("healthy",
				seconds("interval", 0),
				statuses(200, 302),
				counter("successes"),
			),
			fRecord("unhealthy",
				seconds("interval", 0),
				statuses(429, 404, 500, 501, 502, 503, 504, 505),
				counter("tcp_failures"),
				counter("timeouts"),
				counter("http_failures"),
			),
		),
		fRecord("passive",
			checkType(),
			fRecord("healthy",
				statuses(200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308),
				counter("successes"),
			),
			fRecord("unhealthy",
				statuses(429, 500, 503),
				counter("tcp_failures"),
				counter("timeouts"),
				counter("http_failures"),
			),
		),
		fNumber("threshold").btw(0, 100).dflt(float64(0)),
	)
}

// upstreamSchema is Kong 3.9's upstreams schema.
var upstreamSchema = newEntitySchema(&entitySchema{
	name:        "upstreams",
	endpointKey: "name",
	fields: []*field{
		fID(),
		fTimestamp("created_at", kInteger),
		fTimestamp("updated_at", kInteger),
		{name: "name", kind: kString, required: true, unique: true, custom: validateUpstreamName},
		fString("algorithm").dflt("round-robin").one("consistent-hashing", "least-connections", "round-robin", "latency"),
		fString("hash_on").dflt("none").one(anyOf(hashOnValues...)...),
		fString("hash_fallback").dflt("none").one(anyOf(hashOnValues...)...),
		{name: "hash_on_header", kind: kString, custom: validateHeaderName},
		{name: "hash_fallback_header", kind: kString, custom: validateHeaderName},
		{name: "hash_on_cookie", kind: kString, custom: validateCookieName},
		fPath("hash_on_cookie_path").dflt("/"),
		fString("hash_on_query_arg"),
		fString("hash_fallback_query_arg"),
		fString("hash_on_uri_capture"),
		fString("hash_fallback_uri_capture"),
		fInteger("slots").dflt(int64(10000)).btw(10, 65536),
		healthchecksField(),
		fTags(),
		{name: "host_header", kind: kString, custom: validateHostWithOptionalPort},
		fForeign("client_certificate", "certificates"),
		fBoolean("use_srv_name").dflt(false),
	},
	expand: expandUpstreamShorthands,
	checks: upstreamChecks,
	entityChecks: []any{
		conditionalCheck("hash_on", map[string]any{"match": "^header$"}, "hash_on_header", map[string]any{"required": true}),
		conditionalCheck("hash_fallback", map[string]any{"match": "^header$"}, "hash_fallback_header", map[string]any{"required": true}),
		conditionalCheck("hash_on", map[string]any{"match": "^cookie$"}, "hash_on_cookie", map[string]any{"required": true}),
		conditionalCheck("hash_fallback", map[string]any{"match": "^cookie$"}, "hash_on_cookie", map[string]any{"required": true}),
		conditionalCheck("hash_on", map[string]any{"match": "^none$"}, "hash_fallback", map[string]any{"one_of": anyOf("none")}),
		conditionalCheck("hash_on", map[string]any{"match": "^cookie$"}, "hash_fallback", map[string]any{"one_of": anyOf("none")}),
		conditionalCheck("hash_on", map[string]any{"match": "^consumer$"}, "hash_fallback", map[string]any{"one_of": anyOf(without(hashOnValues, "consumer")...)}),
		conditionalCheck("hash_on", map[string]any{"match": "^ip$"}, "hash_fallback", map[string]any{"one_of": anyOf(without(hashOnValues, "ip")...)}),
		conditionalCheck("hash_on", map[string]any{"match": "^path$"}, "hash_fallback", map[string]any{"one_of": anyOf(without(hashOnValues, "path")...)}),
		map[string]any{"distinct": anyOf("hash_on_header", "hash_fallback_header")},
		conditionalCheck("hash_on", map[string]any{"match": "^query_arg$"}, "hash_on_query_arg", map[string]any{"required": true}),
		conditionalCheck("hash_fallback", map[string]any{"match": "^query_arg$"}, "hash_fallback_query_arg", map[string]any{"required": true}),
		map[string]any{"distinct": anyOf("hash_on_query_arg", "hash_fallback_query_arg")},
		conditionalCheck("hash_on", map[string]any{"match": "^uri_capture$"}, "hash_on_uri_capture", map[string]any{"required": true}),
		conditionalCheck("hash_fallback", map[string]any{"match": "^uri_capture$"}, "hash_fallback_uri_capture", map[string]any{"required": true}),
		map[string]any{"distinct": anyOf("hash_on_uri_capture", "hash_fallback_uri_capture")},
	},
})

func without(list []string, drop string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v != drop {
			out = append(out, v)
		}
	}
	return out
}

// expandUpstreamShorthands reproduces Kong's shorthand side effects:
// hash_on other than none forces consistent-hashing, hash_on=none forces
// round-robin, and least-connections/latency reset hash_on to none. An
// algorithm given in the same body is applied last and wins, so that a full
// object as decK sends it (least-connections with hash_on none) keeps its
// algorithm.
func expandUpstreamShorthands(in map[string]any) {
	alg, algGiven := in["algorithm"].(string)
	if v, ok := in["hash_on"].(string); ok {
		if v == "none" {
			in["algorithm"] = "round-robin"
		} else if containsAny(anyOf(hashOnValues...), v) {
			in["algorithm"] = "consistent-hashing"
		}
	}
	if algGiven {
		in["algorithm"] = alg
		if alg == "least-connections" || alg == "latency" {
			in["hash_on"] = "none"
		}
	}
}

// upstreamChecks are the upstreams entity checks on hashing.
func upstreamChecks(m map[string]any, errs fieldErrors) {
	str := func(k string) string { s, _ := m[k].(string); return s }
	hashOn, fallback := str("hash_on"), str("hash_fallback")
	conditional := func(ifField, thenField, msg string) {
		if errs.fieldHasError(ifField, thenField) {
			return
		}
		errs[thenField] = msg
		errs.addEntity(fmt.Sprintf(msgConditionF, ifField))
	}
	required := func(ifField, ifValue, thenField string) {
		if str(ifField) == ifValue && m[thenField] == nil {
			conditional(ifField, thenField, msgRequired)
		}
	}
	allowed := func(ifValue string, values []string) {
		if hashOn == ifValue && !containsAny(anyOf(values...), fallback) {
			conditional("hash_on", "hash_fallback", oneOfMessage(anyOf(values...)))
		}
	}
	distinct := func(a, b string) {
		if errs.fieldHasError(a, b) || m[a] == nil || m[a] != m[b] {
			return
		}
		errs.addEntity("values of these fields must be distinct: " + quoteList(a, b))
	}
	required("hash_on", "header", "hash_on_header")
	required("hash_fallback", "header", "hash_fallback_header")
	required("hash_on", "cookie", "hash_on_cookie")
	required("hash_fallback", "cookie", "hash_on_cookie")
	allowed("none", []string{"none"})
	allowed("cookie", []string{"none"})
	allowed("consumer", without(hashOnValues, "consumer"))
	allowed("ip", without(hashOnValues, "ip"))
	allowed("path", without(hashOnValues, "path"))
	distinct("hash_on_header", "hash_fallback_header")
	required("hash_on", "query_arg", "hash_on_query_arg")
	required("hash_fallback", "query_arg", "hash_fallback_query_arg")
	distinct("hash_on_query_arg", "hash_fallback_query_arg")
	required("hash_on", "uri_capture", "hash_on_uri_capture")
	required("hash_fallback", "uri_capture", "hash_fallback_uri_capture")
	distinct("hash_on_uri_capture", "hash_fallback_uri_capture")
}
