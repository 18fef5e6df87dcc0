package admin

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestAdmin_GetStartedPlugins replays the Admin API commands of Kong's Get
// Started chapters Rate Limiting, Proxy Caching and Key Authentication
// (docs/kong-contract.md §11) as curl sends them (form bodies) and checks the
// bodies Kong returns.
func TestAdmin_GetStartedPlugins(t *testing.T) {
	ts := newTestServer(t)
	form := func(method, path, body string) *resp {
		t.Helper()
		return ts.do(method, path, body, encForm)
	}
	svc := form(http.MethodPost, "/services", "name=example_service&url=http://httpbin.test").mustStatus(t, http.StatusCreated)
	route := form(http.MethodPost, "/services/example_service/routes", "paths%5B%5D=/mock&name=example_route").mustStatus(t, http.StatusCreated)

	// Rate limiting: global, then service and route scoped instances.
	rl := form(http.MethodPost, "/plugins/", "name=rate-limiting&config.minute=5&config.policy=local").mustStatus(t, http.StatusCreated)
	subset(t, rl.obj(), `{"name": "rate-limiting", "instance_name": null, "route": null, "service": null, "consumer": null,
		"protocols": ["grpc", "grpcs", "http", "https"], "enabled": true, "tags": null,
		"created_at": 1700000000, "updated_at": 1700000000,
		"config": {"second": null, "minute": 5, "hour": null, "day": null, "month": null, "year": null,
			"limit_by": "consumer", "header_name": null, "path": null, "policy": "local", "fault_tolerant": true,
			"redis": {"host": null, "port": 6379, "timeout": 2000, "username": null, "password": null,
				"database": 0, "ssl": false, "ssl_verify": false, "server_name": null},
			"hide_client_headers": false, "error_code": 429, "error_message": "API rate limit exceeded", "sync_rate": -1,
			"redis_host": null, "redis_port": 6379, "redis_password": null, "redis_username": null,
			"redis_ssl": false, "redis_ssl_verify": false, "redis_server_name": null, "redis_timeout": 2000, "redis_database": 0}}`)
	if n := len(rl.obj()["config"].(map[string]any)); n != 25 {
		t.Errorf("rate-limiting config has %d fields, want 25", n)
	}
	srl := form(http.MethodPost, "/services/example_service/plugins", "name=rate-limiting&config.minute=5&config.policy=local").mustStatus(t, http.StatusCreated)
	subset(t, srl.obj(), `{"service": {"id": "`+svc.str("id")+`"}, "route": null}`)
	rrl := form(http.MethodPost, "/routes/example_route/plugins", "name=rate-limiting&config.minute=5&config.policy=local").mustStatus(t, http.StatusCreated)
	subset(t, rrl.obj(), `{"route": {"id": "`+route.str("id")+`"}, "service": null}`)

	// Consumers and a consumer-scoped instance.
	jsmith := form(http.MethodPost, "/consumers/", "username=jsmith").mustStatus(t, http.StatusCreated)
	jsonEqual(t, jsmith.body, `{"id": "`+jsmith.str("id")+`", "created_at": 1700000000, "updated_at": 1700000000,
		"username": "jsmith", "custom_id": null, "tags": null}`)
	form(http.MethodPost, "/plugins", "name=rate-limiting&consumer.username=jsmith&config.second=5").mustStatus(t, http.StatusCreated)

	// Proxy caching: single form values become arrays typed by the schema.
	pc := form(http.MethodPost, "/plugins", "name=proxy-cache&config.request_method=GET&config.response_code=200"+
		"&config.content_type=application/json&config.cache_ttl=30&config.strategy=memory").mustStatus(t, http.StatusCreated)
	jsonEqual(t, pc.obj()["config"], `{"response_code":[200], "request_method":["GET"], "content_type":["application/json"],
		"cache_ttl":30, "strategy":"memory", "cache_control":false, "ignore_uri_case":false, "storage_ttl":null,
		"memory":{"dictionary_name":"kong_db_cache"}, "vary_query_params":null, "vary_headers":null,
		"response_headers":{"age":true,"X-Cache-Status":true,"X-Cache-Key":true}}`)

	// Key authentication.
	ka := form(http.MethodPost, "/plugins/", "name=key-auth&config.key_names=apikey").mustStatus(t, http.StatusCreated)
	jsonEqual(t, ka.obj()["config"], `{"key_names":["apikey"], "hide_credentials":false, "anonymous":null, "key_in_header":true,
		"key_in_query":true, "key_in_body":false, "run_on_preflight":true, "realm":null}`)
	form(http.MethodPost, "/consumers/", "username=luka").mustStatus(t, http.StatusCreated)
	cred := form(http.MethodPost, "/consumers/luka/key-auth", "key=top-secret-key").mustStatus(t, http.StatusCreated)
	luka := ts.do(http.MethodGet, "/consumers/luka", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, cred.body, `{"id": "`+cred.str("id")+`", "created_at": 1700000000, "consumer": {"id": "`+luka.str("id")+`"},
		"key": "top-secret-key", "tags": null, "ttl": null}`)

	// (Optional) Disable the plugin: a form PATCH without name is typed by
	// the stored plugin's schema.
	off := form(http.MethodPatch, "/plugins/"+ka.str("id"), "enabled=false").mustStatus(t, http.StatusOK)
	subset(t, off.obj(), `{"enabled": false, "name": "key-auth"}`)
	jsonEqual(t, off.obj()["config"], string(mustJSON(t, ka.obj()["config"])))
	patched := form(http.MethodPatch, "/plugins/"+rl.str("id"), "config.hour=100&config.redis_port=6380").mustStatus(t, http.StatusOK)
	cfg := patched.obj()["config"].(map[string]any)
	subset(t, cfg, `{"minute": 5, "hour": 100, "redis_port": 6380, "policy": "local"}`)
	subset(t, cfg["redis"].(map[string]any), `{"port": 6380, "timeout": 2000}`)

	root := ts.do(http.MethodGet, "/", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, root.obj()["plugins"].(map[string]any)["enabled_in_cluster"], `["key-auth", "proxy-cache", "rate-limiting"]`)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
