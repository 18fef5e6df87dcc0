package admin

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Kong's own Admin API specs for plugins and consumers (docs/kong-contract.md
// §11: 04-plugins_routes, 03-consumers_routes, 10-services_routes,
// 09-routes_routes, 12-plugins-conf, 03-db/03-plugins), each case run with
// JSON, urlencoded and multipart bodies.

// forEachEncoding runs fn on a fresh server per body encoding.
func forEachEncoding(t *testing.T, fn func(t *testing.T, ts *testServer, enc encoding)) {
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			fn(t, newTestServer(t), enc)
		})
	}
}

// fixtureService creates service "svc" with route "rt" (http, https).
func fixtureService(t *testing.T, ts *testServer) (svcID, routeID string) {
	t.Helper()
	svc := ts.do(http.MethodPost, "/services", obj("name", "svc", "host", "svc.test"), encJSON).mustStatus(t, http.StatusCreated)
	rt := ts.do(http.MethodPost, "/services/svc/routes", obj("name", "rt", "paths", list("/rt")), encJSON).mustStatus(t, http.StatusCreated)
	return svc.str("id"), rt.str("id")
}

func rateLimiting(extra ...any) map[string]any {
	return obj(append([]any{"name", "rate-limiting", "config", obj("minute", 5)}, extra...)...)
}

func TestAdminPlugins_Collection(t *testing.T) {
	forEachEncoding(t, func(t *testing.T, ts *testServer, enc encoding) {
		// "returns a list of enabled plugins on this node"
		r := ts.do(http.MethodGet, "/plugins/enabled", nil, enc).mustStatus(t, http.StatusOK)
		jsonEqual(t, r.obj()["enabled_plugins"], `["key-auth", "proxy-cache", "rate-limiting"]`)
		// "retrieves all plugins configured"
		svcID, routeID := fixtureService(t, ts)
		ts.do(http.MethodPost, "/plugins", rateLimiting(), enc).mustStatus(t, http.StatusCreated)
		ts.do(http.MethodPost, "/plugins", rateLimiting("service", obj("id", svcID)), enc).mustStatus(t, http.StatusCreated)
		ts.do(http.MethodPost, "/plugins", rateLimiting("route", obj("id", routeID)), enc).mustStatus(t, http.StatusCreated)
		r = ts.do(http.MethodGet, "/plugins", nil, enc).mustStatus(t, http.StatusOK)
		if n := len(r.obj()["data"].([]any)); n != 3 {
			t.Fatalf("%d plugins listed", n)
		}
		// Paging as for every entity.
		p1 := ts.do(http.MethodGet, "/plugins?size=2", nil, enc).mustStatus(t, http.StatusOK)
		if n := len(p1.obj()["data"].([]any)); n != 2 || p1.str("offset") == "" {
			t.Fatalf("page 1: %s", p1.raw)
		}
		p2 := ts.do(http.MethodGet, "/plugins?size=2&offset="+p1.str("offset"), nil, enc).mustStatus(t, http.StatusOK)
		if n := len(p2.obj()["data"].([]any)); n != 1 || p2.obj()["offset"] != nil {
			t.Fatalf("page 2: %s", p2.raw)
		}
		// "returns 405 on invalid method"
		for _, m := range []string{http.MethodDelete, http.MethodPatch} {
			r := ts.do(m, "/plugins", nil, enc).mustStatus(t, http.StatusMethodNotAllowed)
			jsonEqual(t, r.body, `{"message":"Method not allowed"}`)
		}
	})
}

