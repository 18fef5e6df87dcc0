package admin

import (
	"fmt"
	"net/http"
	"testing"
)

// Kong's spec/02-integration/04-admin_api/07-upstreams_routes_spec.lua.
func TestAdmin_UpstreamCreate(t *testing.T) {
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			ts := newTestServer(t)
			tests := []struct {
				name string
				body map[string]any
				want string
			}{
				{"defaults", obj("name", "my.upstream"), `{"name": "my.upstream", "algorithm": "round-robin", "slots": 10000,
					"hash_on": "none", "hash_fallback": "none", "hash_on_header": null, "hash_fallback_header": null,
					"hash_on_cookie": null, "hash_on_cookie_path": "/", "tags": null, "host_header": null,
					"client_certificate": null, "use_srv_name": false,
					"healthchecks": {"active": {"type": "http", "timeout": 1, "concurrency": 10, "http_path": "/", "https_sni": null,
						"https_verify_certificate": true, "headers": null,
						"healthy": {"interval": 0, "http_statuses": [200, 302], "successes": 0},
						"unhealthy": {"interval": 0, "http_statuses": [429, 404, 500, 501, 502, 503, 504, 505], "tcp_failures": 0, "timeouts": 0, "http_failures": 0}},
					"passive": {"type": "http",
						"healthy": {"http_statuses": [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308], "successes": 0},
						"unhealthy": {"http_statuses": [429, 500, 503], "tcp_failures": 0, "timeouts": 0, "http_failures": 0}},
					"threshold": 0}}`},
				{"hashing", obj("name", "u2", "slots", 10, "hash_on", "consumer", "hash_fallback", "ip"),
					`{"slots": 10, "hash_on": "consumer", "hash_fallback": "ip", "algorithm": "consistent-hashing"}`},
				{"headers", obj("name", "u3", "hash_on", "header", "hash_on_header", "HeaderName1", "hash_fallback", "header", "hash_fallback_header", "HeaderName2"),
					`{"hash_on_header": "HeaderName1", "hash_fallback_header": "HeaderName2"}`},
				{"cookie", obj("name", "u4", "hash_on", "cookie", "hash_on_cookie", "CookieName1", "hash_on_cookie_path", "/foo"),
					`{"hash_on": "cookie", "hash_on_cookie": "CookieName1", "hash_on_cookie_path": "/foo"}`},
				{"max slots", obj("name", "u5", "slots", 65536, "host_header", "localhost"), `{"slots": 65536, "host_header": "localhost"}`},
				{"least-connections resets hash_on", obj("name", "u6", "algorithm", "least-connections", "hash_on", "none"),
					`{"algorithm": "least-connections", "hash_on": "none"}`},
				{"deep healthchecks", obj("name", "u7", "healthchecks", obj("active", obj("healthy", obj("interval", 5)))),
					`{"healthchecks": {"active": {"type": "http", "timeout": 1, "concurrency": 10, "http_path": "/", "https_sni": null,
						"https_verify_certificate": true, "headers": null,
						"healthy": {"interval": 5, "http_statuses": [200, 302], "successes": 0},
						"unhealthy": {"interval": 0, "http_statuses": [429, 404, 500, 501, 502, 503, 504, 505], "tcp_failures": 0, "timeouts": 0, "http_failures": 0}},
					"passive": {"type": "http",
						"healthy": {"http_statuses": [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308], "successes": 0},
						"unhealthy": {"http_statuses": [429, 500, 503], "tcp_failures": 0, "timeouts": 0, "http_failures": 0}},
					"threshold": 0}}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := ts.do(http.MethodPost, "/upstreams", tt.body, enc).mustStatus(t, http.StatusCreated)
					subset(t, r.obj(), tt.want)
				})
			}
		})
	}
}

func TestAdmin_UpstreamCreateErrors(t *testing.T) {
	violation := func(field, msg string) string {
		return fmt.Sprintf(`{"code":2,"name":"schema violation","message":"schema violation (%s: %s)","fields":{"%s":"%s"}}`, field, msg, field, msg)
	}
	conditional := func(ifField, thenField, msg string) string {
		return fmt.Sprintf(`{"code":2,"name":"schema violation","message":"2 schema violations (failed conditional validation given value of field '%s'; %s: %s)","fields":{"@entity":["failed conditional validation given value of field '%s'"],"%s":"%s"}}`,
			ifField, thenField, msg, ifField, thenField, msg)
	}
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			ts := newTestServer(t)
			tests := []struct {
				name string
				body map[string]any
				want string
			}{
				{"missing name", obj(), violation("name", "required field missing")},
				{"bad name", obj("name", "some invalid host name"), violation("name", "Invalid name ('some invalid host name'); must be a valid hostname")},
				{"ip name", obj("name", "1.2.3.4"), violation("name", "Invalid name ('1.2.3.4'); no ip addresses allowed")},
				{"port name", obj("name", "a.test:80"), violation("name", "Invalid name ('a.test:80'); no port allowed")},
				{"slots", obj("name", "u", "slots", 65537), violation("slots", "value should be between 10 and 65536")},
				{"hash_on", obj("name", "u", "hash_on", "something that is invalid"),
					violation("hash_on", "expected one of: none, consumer, ip, header, cookie, path, query_arg, uri_capture")},
				{"same fallback", obj("name", "u", "hash_on", "consumer", "hash_fallback", "consumer"),
					conditional("hash_on", "hash_fallback", "expected one of: none, ip, header, cookie, path, query_arg, uri_capture")},
				{"bad header", obj("name", "u", "hash_on", "header", "hash_on_header", "not a <> valid <> header name"),
					violation("hash_on_header", "bad header name 'not a <> valid <> header name', allowed characters are A-Z, a-z, 0-9, '_', and '-'")},
				{"same headers", obj("name", "u", "hash_on", "header", "hash_on_header", "h1", "hash_fallback", "header", "hash_fallback_header", "h1"),
					`{"code":2,"name":"schema violation","message":"schema violation (values of these fields must be distinct: 'hash_on_header', 'hash_fallback_header')","fields":{"@entity":["values of these fields must be distinct: 'hash_on_header', 'hash_fallback_header'"]}}`},
				{"cookie fallback", obj("name", "u", "hash_on", "cookie", "hash_on_cookie", "c", "hash_fallback", "header", "hash_fallback_header", "h"),
					conditional("hash_on", "hash_fallback", "expected one of: none")},
				{"missing header", obj("name", "u", "hash_on", "header"), conditional("hash_on", "hash_on_header", "required field missing")},
				{"missing fallback header", obj("name", "u", "hash_on", "consumer", "hash_fallback", "header"),
					conditional("hash_fallback", "hash_fallback_header", "required field missing")},
				{"bad cookie", obj("name", "u", "hash_on", "cookie", "hash_on_cookie", "not a <> valid <> cookie name"),
					violation("hash_on_cookie", "bad cookie name 'not a <> valid <> cookie name', allowed characters are A-Z, a-z, 0-9, '_', and '-'")},
				{"bad cookie path", obj("name", "u", "hash_on", "cookie", "hash_on_cookie", "c", "hash_on_cookie_path", "not a path"),
					violation("hash_on_cookie_path", "should start with: /")},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := ts.do(http.MethodPost, "/upstreams", tt.body, enc).mustStatus(t, http.StatusBadRequest)
					jsonEqual(t, r.body, tt.want)
				})
			}
		})
	}
}

func TestAdmin_UpstreamHealthchecksErrors(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		hc   map[string]any
		want string
	}{
		{obj("active", obj("timeout", -1)), `{"active":{"timeout":"value should be between 0 and 65535"}}`},
		{obj("active", obj("concurrency", 0)), `{"active":{"concurrency":"value should be between 1 and 2147483648"}}`},
		{obj("active", obj("http_path", "")), `{"active":{"http_path":"length must be at least 1"}}`},
		{obj("active", obj("https_sni", "127.0.0.1")), `{"active":{"https_sni":"must not be an IP"}}`},
		{obj("active", obj("https_sni", "example.com:1234")), `{"active":{"https_sni":"must not have a port"}}`},
		{obj("active", obj("healthy", obj("http_statuses", list(99)))), `{"active":{"healthy":{"http_statuses":["value should be between 100 and 999"]}}}`},
		{obj("active", obj("healthy", obj("http_statuses", 404))), `{"active":{"healthy":{"http_statuses":"expected an array"}}}`},
		{obj("passive", obj("unhealthy", obj("tcp_failures", 256))), `{"passive":{"unhealthy":{"tcp_failures":"value should be between 0 and 255"}}}`},
		{obj("passive", obj("unhealthy", obj("timeouts", 0.5))), `{"passive":{"unhealthy":{"timeouts":"expected an integer"}}}`},
		{obj("threshold", 101), `{"threshold":"value should be between 0 and 100"}`},
		{obj("active", obj("foo", 1)), `{"active":{"foo":"unknown field"}}`},
	}
	for _, tt := range tests {
		r := ts.do(http.MethodPost, "/upstreams", obj("name", "u", "healthchecks", tt.hc), encJSON).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.obj()["fields"].(map[string]any)["healthchecks"], tt.want)
	}
	r := ts.do(http.MethodPost, "/upstreams", obj("name", "u", "healthchecks", obj("active", obj("timeout", -1))), encJSON)
	if got, want := r.str("message"), "schema violation (healthchecks.active: {\n  timeout = \"value should be between 0 and 65535\"\n})"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestAdmin_UpstreamUniqueAndPut(t *testing.T) {
	ts := newTestServer(t)
	up := ts.do(http.MethodPost, "/upstreams", obj("name", "my.upstream"), encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodPost, "/upstreams", obj("name", "my.upstream"), encJSON).mustStatus(t, http.StatusConflict)
	jsonEqual(t, r.body, `{"code":5,"name":"unique constraint violation","message":"UNIQUE violation detected on '{name=\"my.upstream\"}'","fields":{"name":"my.upstream"}}`)

	r = ts.do(http.MethodPut, "/upstreams/my-upstream", obj(), encForm).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"name": "my-upstream", "slots": 10000}`)
	id := up.str("id")
	r = ts.do(http.MethodPut, "/upstreams/"+id, obj("name", "renamed", "slots", 100), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"id": "`+id+`", "name": "renamed", "slots": 100}`)
	r = ts.do(http.MethodPut, "/upstreams/"+id, obj(), encJSON).mustStatus(t, http.StatusBadRequest)
	if r.str("message") != "schema violation (name: required field missing)" {
		t.Errorf("message %q", r.str("message"))
	}
	r = ts.do(http.MethodPut, "/upstreams/1.2.3.4", obj(), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":10,"name":"invalid unique name","message":"Invalid name ('1.2.3.4'); no ip addresses allowed"}`)
}

