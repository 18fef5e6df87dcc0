package schema

func init() { RegisterPlugin(ProxyCache) }

// kongSharedDicts are the lua_shared_dict names of a stock Kong node;
// proxy-cache's memory strategy must name one. switchboard keeps its cache
// elsewhere, so the names only have to be ones Kong would accept.
var kongSharedDicts = map[string]bool{
	"kong": true, "kong_locks": true, "kong_healthchecks": true, "kong_cluster_events": true,
	"kong_rate_limiting_counters": true, "kong_core_db_cache": true, "kong_core_db_cache_miss": true,
	"kong_db_cache": true, "kong_db_cache_miss": true, "kong_secrets": true, "prometheus_metrics": true,
}

// ProxyCache is Kong 3.9's proxy-cache schema
// (kong/plugins/proxy-cache/schema.lua).
var ProxyCache = NewPlugin("proxy-cache", 100, []*Field{
	fProtocols(protocols...),
	proxyCacheConfig(),
}, Check{Custom: &CustomCheck{FieldSources: []string{"config"}, Fn: func(m map[string]any) string {
	c, _ := m["config"].(map[string]any)
	mem, _ := c["memory"].(map[string]any)
	name, _ := mem["dictionary_name"].(string)
	if c["strategy"] == "memory" && !kongSharedDicts[name] {
		return "missing shared dict '" + name + "'"
	}
	return ""
}}})

func proxyCacheConfig() *Field {
	memory := Record("memory", String("dictionary_name").Req().Default("kong_db_cache"))
	memory.required = true
	headers := Record("response_headers",
		Boolean("age").Default(true),
		Boolean("X-Cache-Status").Default(true),
		Boolean("X-Cache-Key").Default(true),
	)
	headers.required = true
	cfg := Record("config",
		&Field{name: "response_code", kind: KArray, required: true, lenMin: 1, def: defaultList[int64](200, 301, 404),
			elements: Integer("").Between(100, 900)},
		&Field{name: "request_method", kind: KArray, required: true, def: defaultList("GET", "HEAD"),
			elements: String("").OneOf("HEAD", "GET", "POST", "PATCH", "PUT")},
		&Field{name: "content_type", kind: KArray, required: true, def: defaultList("text/plain", "application/json"),
			elements: String("")},
		Integer("cache_ttl").Default(int64(300)).Gt(0),
		String("strategy").Req().OneOf("memory"),
		Boolean("cache_control").Req().Default(false),
		Boolean("ignore_uri_case").Default(false),
		Integer("storage_ttl"),
		memory,
		&Field{name: "vary_query_params", kind: KArray, elements: String("")},
		&Field{name: "vary_headers", kind: KArray, elements: String("")},
		headers,
	)
	cfg.required = true
	return cfg
}