func TestAdminPlugins_Item(t *testing.T) {
	forEachEncoding(t, func(t *testing.T, ts *testServer, enc encoding) {
		svcID, _ := fixtureService(t, ts)
		p := ts.do(http.MethodPost, "/plugins", rateLimiting("instance_name", "円", "service", obj("id", svcID)), enc).mustStatus(t, http.StatusCreated)
		id := p.str("id")
		// "retrieves a plugin by id / instance_name / utf-8 and percent-escaped name"
		for _, key := range []string{id, "円", "%E5%86%86"} {
			r := ts.do(http.MethodGet, "/plugins/"+key, nil, enc).mustStatus(t, http.StatusOK)
			jsonEqual(t, r.body, string(p.raw))
		}
		// "returns 404 if not found (by instance_name)"
		ts.do(http.MethodGet, "/plugins/not-there", nil, enc).mustStatus(t, http.StatusNotFound)

		// "updates a plugin" / "by instance_name" / "bis"
		r := ts.do(http.MethodPatch, "/plugins/"+id, obj("enabled", false), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"enabled": false, "id": "`+id+`"}`)
		r = ts.do(http.MethodPatch, "/plugins/円", obj("enabled", true), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"enabled": true, "id": "`+id+`"}`)
		// "updates a plugin (removing foreign key reference)"
		r = ts.do(http.MethodPatch, "/plugins/"+id, obj("service", nil), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"service": null}`)
		// "does not infer json input": tags null accepted
		r = ts.do(http.MethodPatch, "/plugins/"+id, obj("tags", nil), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"tags": null}`)

		// "handles invalid input": the stored plugin is unchanged.
		before := ts.do(http.MethodGet, "/plugins/"+id, nil, enc)
		r = ts.do(http.MethodPatch, "/plugins/"+id, obj("foo", "bar"), enc).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (foo: unknown field)","fields":{"foo":"unknown field"}}`)
		jsonEqual(t, ts.do(http.MethodGet, "/plugins/"+id, nil, enc).body, string(before.raw))
		// "handles invalid config, see #9224"
		r = ts.do(http.MethodPatch, "/plugins/"+id, obj("config", "bar"), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"message": "schema violation (config: expected a record)"}`)
		// PATCH of an unknown id
		ts.do(http.MethodPatch, "/plugins/5a1e0000-0000-4000-8000-00000000dead", obj("enabled", false), enc).mustStatus(t, http.StatusNotFound)

		// "can create a plugin" by a new UUID, "by instance_name", "can upsert a plugin by instance_name"
		newID := "5a1e0000-0000-4000-8000-000000000abc"
		r = ts.do(http.MethodPut, "/plugins/"+newID, obj("name", "key-auth"), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"id": "`+newID+`", "name": "key-auth"}`)
		r = ts.do(http.MethodPut, "/plugins/my-cache", obj("name", "proxy-cache", "config", obj("strategy", "memory")), enc).mustStatus(t, http.StatusOK)
		cacheID := r.str("id")
		subset(t, r.obj(), `{"instance_name": "my-cache"}`)
		subset(t, r.obj()["config"].(map[string]any), `{"cache_ttl": 300}`)
		r = ts.do(http.MethodPut, "/plugins/my-cache", obj("name", "proxy-cache", "config", obj("strategy", "memory", "cache_ttl", 30)), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"id": "`+cacheID+`", "instance_name": "my-cache"}`)
		subset(t, r.obj()["config"].(map[string]any), `{"cache_ttl": 30}`)

		// "deletes by id" / "by instance_name", then 404; "returns 204 if not found"
		for _, key := range []string{id, "my-cache"} {
			r := ts.do(http.MethodDelete, "/plugins/"+key, nil, enc).mustStatus(t, http.StatusNoContent)
			if len(r.raw) != 0 {
				t.Errorf("DELETE body %q", r.raw)
			}
			ts.do(http.MethodGet, "/plugins/"+key, nil, enc).mustStatus(t, http.StatusNotFound)
		}
		ts.do(http.MethodDelete, "/plugins/5a1e0000-0000-4000-8000-00000000dead", nil, enc).mustStatus(t, http.StatusNoContent)
		ts.do(http.MethodDelete, "/plugins/nope", nil, enc).mustStatus(t, http.StatusNoContent)
	})
}

func TestAdminPlugins_Errors(t *testing.T) {
	forEachEncoding(t, func(t *testing.T, ts *testServer, enc encoding) {
		// §1.4: no name
		r := ts.do(http.MethodPost, "/plugins", obj("config", obj()), enc).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (name: required field missing)","fields":{"name":"required field missing"}}`)
		// "returns 400 for plugins not included in the list"
		r = ts.do(http.MethodPost, "/plugins", obj("name", "foo"), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"name": "plugin 'foo' not enabled; add it to the 'plugins' configuration property"}}`)
		// rate-limiting "should not save with empty config"
		r = ts.do(http.MethodPost, "/plugins", obj("name", "rate-limiting"), enc).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year')","fields":{"@entity":["at least one of these fields must be non-empty: 'config.second', 'config.minute', 'config.hour', 'config.day', 'config.month', 'config.year'"]}}`)
		// "sets policy to local by default", "does allow setting policy to cluster"
		r = ts.do(http.MethodPost, "/plugins", rateLimiting(), enc).mustStatus(t, http.StatusCreated)
		subset(t, r.obj()["config"].(map[string]any), `{"policy": "local"}`)
		rl := r.str("id")
		r = ts.do(http.MethodPatch, "/plugins/"+rl, obj("config", obj("policy", "cluster")), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj()["config"].(map[string]any), `{"policy": "cluster", "minute": 5}`)
		// windows in order (the stored minute=5 takes part: PATCH merges)
		r = ts.do(http.MethodPatch, "/plugins/"+rl, obj("config", obj("second", 20, "hour", 10)), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"config": "The limit for minute(5.0) cannot be lower than the limit for second(20.0)"}}`)
		// key-auth: no consumer scope; invalid key_names
		cons := ts.do(http.MethodPost, "/consumers", obj("username", "bob"), enc).mustStatus(t, http.StatusCreated)
		r = ts.do(http.MethodPost, "/plugins", obj("name", "key-auth", "consumer", obj("id", cons.str("id"))), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"consumer": "value must be null"}}`)
		r = ts.do(http.MethodPost, "/plugins", obj("name", "key-auth", "config", obj("key_names", list("hello\\world"))), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"config": {"key_names": ["bad header name 'hello\\world', allowed characters are A-Z, a-z, 0-9, '_', and '-'"]}}}`)
		ts.do(http.MethodPost, "/plugins", obj("name", "key-auth", "config", obj("key_names", list("hello_world", "x-key"))), enc).mustStatus(t, http.StatusCreated)
		// proxy-cache numbers as strings are typed by the plugin's schema in forms
		if enc != encJSON {
			r = ts.do(http.MethodPost, "/plugins", obj("name", "proxy-cache", "config", obj("strategy", "memory", "response_code", list("200", "301"))), enc).mustStatus(t, http.StatusCreated)
			jsonEqual(t, r.obj()["config"].(map[string]any)["response_code"], `[200, 301]`)
		}
		// foreign key by an unknown endpoint key
		r = ts.do(http.MethodPost, "/plugins", rateLimiting("consumer", obj("username", "nobody"), "config", obj("hour", 5)), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"code": 13, "message": "foreign key unresolved (consumer.username: the foreign key cannot be resolved with '{username=\"nobody\"}' for an existing 'consumers' entity)"}`)
	})
}

