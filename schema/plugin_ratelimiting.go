package schema

import "fmt"

func init() { RegisterPlugin(RateLimiting) }

// rateLimitingWindows are the windows in ascending length.
var rateLimitingWindows = []string{"second", "minute", "hour", "day", "month", "year"}

// RateLimiting is Kong 3.9's rate-limiting schema
// (kong/plugins/rate-limiting/schema.lua, redis record from
// kong/tools/redis/schema.lua), with the deprecated redis_* shorthands.
var RateLimiting = NewPlugin("rate-limiting", 910, []*Field{
	fProtocols(httpProtocols...),
	rateLimitingConfig(),
}, rateLimitingChecks()...)

func rateLimitingConfig() *Field {
	var fields []*Field
	for _, w := range rateLimitingWindows {
		fields = append(fields, Number(w).Gt(0))
	}
	fields = append(fields,
		String("limit_by").Req().Default("consumer").OneOf("consumer", "credential", "ip", "service", "header", "path"),
		fHeaderName("header_name"),
		fPath("path"),
		String("policy").Default("local").LenMin(0).OneOf("local", "cluster", "redis"),
		Boolean("fault_tolerant").Req().Default(true),
		redisField(),
		Boolean("hide_client_headers").Req().Default(false),
		Number("error_code").Default(int64(429)).Gt(0),
		String("error_message").Default("API rate limit exceeded"),
		Number("sync_rate").Req().Default(int64(-1)),
	)
	cfg := Record("config", fields...)
	cfg.required = true
	cfg.recordValidator = validateRateLimitingConfig
	for _, sh := range []struct {
		alias  *Field
		target string
	}{
		{String("redis_host"), "host"},
		{Integer("redis_port"), "port"},
		{String("redis_password"), "password"},
		{String("redis_username"), "username"},
		{Boolean("redis_ssl"), "ssl"},
		{Boolean("redis_ssl_verify"), "ssl_verify"},
		{String("redis_server_name"), "server_name"},
		{Integer("redis_timeout"), "timeout"},
		{Integer("redis_database"), "database"},
	} {
		cfg.Shorthand(sh.alias, "redis", sh.target)
	}
	return cfg
}

// redisField is Kong's shared redis config record.
func redisField() *Field {
	r := Record("redis",
		fHost("host"),
		fPort("port").Default(int64(6379)),
		Integer("timeout").Default(int64(2000)).Between(0, 2147483646),
		String("username"),
		String("password").LenMin(0),
		Integer("database").Default(int64(0)),
		Boolean("ssl").Req().Default(false),
		Boolean("ssl_verify").Req().Default(false),
		&Field{name: "server_name", kind: KString, custom: validateSNI},
	)
	r.required = true
	return r
}

func rateLimitingChecks() []Check {
	windows := make([]string, len(rateLimitingWindows))
	for i, w := range rateLimitingWindows {
		windows[i] = "config." + w
	}
	redis := func(field string) Check {
		return ifThen("config.policy", Match{Eq: "redis"}, "config.redis."+field, Match{Required: true})
	}
	return []Check{
		{AtLeastOneOf: windows},
		redis("host"),
		redis("port"),
		ifThen("config.limit_by", Match{Eq: "header"}, "config.header_name", Match{Required: true}),
		ifThen("config.limit_by", Match{Eq: "path"}, "config.path", Match{Required: true}),
		redis("timeout"),
	}
}

// validateRateLimitingConfig is the config record's custom validator: a
// longer window may not allow fewer requests than a shorter one, and
// sync_rate only applies to the redis policy.
func validateRateLimitingConfig(c map[string]any) string {
	for i, lower := range rateLimitingWindows {
		lo, ok := c[lower].(float64)
		if !ok {
			continue
		}
		for _, higher := range rateLimitingWindows[i+1:] {
			if hi, ok := c[higher].(float64); ok && hi < lo {
				return fmt.Sprintf("The limit for %s(%.1f) cannot be lower than the limit for %s(%.1f)", higher, hi, lower, lo)
			}
		}
	}
	rate, _ := c["sync_rate"].(float64)
	if c["policy"] != "redis" && rate != -1 {
		return "sync_rate can only be used with the redis policy"
	}
	if c["policy"] == "redis" && rate > 0 && rate < 0.02 {
		return "sync_rate must be greater than 0.02, or -1 to disable"
	}
	return ""
}
