package schema

var hashOnValues = []string{"none", "consumer", "ip", "header", "cookie", "path", "query_arg", "uri_capture"}

// healthchecksField builds the upstream healthchecks record; its defaults are
// Kong's (health checking off).
func healthchecksField() *Field {
	seconds := func(name string, def float64) *Field { return Number(name).Between(0, 65535).Default(def) }
	counter := func(name string) *Field { return Integer(name).Between(0, 255).Default(int64(0)) }
	statuses := func(codes ...int64) *Field {
		def := make([]any, len(codes))
		for i, c := range codes {
			def[i] = c
		}
		return &Field{name: "http_statuses", kind: KArray, def: def, elements: Integer("").Between(100, 999)}
	}
	checkType := func() *Field { return String("type").Default("http").OneOf("tcp", "http", "https", "grpc", "grpcs") }
	return Record("healthchecks",
		Record("active",
			checkType(),
			seconds("timeout", 1),
			Integer("concurrency").Between(1, 2147483648).Default(int64(10)),
			fPath("http_path").Default("/"),
			&Field{name: "https_sni", kind: KString, custom: validateSNI},
			Boolean("https_verify_certificate").Req().Default(true),
			fHeaders("headers"),
			Record("healthy",
				seconds("interval", 0),
				statuses(200, 302),
				counter("successes"),
			),
			Record("unhealthy",
				seconds("interval", 0),
				statuses(429, 404, 500, 501, 502, 503, 504, 505),
				counter("tcp_failures"),
				counter("timeouts"),
				counter("http_failures"),
			),
		),
		Record("passive",
			checkType(),
			Record("healthy",
				statuses(200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308),
				counter("successes"),
			),
			Record("unhealthy",
				statuses(429, 500, 503),
				counter("tcp_failures"),
				counter("timeouts"),
				counter("http_failures"),
			),
		),
		Number("threshold").Between(0, 100).Default(float64(0)),
	)
}

func init() { Register(Upstreams) }

// Upstreams is Kong 3.9's upstreams schema.
var Upstreams = newEntity(&Entity{
	name:        "upstreams",
	endpointKey: "name",
	stamps:      KInteger,
	fields: []*Field{
		{name: "name", kind: KString, required: true, unique: true, custom: validateUpstreamName},
		String("algorithm").Default("round-robin").OneOf("consistent-hashing", "least-connections", "round-robin", "latency"),
		String("hash_on").Default("none").OneOf(anyOf(hashOnValues...)...),
		String("hash_fallback").Default("none").OneOf(anyOf(hashOnValues...)...),
		{name: "hash_on_header", kind: KString, custom: validateHeaderName},
		{name: "hash_fallback_header", kind: KString, custom: validateHeaderName},
		{name: "hash_on_cookie", kind: KString, custom: validateCookieName},
		fPath("hash_on_cookie_path").Default("/"),
		String("hash_on_query_arg"),
		String("hash_fallback_query_arg"),
		String("hash_on_uri_capture"),
		String("hash_fallback_uri_capture"),
		Integer("slots").Default(int64(10000)).Between(10, 65536),
		healthchecksField(),
		Tags(),
		{name: "host_header", kind: KString, custom: validateHostWithOptionalPort},
		Foreign("client_certificate", "certificates"),
		Boolean("use_srv_name").Default(false),
	},
	expand: expandUpstreamShorthands,
	checks: []Check{
		ifThen("hash_on", Match{Match: "^header$"}, "hash_on_header", Match{Required: true}),
		ifThen("hash_fallback", Match{Match: "^header$"}, "hash_fallback_header", Match{Required: true}),
		ifThen("hash_on", Match{Match: "^cookie$"}, "hash_on_cookie", Match{Required: true}),
		ifThen("hash_fallback", Match{Match: "^cookie$"}, "hash_on_cookie", Match{Required: true}),
		ifThen("hash_on", Match{Match: "^none$"}, "hash_fallback", Match{OneOf: anyOf("none")}),
		ifThen("hash_on", Match{Match: "^cookie$"}, "hash_fallback", Match{OneOf: anyOf("none")}),
		ifThen("hash_on", Match{Match: "^consumer$"}, "hash_fallback", Match{OneOf: anyOf(without(hashOnValues, "consumer")...)}),
		ifThen("hash_on", Match{Match: "^ip$"}, "hash_fallback", Match{OneOf: anyOf(without(hashOnValues, "ip")...)}),
		ifThen("hash_on", Match{Match: "^path$"}, "hash_fallback", Match{OneOf: anyOf(without(hashOnValues, "path")...)}),
		distinct("hash_on_header", "hash_fallback_header"),
		ifThen("hash_on", Match{Match: "^query_arg$"}, "hash_on_query_arg", Match{Required: true}),
		ifThen("hash_fallback", Match{Match: "^query_arg$"}, "hash_fallback_query_arg", Match{Required: true}),
		distinct("hash_on_query_arg", "hash_fallback_query_arg"),
		ifThen("hash_on", Match{Match: "^uri_capture$"}, "hash_on_uri_capture", Match{Required: true}),
		ifThen("hash_fallback", Match{Match: "^uri_capture$"}, "hash_fallback_uri_capture", Match{Required: true}),
		distinct("hash_on_uri_capture", "hash_fallback_uri_capture"),
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