// "update updated_at after config changed"
func TestAdminPlugins_UpdatedAt(t *testing.T) {
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			now := testNow
			ts := newTestServer(t, func(o *Options) { o.Now = func() time.Time { return now } })
			p := ts.do(http.MethodPost, "/plugins", rateLimiting(), enc).mustStatus(t, http.StatusCreated)
			now = now.Add(3 * time.Second)
			r := ts.do(http.MethodPatch, "/plugins/"+p.str("id"), obj("config", obj("minute", 6)), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"created_at": 1700000000, "updated_at": 1700000003}`)
		})
	}
}

func TestAdminPlugins_Scopes(t *testing.T) {
	forEachEncoding(t, func(t *testing.T, ts *testServer, enc encoding) {
		svcID, routeID := fixtureService(t, ts)
		cons := ts.do(http.MethodPost, "/consumers", obj("username", "bob"), enc).mustStatus(t, http.StatusCreated)
		consID := cons.str("id")

		// /services/{s}/plugins: by id and by name; form arrays by index.
		body := obj("name", "key-auth", "config", obj("key_names", list("apikey", "key")))
		r := ts.do(http.MethodPost, "/services/svc/plugins", body, enc).mustStatus(t, http.StatusCreated)
		subset(t, r.obj(), `{"service": {"id": "`+svcID+`"}}`)
		jsonEqual(t, r.obj()["config"].(map[string]any)["key_names"], `["apikey", "key"]`)
		svcPlugin := r.str("id")
		if enc == encForm {
			r = ts.do(http.MethodPost, "/services/"+svcID+"/plugins", "name=rate-limiting&config.minute=3&config.limit_by=ip", enc).mustStatus(t, http.StatusCreated)
			subset(t, r.obj(), `{"service": {"id": "`+svcID+`"}}`)
			ts.do(http.MethodDelete, "/plugins/"+r.str("id"), nil, enc).mustStatus(t, http.StatusNoContent)
			r = ts.do(http.MethodPost, "/services/svc/plugins", "name=key-auth&config.key_names[1]=apikey&config.key_names[2]=key&service.id="+svcID, enc)
			r.mustStatus(t, http.StatusConflict)
		}
		// "returns 409 on conflict (same plugin name)"
		r = ts.do(http.MethodPost, "/services/svc/plugins", obj("name", "key-auth"), enc).mustStatus(t, http.StatusConflict)
		jsonEqual(t, r.body, `{"code":5,"name":"unique constraint violation",
			"message":"UNIQUE violation detected on '{consumer=null,name=\"key-auth\",route=null,service={id=\"`+svcID+`\"}}'",
			"fields":{"consumer":null,"name":"key-auth","route":null,"service":{"id":"`+svcID+`"}}}`)
		// "returns 409 on id conflict (same plugin id)"
		r = ts.do(http.MethodPost, "/services/svc/plugins", obj("name", "rate-limiting", "id", svcPlugin, "config", obj("minute", 1)), enc).mustStatus(t, http.StatusConflict)
		subset(t, r.obj(), `{"code": 3}`)
		// "handles invalid input"
		r = ts.do(http.MethodPost, "/services/svc/plugins", obj("config", obj()), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"name": "required field missing"}}`)

		// Routes: the 409 names route={id=…}.
		ts.do(http.MethodPost, "/routes/rt/plugins", obj("name", "key-auth"), enc).mustStatus(t, http.StatusCreated)
		r = ts.do(http.MethodPost, "/routes/"+routeID+"/plugins", obj("name", "key-auth"), enc).mustStatus(t, http.StatusConflict)
		subset(t, r.obj(), `{"message": "UNIQUE violation detected on '{consumer=null,name=\"key-auth\",route={id=\"`+routeID+`\"},service=null}'"}`)

		// Consumers: by id and username; consumer 409; nested reads only
		// see their own.
		r = ts.do(http.MethodPost, "/consumers/bob/plugins", rateLimiting(), enc).mustStatus(t, http.StatusCreated)
		consPlugin := r.str("id")
		subset(t, r.obj(), `{"consumer": {"id": "`+consID+`"}}`)
		r = ts.do(http.MethodPost, "/consumers/"+consID+"/plugins", rateLimiting(), enc).mustStatus(t, http.StatusConflict)
		subset(t, r.obj(), `{"message": "UNIQUE violation detected on '{consumer={id=\"`+consID+`\"},name=\"rate-limiting\",route=null,service=null}'"}`)
		r = ts.do(http.MethodPost, "/consumers/bob/plugins", obj("config", obj()), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"name": "required field missing"}}`)
		r = ts.do(http.MethodGet, "/consumers/bob/plugins", nil, enc).mustStatus(t, http.StatusOK)
		if d := r.obj()["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != consPlugin {
			t.Fatalf("consumer plugins: %s", r.raw)
		}
		// "ignores an invalid body" on GET
		ts.do(http.MethodGet, "/consumers/bob/plugins", "foo", enc).mustStatus(t, http.StatusOK)
		ts.do(http.MethodGet, "/consumers/bob/plugins/"+consPlugin, nil, enc).mustStatus(t, http.StatusOK)
		ts.do(http.MethodPost, "/consumers", obj("username", "alice"), enc).mustStatus(t, http.StatusCreated)
		// "only retrieves if associated to the correct consumer"
		ts.do(http.MethodGet, "/consumers/alice/plugins/"+consPlugin, nil, enc).mustStatus(t, http.StatusNotFound)
		ts.do(http.MethodGet, "/services/svc/plugins/"+consPlugin, nil, enc).mustStatus(t, http.StatusNotFound)
		// PATCH "doesn't override a plugin config if partial", "updates the enabled property"
		r = ts.do(http.MethodPatch, "/consumers/bob/plugins/"+consPlugin, obj("config", obj("hour", 100)), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj()["config"].(map[string]any), `{"minute": 5, "hour": 100}`)
		r = ts.do(http.MethodPatch, "/consumers/bob/plugins/"+consPlugin, obj("enabled", false), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"enabled": false, "consumer": {"id": "`+consID+`"}}`)
		subset(t, r.obj()["config"].(map[string]any), `{"minute": 5, "hour": 100}`)
		r = ts.do(http.MethodPatch, "/consumers/bob/plugins/"+consPlugin, obj("name", "foo"), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"name": "plugin 'foo' not enabled; add it to the 'plugins' configuration property"}}`)
		ts.do(http.MethodPatch, "/consumers/bob/plugins/5a1e0000-0000-4000-8000-00000000dead", obj("enabled", true), enc).mustStatus(t, http.StatusNotFound)
		// PUT "creates if not found" / "updates if found"
		newID := "5a1e0000-0000-4000-8000-000000000def"
		r = ts.do(http.MethodPut, "/consumers/bob/plugins/"+newID, obj("name", "proxy-cache", "config", obj("strategy", "memory")), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"id": "`+newID+`", "consumer": {"id": "`+consID+`"}}`)
		r = ts.do(http.MethodPut, "/consumers/bob/plugins/"+newID, obj("name", "proxy-cache", "config", obj("strategy", "memory", "cache_ttl", 5)), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj()["config"].(map[string]any), `{"cache_ttl": 5}`)
		// DELETE, then 404
		ts.do(http.MethodDelete, "/consumers/bob/plugins/"+newID, nil, enc).mustStatus(t, http.StatusNoContent)
		ts.do(http.MethodDelete, "/consumers/bob/plugins/"+newID, nil, enc).mustStatus(t, http.StatusNotFound)

		// Cascades: deleting the consumer, route and service deletes
		// their plugins (a service with routes still cannot go).
		ts.do(http.MethodDelete, "/consumers/bob", nil, enc).mustStatus(t, http.StatusNoContent)
		ts.do(http.MethodGet, "/plugins/"+consPlugin, nil, enc).mustStatus(t, http.StatusNotFound)
		ts.do(http.MethodDelete, "/services/svc", nil, enc).mustStatus(t, http.StatusBadRequest)
		ts.do(http.MethodDelete, "/routes/rt", nil, enc).mustStatus(t, http.StatusNoContent)
		ts.do(http.MethodDelete, "/services/svc", nil, enc).mustStatus(t, http.StatusNoContent)
		if r := ts.do(http.MethodGet, "/plugins", nil, enc); len(r.obj()["data"].([]any)) != 0 {
			t.Fatalf("plugins survived their scopes: %s", r.raw)
		}
	})
}

