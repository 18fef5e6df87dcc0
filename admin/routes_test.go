package admin

import (
	"net/http"
	"testing"
)

// Kong's spec/02-integration/04-admin_api/09-routes_routes_spec.lua.
func TestAdmin_RouteCreate(t *testing.T) {
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			ts := newTestServer(t)
			svc := ts.do(http.MethodPost, "/services", obj("name", "svc", "host", "x.test"), enc).mustStatus(t, http.StatusCreated)
			svcID := svc.str("id")
			tests := []struct {
				name string
				body map[string]any
				want string
			}{
				{"defaults", obj("protocols", list("http"), "hosts", list("my.route.test"), "headers", obj("location", list("my-location")), "service", obj("id", svcID)), `{
					"name": null, "protocols": ["http"], "methods": null, "hosts": ["my.route.test"], "paths": null,
					"headers": {"location": ["my-location"]}, "snis": null, "sources": null, "destinations": null,
					"strip_path": true, "preserve_host": false, "regex_priority": 0, "path_handling": "v0",
					"https_redirect_status_code": 426, "request_buffering": true, "response_buffering": true,
					"service": {"id": "` + svcID + `"}, "tags": null}`},
				{"grpc", obj("protocols", list("grpc", "grpcs"), "hosts", list("g.test")), `{"protocols": ["grpc", "grpcs"], "strip_path": false, "service": null}`},
				{"service by name", obj("methods", list("GET", "POST"), "hosts", list("a.test", "*.b.test"), "paths", list("/x", "~/y/\\d+$"), "service", obj("name", "svc")),
					`{"methods": ["GET", "POST"], "hosts": ["a.test", "*.b.test"], "paths": ["/x", "~/y/\\d+$"], "service": {"id": "` + svcID + `"}}`},
				{"stream", obj("protocols", list("tcp"), "sources", list(obj("ip", "10.0.0.0/8")), "destinations", list(obj("port", 80))),
					`{"protocols": ["tcp"], "sources": [{"ip": "10.0.0.0/8"}], "destinations": [{"port": 80}]}`},
				{"duplicate set entries", obj("methods", list("GET", "GET"), "paths", list("/d")), `{"methods": ["GET"]}`},
			}
			for _, tt := range tests {
				if enc != encJSON && tt.name == "stream" {
					continue // arrays of records need JSON
				}
				t.Run(tt.name, func(t *testing.T) {
					r := ts.do(http.MethodPost, "/routes", tt.body, enc).mustStatus(t, http.StatusCreated)
					subset(t, r.obj(), tt.want)
				})
			}
		})
	}
}