func TestAdmin_UpstreamPatchDeepMerge(t *testing.T) {
	ts := newTestServer(t)
	ts.do(http.MethodPost, "/upstreams", obj("name", "u", "tags", list("a", "b")), encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodPatch, "/upstreams/u", obj("healthchecks", obj("passive", obj("healthy", obj("successes", 1)))), encForm).mustStatus(t, http.StatusOK)
	hc := r.obj()["healthchecks"].(map[string]any)
	subset(t, hc["passive"].(map[string]any), `{"type": "http", "healthy": {"http_statuses": [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308], "successes": 1}}`)
	subset(t, hc["active"].(map[string]any), `{"http_path": "/", "concurrency": 10}`)
	// Arrays are replaced, not merged; null clears.
	r = ts.do(http.MethodPatch, "/upstreams/u", obj("tags", list("c"), "healthchecks", obj("active", obj("unhealthy", obj("http_statuses", list(500))))), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"tags": ["c"]}`)
	subset(t, r.obj()["healthchecks"].(map[string]any)["active"].(map[string]any)["unhealthy"].(map[string]any), `{"http_statuses": [500], "tcp_failures": 0}`)
	r = ts.do(http.MethodPatch, "/upstreams/u", obj("tags", nil, "hash_on", "ip"), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"tags": null, "hash_on": "ip", "algorithm": "consistent-hashing"}`)
	r = ts.do(http.MethodPatch, "/upstreams/u", obj("algorithm", "least-connections"), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"hash_on": "none", "algorithm": "least-connections"}`)
	r = ts.do(http.MethodPatch, "/upstreams/u", obj("healthchecks", nil), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj()["healthchecks"].(map[string]any)["active"].(map[string]any)["unhealthy"].(map[string]any), `{"http_statuses": [429, 404, 500, 501, 502, 503, 504, 505]}`)
}

func TestAdmin_UpstreamListDelete(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(http.MethodGet, "/upstreams", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, r.body, `{"data":[],"next":null}`)
	for i := range 10 {
		ts.do(http.MethodPost, "/upstreams", obj("name", fmt.Sprintf("u%d", i)), encJSON).mustStatus(t, http.StatusCreated)
	}
	r = ts.do(http.MethodGet, "/upstreams?size=1&foo=bar", nil, encJSON).mustStatus(t, http.StatusOK)
	if r.str("offset") == "" || len(r.obj()["data"].([]any)) != 1 {
		t.Errorf("size=1 page: %s", r.raw)
	}
	r = ts.do(http.MethodGet, "/upstreams?tags=", nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":11,"name":"invalid options","message":"invalid option (tags: cannot be null)","options":{"tags":"cannot be null"}}`)

	up := ts.do(http.MethodGet, "/upstreams/u1", nil, encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodPost, "/upstreams/u1/targets", obj("target", "a.test:80"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams/u1/targets", obj("target", "b.test:80"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodDelete, "/upstreams/u1/targets/a.test:80", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodGet, "/upstreams/u1", nil, encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodDelete, "/upstreams/"+up.str("id"), nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodDelete, "/upstreams/u2", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodDelete, "/upstreams/u2", nil, encJSON).mustStatus(t, http.StatusNoContent)
	if ts2, _ := ts.store.Snapshot().Targets(); len(ts2) != 0 {
		t.Errorf("targets survive their upstream: %d", len(ts2))
	}
	r = ts.do(http.MethodDelete, "/upstreams", nil, encJSON).mustStatus(t, http.StatusMethodNotAllowed)
	jsonEqual(t, r.body, `{"message":"Method not allowed"}`)
}