// 03-db/03-plugins_spec: protocols must match the route's, or one route
// of the service's.
func TestAdminPlugins_Protocols(t *testing.T) {
	forEachEncoding(t, func(t *testing.T, ts *testServer, enc encoding) {
		ts.do(http.MethodPost, "/services", obj("name", "tcp-svc", "url", "tcp://t.test:9000"), encJSON).mustStatus(t, http.StatusCreated)
		ts.do(http.MethodPost, "/services/tcp-svc/routes", obj("name", "tcp-rt", "protocols", list("tcp"), "destinations", list(obj("port", 9000))), encJSON).mustStatus(t, http.StatusCreated)
		r := ts.do(http.MethodPost, "/routes/tcp-rt/plugins", obj("name", "proxy-cache", "config", obj("strategy", "memory"), "protocols", list("http")), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"protocols": "must match the associated route's protocols"}}`)
		r = ts.do(http.MethodPost, "/services/tcp-svc/plugins", obj("name", "proxy-cache", "config", obj("strategy", "memory"), "protocols", list("http")), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"protocols": "must match the protocols of at least one route pointing to this Plugin's service"}}`)
		// "validates when associated to a service with no routes"
		ts.do(http.MethodPost, "/services", obj("name", "lonely", "host", "l.test"), encJSON).mustStatus(t, http.StatusCreated)
		ts.do(http.MethodPost, "/services/lonely/plugins", obj("name", "key-auth"), enc).mustStatus(t, http.StatusCreated)
		// tcp is not an HTTP protocol for rate-limiting
		r = ts.do(http.MethodPost, "/plugins", rateLimiting("protocols", list("tcp")), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"protocols": ["expected one of: grpc, grpcs, http, https"]}}`)
	})
}

func TestAdminPlugins_Schemas(t *testing.T) {
	ts := newTestServer(t)
	// "returns the schema of all bundled plugins"
	for _, name := range enabledPlugins(t, ts) {
		r := ts.do(http.MethodGet, "/schemas/plugins/"+name, nil, encJSON).mustStatus(t, http.StatusOK)
		if _, ok := r.obj()["fields"].([]any); !ok {
			t.Errorf("%s: fields is not an array", name)
		}
		if _, ok := r.obj()["entity_checks"].([]any); !ok {
			t.Errorf("%s: entity_checks is not an array", name)
		}
		// "returns nested records and empty array defaults as arrays"
		if strings.Contains(string(r.raw), `"default":{}`) && name != "key-auth" {
			t.Errorf("%s: an empty default rendered as an object: %s", name, r.raw)
		}
	}
	r := ts.do(http.MethodGet, "/schemas/plugins/foobar", nil, encJSON).mustStatus(t, http.StatusNotFound)
	jsonEqual(t, r.body, `{"message":"No plugin named 'foobar'"}`)
	r = ts.do(http.MethodGet, "/plugins/schema/key-auth", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"type": "record", "required": true}`)

	for _, enc := range allEncodings {
		r = ts.do(http.MethodPost, "/schemas/plugins/validate", rateLimiting(), enc).mustStatus(t, http.StatusOK)
		jsonEqual(t, r.body, `{"message":"schema validation successful"}`)
		r = ts.do(http.MethodPost, "/schemas/plugins/validate", obj("name", "rate-limiting", "config", obj("minute", 1, "limit_by", "header")), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"@entity": ["failed conditional validation given value of field 'config.limit_by'"], "config": {"header_name": "required field missing"}}}`)
		for _, entity := range []string{"consumers", "keyauth_credentials", "plugins"} {
			ts.do(http.MethodGet, "/schemas/"+entity, nil, encJSON).mustStatus(t, http.StatusOK)
		}
		ts.do(http.MethodPost, "/schemas/consumers/validate", obj("username", "x"), enc).mustStatus(t, http.StatusOK)
		r = ts.do(http.MethodPost, "/schemas/consumers/validate", obj("tags", list("a")), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"@entity": ["at least one of these fields must be non-empty: 'custom_id', 'username'"]}}`)
	}
	// Nothing was written.
	if r := ts.do(http.MethodGet, "/plugins", nil, encJSON); len(r.obj()["data"].([]any)) != 0 {
		t.Fatal("validate wrote a plugin")
	}
}