func TestAdmin_RouteCreateErrors(t *testing.T) {
	protocolsErr := "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp"
	httpsEntity := "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			ts := newTestServer(t)
			tests := []struct {
				name string
				body map[string]any
				want string
			}{
				{"empty", obj(), `{"code":2,"name":"schema violation","message":"schema violation (` + httpsEntity + `)","fields":{"@entity":["` + httpsEntity + `"]}}`},
				{"bad protocol", obj("protocols", list("foo", "http")),
					`{"code":2,"name":"schema violation","message":"schema violation (protocols.1: ` + protocolsErr + `)","fields":{"protocols":["` + protocolsErr + `"]}}`},
				{"http only", obj("protocols", list("http")),
					`{"code":2,"name":"schema violation","message":"schema violation (must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http')","fields":{"@entity":["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"]}}`},
				{"regex_priority", obj("paths", list("/a"), "regex_priority", "foobar"),
					`{"code":2,"name":"schema violation","message":"schema violation (regex_priority: expected an integer)","fields":{"regex_priority":"expected an integer"}}`},
				{"grpcs needs attributes", obj("protocols", list("grpcs")),
					`{"code":2,"name":"schema violation","message":"schema violation (must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'grpcs')","fields":{"@entity":["must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'grpcs'"]}}`},
				{"grpc strip_path", obj("protocols", list("grpc"), "paths", list("/a"), "strip_path", true),
					`{"code":2,"name":"schema violation","message":"schema violation (strip_path: cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs')","fields":{"strip_path":"cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'"}}`},
				{"grpc methods", obj("protocols", list("grpc"), "paths", list("/a"), "methods", list("GET")),
					`{"code":2,"name":"schema violation","message":"schema violation (methods: cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs')","fields":{"methods":"cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'"}}`},
				{"mixed protocols", obj("protocols", list("http", "tcp"), "paths", list("/a")),
					`{"code":2,"name":"schema violation","message":"schema violation (protocols: these sets are mutually exclusive: ('http', 'https'), ('tcp', 'tls', 'udp'))","fields":{"protocols":"these sets are mutually exclusive: ('http', 'https'), ('tcp', 'tls', 'udp')"}}`},
				{"path start", obj("paths", list("a")),
					`{"code":2,"name":"schema violation","message":"schema violation (paths.1: should start with: / (fixed path) or ~/ (regex path))","fields":{"paths":["should start with: / (fixed path) or ~/ (regex path)"]}}`},
				{"path normalised", obj("paths", list("/a/../b")),
					`{"code":2,"name":"schema violation","message":"schema violation (paths.1: non-normalized path, consider use '/b' instead)","fields":{"paths":["non-normalized path, consider use '/b' instead"]}}`},
				{"second path", obj("paths", list("/ok", "/a//b")),
					`{"code":2,"name":"schema violation","message":"schema violation (paths.2: must not have empty segments)","fields":{"paths":[null,"must not have empty segments"]}}`},
				{"regex", obj("paths", list("~/a(")),
					`{"code":2,"name":"schema violation","message":"schema violation (paths.1: invalid regex: '/a(' (PCRE returned: missing closing ): ` + "`/a(`" + `))","fields":{"paths":["invalid regex: '/a(' (PCRE returned: missing closing ): ` + "`/a(`" + `)"]}}`},
				{"two wildcards", obj("hosts", list("*.a.*")),
					`{"code":2,"name":"schema violation","message":"schema violation (hosts.1: invalid wildcard: must have at most one wildcard)","fields":{"hosts":["invalid wildcard: must have at most one wildcard"]}}`},
				{"middle wildcard", obj("hosts", list("a.*.b")),
					`{"code":2,"name":"schema violation","message":"schema violation (hosts.1: invalid wildcard: must be placed at leftmost or rightmost label)","fields":{"hosts":["invalid wildcard: must be placed at leftmost or rightmost label"]}}`},
				{"host header", obj("headers", obj("Host", list("x"))),
					`{"code":2,"name":"schema violation","message":"schema violation (headers: cannot contain 'host' header, which must be specified in the 'hosts' attribute)","fields":{"headers":"cannot contain 'host' header, which must be specified in the 'hosts' attribute"}}`},
				{"method case", obj("methods", list("get")),
					`{"code":2,"name":"schema violation","message":"schema violation (methods.1: invalid value: get)","fields":{"methods":["invalid value: get"]}}`},
				{"redirect code", obj("paths", list("/a"), "https_redirect_status_code", 300),
					`{"code":2,"name":"schema violation","message":"schema violation (https_redirect_status_code: expected one of: 426, 301, 302, 307, 308)","fields":{"https_redirect_status_code":"expected one of: 426, 301, 302, 307, 308"}}`},
				{"snis on http", obj("protocols", list("http"), "paths", list("/a"), "snis", list("a.test")),
					`{"code":2,"name":"schema violation","message":"2 schema violations (failed conditional validation given value of field 'protocols'; snis: 'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough')","fields":{"@entity":["failed conditional validation given value of field 'protocols'"],"snis":"'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'"}}`},
				{"service name missing", obj("paths", list("/a"), "service", obj("name", "non-existing")),
					`{"code":13,"name":"foreign keys unresolved","message":"foreign key unresolved (service.name: the foreign key cannot be resolved with '{name=\"non-existing\"}' for an existing 'services' entity)","fields":{"service":{"name":"the foreign key cannot be resolved with '{name=\"non-existing\"}' for an existing 'services' entity"}}}`},
				{"service without key", obj("paths", list("/a"), "service", obj("protocol", "http")),
					`{"code":2,"name":"schema violation","message":"schema violation (service.id: missing primary key)","fields":{"service":{"id":"missing primary key"}}}`},
				{"service missing", obj("paths", list("/a"), "service", obj("id", "9e6e6b3c-2b7e-4d2a-8f4c-0c1d2e3f4a5b")),
					`{"code":4,"name":"foreign key violation","message":"the foreign key '{id=\"9e6e6b3c-2b7e-4d2a-8f4c-0c1d2e3f4a5b\"}' does not reference an existing 'services' entity.","fields":{"service":{"id":"9e6e6b3c-2b7e-4d2a-8f4c-0c1d2e3f4a5b"}}}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := ts.do(http.MethodPost, "/routes", tt.body, enc)
					want := http.StatusBadRequest
					jsonEqual(t, r.body, tt.want)
					if r.status != want {
						t.Errorf("status %d, want %d", r.status, want)
					}
				})
			}
		})
	}
	ts := newTestServer(t)
	r := ts.do(http.MethodPost, "/routes", obj("paths", list("/a"), "service", obj("name", nil)), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (service.id: missing primary key)","fields":{"service":{"id":"missing primary key"}}}`)
}

func TestAdmin_RouteCollectionMethods(t *testing.T) {
	ts := newTestServer(t)
	for _, m := range []string{http.MethodDelete, http.MethodPut, http.MethodPatch} {
		r := ts.do(m, "/routes", nil, encJSON).mustStatus(t, http.StatusMethodNotAllowed)
		jsonEqual(t, r.body, `{"message":"Method not allowed"}`)
	}
	r := ts.do(http.MethodGet, "/routes?size=x", nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":9,"name":"invalid size","message":"size must be a number"}`)
	r = ts.do(http.MethodGet, "/routes?size=1001", nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":9,"name":"invalid size","message":"size must be an integer between 1 and 1000"}`)
	r = ts.do(http.MethodGet, "/routes?offset=x", nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":7,"name":"invalid offset","message":"'x' is not a valid offset: bad base64 encoding"}`)
}

func TestAdmin_RoutePutPatch(t *testing.T) {
	ts := newTestServer(t)
	svc := ts.do(http.MethodPost, "/services", obj("host", "x.test"), encJSON).mustStatus(t, http.StatusCreated)
	svcRef := obj("id", svc.str("id"))
	id := "5bd44b55-8f3c-4b5e-a0c2-1b1c1d1e1f10"
	r := ts.do(http.MethodPut, "/routes/"+id, obj("paths", list("/updated-paths"), "service", svcRef), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"id": "`+id+`", "paths": ["/updated-paths"], "hosts": null, "methods": null}`)
	r = ts.do(http.MethodPut, "/routes/by-name", obj("hosts", list("h.test")), encForm).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"name": "by-name", "hosts": ["h.test"]}`)
	r = ts.do(http.MethodPut, "/routes/"+id, obj("hosts", list("new.test")), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"id": "`+id+`", "hosts": ["new.test"], "paths": null, "service": null}`)
	r = ts.do(http.MethodPut, "/routes/"+id, obj(), encJSON).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"code": 2, "fields": {"@entity": ["must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'https'"]}}`)

	ts.do(http.MethodPatch, "/routes/"+id, obj("methods", list("GET"), "service", svcRef), encJSON).mustStatus(t, http.StatusOK)
	r = ts.do(http.MethodPatch, "/routes/"+id, obj("methods", nil, "hosts", nil, "paths", list("/p")), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"methods": null, "hosts": null, "paths": ["/p"]}`)
	r = ts.do(http.MethodPatch, "/routes/"+id, obj("methods", list(), "hosts", list("h2.test"), "paths", list()), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"methods": [], "paths": [], "hosts": ["h2.test"]}`)
	r = ts.do(http.MethodPatch, "/routes/"+id, obj("service", nil), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"service": null}`)
	ts.do(http.MethodPatch, "/routes/a4b0d0e1-1111-4222-8333-944455556666", obj("paths", list("/x")), encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodDelete, "/routes/by-name", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodDelete, "/routes/by-name", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodDelete, "/routes/"+id, nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodGet, "/routes/"+id, nil, encJSON).mustStatus(t, http.StatusNotFound)
}

func TestAdmin_RouteMaxSafeInteger(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(http.MethodPost, "/routes", `{"paths":["/a"],"regex_priority":9007199254740992}`, encJSON).mustStatus(t, http.StatusCreated)
	if !contains(string(r.raw), `"regex_priority":9007199254740992`) {
		t.Errorf("regex_priority not exact: %s", r.raw)
	}
	r = ts.do(http.MethodGet, "/routes/"+r.str("id"), nil, encJSON).mustStatus(t, http.StatusOK)
	if !contains(string(r.raw), `"regex_priority":9007199254740992`) {
		t.Errorf("regex_priority not exact after read: %s", r.raw)
	}
}

func TestAdmin_ServiceRoutesNested(t *testing.T) {
	ts := newTestServer(t)
	a := ts.do(http.MethodPost, "/services", obj("name", "a", "host", "a.test"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/services", obj("name", "b", "host", "b.test"), encJSON).mustStatus(t, http.StatusCreated)
	// The parent wins over a service given in the body.
	ra := ts.do(http.MethodPost, "/services/a/routes", obj("paths", list("/a"), "service", obj("name", "b")), encJSON).mustStatus(t, http.StatusCreated)
	subset(t, ra.obj(), `{"service": {"id": "`+a.str("id")+`"}}`)
	rb := ts.do(http.MethodPost, "/services/b/routes", obj("name", "rb", "paths", list("/b"), "tags", list("t")), encJSON).mustStatus(t, http.StatusCreated)

	r := ts.do(http.MethodGet, "/services/a/routes?tags=zzz", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, r.body, `{"data":[`+string(ra.raw)+`],"next":null}`)
	ts.do(http.MethodGet, "/services/nope/routes", nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodPost, "/services/nope/routes", obj("paths", list("/x")), encJSON).mustStatus(t, http.StatusNotFound)

	ts.do(http.MethodGet, "/services/b/routes/rb", nil, encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodGet, "/services/a/routes/rb", nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodPatch, "/services/a/routes/rb", obj("paths", list("/c")), encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodDelete, "/services/a/routes/rb", nil, encJSON).mustStatus(t, http.StatusNotFound)
	r = ts.do(http.MethodPatch, "/services/b/routes/rb", obj("tags", "tutorial"), encForm).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"tags": ["tutorial"], "service": {"id": "`+rb.obj()["service"].(map[string]any)["id"].(string)+`"}}`)
	// Nested PUT moves the route under this service, as Kong's does.
	r = ts.do(http.MethodPut, "/services/a/routes/rb", obj("paths", list("/moved")), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"name": "rb", "service": {"id": "`+a.str("id")+`"}}`)
	ts.do(http.MethodDelete, "/services/a/routes/rb", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodGet, "/routes/rb", nil, encJSON).mustStatus(t, http.StatusNotFound)
}

func TestAdmin_RouteService(t *testing.T) {
	ts := newTestServer(t)
	svc := ts.do(http.MethodPost, "/services", obj("name", "s", "host", "a.test"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/services/s/routes", obj("name", "r1", "paths", list("/a")), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/routes", obj("name", "r2", "paths", list("/b")), encJSON).mustStatus(t, http.StatusCreated)

	r := ts.do(http.MethodGet, "/routes/r1/service", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, r.body, string(svc.raw))
	ts.do(http.MethodGet, "/routes/r2/service", nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodGet, "/routes/nope/service", nil, encJSON).mustStatus(t, http.StatusNotFound)

	r = ts.do(http.MethodPatch, "/routes/r1/service", obj("name", "edited", "host", "edited.test", "path", nil), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"id": "`+svc.str("id")+`", "name": "edited", "host": "edited.test", "path": null}`)
	r = ts.do(http.MethodPatch, "/routes/r1/service", obj("url", "http://edited2.test:1234/foo"), encForm).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"host": "edited2.test", "port": 1234, "path": "/foo", "protocol": "http"}`)

	r = ts.do(http.MethodPut, "/routes/r1/service", obj("connect_timeout", "foobar"), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"2 schema violations (connect_timeout: expected an integer; host: required field missing)","fields":{"connect_timeout":"expected an integer","host":"required field missing"}}`)

	// PUT on a route without a service creates one and links it.
	r = ts.do(http.MethodPut, "/routes/r2/service", obj("url", "http://konghq.test"), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"host": "konghq.test", "protocol": "http", "port": 80}`)
	linked := ts.do(http.MethodGet, "/routes/r2", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, linked.obj(), `{"service": {"id": "`+r.str("id")+`"}}`)

	r = ts.do(http.MethodDelete, "/routes/r1/service", nil, encJSON).mustStatus(t, http.StatusMethodNotAllowed)
	jsonEqual(t, r.body, `{"message":"Method not allowed"}`)
	ts.do(http.MethodDelete, "/routes/nope/service", nil, encJSON).mustStatus(t, http.StatusNotFound)
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (func() bool {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
		return false
	})()
}