// The defaults /schemas/plugins/{name} advertises are what the plugins
// store, for every plugin the node serves: decK fills a plugin from them,
// writes it, and must see no diff on the next sync.
func TestAdminPlugins_SchemaDefaultsEqualStored(t *testing.T) {
	ts := newTestServer(t)
	for _, name := range enabledPlugins(t, ts) {
		t.Run(name, func(t *testing.T) {
			body, ok := minimalPluginBodies[name]
			if !ok {
				t.Fatalf("no minimal body for plugin %s in minimalPluginBodies", name)
			}
			stored := ts.do(http.MethodPost, "/plugins", body, encJSON).mustStatus(t, http.StatusCreated).obj()
			sch := ts.do(http.MethodGet, "/schemas/plugins/"+name, nil, encJSON).mustStatus(t, http.StatusOK).obj()
			defaults := map[string]any{}
			for _, f := range sch["fields"].([]any) {
				for fname, def := range f.(map[string]any) {
					defaults[fname] = fieldDefault(def.(map[string]any))
				}
			}
			jsonEqual(t, stored["protocols"], string(mustJSON(t, defaults["protocols"])))
			cfg := stored["config"].(map[string]any)
			want := defaults["config"].(map[string]any)
			given, _ := body["config"].(map[string]any)
			for k, v := range cfg {
				if _, ok := given[k]; ok {
					continue
				}
				if diff := string(mustJSON(t, v)); diff != string(mustJSON(t, want[k])) {
					t.Errorf("config.%s: stored %s, schema default %s", k, diff, mustJSON(t, want[k]))
				}
			}
			if len(cfg) != len(want) {
				t.Errorf("%d stored config fields, %d in the schema (shorthands included)", len(cfg), len(want))
			}

			// decK's round trip: the file's config filled from the schema
			// defaults is written back (PUT) and read again unchanged.
			filled := map[string]any{}
			for k, v := range want {
				filled[k] = v
			}
			for k, v := range given {
				filled[k] = v
			}
			id, _ := stored["id"].(string)
			put := ts.do(http.MethodPut, "/plugins/"+id, obj("name", name, "config", filled), encJSON).mustStatus(t, http.StatusOK)
			again := ts.do(http.MethodGet, "/plugins/"+id, nil, encJSON).mustStatus(t, http.StatusOK)
			jsonEqual(t, again.obj()["config"], string(mustJSON(t, filled)))
			jsonEqual(t, again.body, string(put.raw))
			ts.do(http.MethodDelete, "/plugins/"+id, nil, encJSON).mustStatus(t, http.StatusNoContent)
		})
	}
}

// enabledPlugins are the names GET /plugins/enabled lists.
func enabledPlugins(t *testing.T, ts *testServer) []string {
	t.Helper()
	r := ts.do(http.MethodGet, "/plugins/enabled", nil, encJSON).mustStatus(t, http.StatusOK)
	var out []string
	for _, n := range r.obj()["enabled_plugins"].([]any) {
		out = append(out, n.(string))
	}
	if len(out) == 0 {
		t.Fatal("no plugin enabled")
	}
	return out
}

// fieldDefault is how decK reads a field's default from a /schemas
// rendering: records from their fields (and shorthand fields), the
// default otherwise, null without one.
func fieldDefault(f map[string]any) any {
	if f["type"] != "record" {
		return f["default"]
	}
	out := map[string]any{}
	var lists []any
	if fs, ok := f["fields"].([]any); ok {
		lists = append(lists, fs...)
	}
	for _, sub := range lists {
		for name, def := range sub.(map[string]any) {
			out[name] = fieldDefault(def.(map[string]any))
		}
	}
	// Shorthands mirror their targets: here every redis_* shorthand
	// echoes config.redis.<same name>.
	if sh, ok := f["shorthand_fields"].([]any); ok {
		redis, _ := out["redis"].(map[string]any)
		for _, s := range sh {
			for name := range s.(map[string]any) {
				out[name] = redis[strings.TrimPrefix(name, "redis_")]
			}
		}
	}
	return out
}
