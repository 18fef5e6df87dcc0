package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// Kong's spec/02-integration/04-admin_api/10-services_routes_spec.lua, per body encoding.
func TestAdmin_ServiceCreate(t *testing.T) {
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			ts := newTestServer(t)
			tests := []struct {
				name string
				body map[string]any
				want string
			}{
				{"host", obj("protocol", "http", "host", "service.test"), `{
					"name": null, "protocol": "http", "host": "service.test", "port": 80, "path": null,
					"retries": 5, "connect_timeout": 60000, "write_timeout": 60000, "read_timeout": 60000,
					"tags": null, "client_certificate": null, "tls_verify": null, "tls_verify_depth": null,
					"ca_certificates": null, "enabled": true, "created_at": 1700000000, "updated_at": 1700000000}`},
				{"url with slash", obj("url", "http://service.test/"), `{"protocol": "http", "host": "service.test", "port": 80, "path": "/"}`},
				{"https url", obj("url", "https://service.test/"), `{"protocol": "https", "host": "service.test", "port": 443, "path": "/"}`},
				{"explicit port wins", obj("url", "http://example.test:443"), `{"protocol": "http", "port": 443, "path": null}`},
				{"https on 80", obj("url", "https://example2.test:80/"), `{"protocol": "https", "port": 80, "path": "/"}`},
				{"no scheme", obj("url", "//example.test:443/x"), `{"protocol": "https", "port": 443, "path": "/x"}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := ts.do(http.MethodPost, "/services", tt.body, enc).mustStatus(t, http.StatusCreated)
					if !isUUID(r.str("id")) {
						t.Errorf("id %q is not a UUID", r.str("id"))
					}
					subset(t, r.obj(), tt.want)
				})
			}
		})
	}
}

func TestAdmin_ServiceCreateErrors(t *testing.T) {
	protocolErr := "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp"
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			ts := newTestServer(t)
			tests := []struct {
				name string
				body map[string]any
				want string
			}{
				{"empty", obj(), `{"code":2,"name":"schema violation","message":"schema violation (host: required field missing)","fields":{"host":"required field missing"}}`},
				{"bad protocol", obj("host", "x.test", "protocol", "foo"),
					`{"code":2,"name":"schema violation","message":"schema violation (protocol: ` + protocolErr + `)","fields":{"protocol":"` + protocolErr + `"}}`},
				{"invalid url", obj("url", "invalid url"),
					`{"code":2,"name":"schema violation","message":"2 schema violations (host: required field missing; path: should start with: /)","fields":{"host":"required field missing","path":"should start with: /"}}`},
				{"host with port", obj("host", "x.test:80"), `{"code":2,"name":"schema violation","message":"schema violation (host: must not have a port)","fields":{"host":"must not have a port"}}`},
				{"retries range", obj("host", "x.test", "retries", 32768), `{"code":2,"name":"schema violation","message":"schema violation (retries: value should be between 0 and 32767)","fields":{"retries":"value should be between 0 and 32767"}}`},
				{"timeout zero", obj("host", "x.test", "connect_timeout", 0), `{"code":2,"name":"schema violation","message":"schema violation (connect_timeout: value should be between 1 and 2147483646)","fields":{"connect_timeout":"value should be between 1 and 2147483646"}}`},
				{"path empty segment", obj("host", "x.test", "path", "/a//b"), `{"code":2,"name":"schema violation","message":"schema violation (path: must not have empty segments)","fields":{"path":"must not have empty segments"}}`},
				{"path on tcp", obj("host", "x.test", "protocol", "tcp", "path", "/a"), `{"code":2,"name":"schema violation",
					"message":"2 schema violations (failed conditional validation given value of field 'protocol'; path: value must be null)",
					"fields":{"@entity":["failed conditional validation given value of field 'protocol'"],"path":"value must be null"}}`},
				{"tls_verify on http", obj("host", "x.test", "tls_verify", true), `{"code":2,"name":"schema violation",
					"message":"2 schema violations (failed conditional validation given value of field 'protocol'; tls_verify: value must be null)",
					"fields":{"@entity":["failed conditional validation given value of field 'protocol'"],"tls_verify":"value must be null"}}`},
				{"bad name", obj("host", "x.test", "name", "a b"), `{"code":2,"name":"schema violation",
					"message":"schema violation (name: invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~)",
					"fields":{"name":"invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~"}}`},
				{"unknown field", obj("host", "x.test", "foo", "bar"), `{"code":2,"name":"schema violation","message":"schema violation (foo: unknown field)","fields":{"foo":"unknown field"}}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := ts.do(http.MethodPost, "/services", tt.body, enc).mustStatus(t, http.StatusBadRequest)
					jsonEqual(t, r.body, tt.want)
				})
			}
			for _, u := range []string{"", " "} {
				ts.do(http.MethodPost, "/services", obj("url", u), enc).mustStatus(t, http.StatusBadRequest)
			}
		})
	}
}

func TestAdmin_ServiceJSONErrors(t *testing.T) {
	ts := newTestServer(t)
	for _, body := range []string{`{"host": "x.test"`, ``, `[1]`, `"x"`, `{} {}`} {
		r := ts.do(http.MethodPost, "/services", body, encJSON).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, `{"message":"Cannot parse JSON body"}`)
	}
	r := ts.do(http.MethodPost, "/services", obj("host", 1), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (host: expected a string)","fields":{"host":"expected a string"}}`)
}

func TestAdmin_ServiceUnique(t *testing.T) {
	ts := newTestServer(t)
	ts.do(http.MethodPost, "/services", obj("name", "svc", "host", "a.test"), encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodPost, "/services", obj("name", "svc", "host", "b.test"), encJSON).mustStatus(t, http.StatusConflict)
	jsonEqual(t, r.body, `{"code":5,"name":"unique constraint violation","message":"UNIQUE violation detected on '{name=\"svc\"}'","fields":{"name":"svc"}}`)

	id := "a2b6a1d0-7b1b-4ee5-9a3d-2f0e3c9f7a11"
	ts.do(http.MethodPost, "/services", obj("id", id, "host", "a.test"), encJSON).mustStatus(t, http.StatusCreated)
	r = ts.do(http.MethodPost, "/services", obj("id", id, "host", "a.test"), encJSON).mustStatus(t, http.StatusConflict)
	jsonEqual(t, r.body, `{"code":3,"name":"primary key violation","message":"primary key violation on key '{id=\"`+id+`\"}'","fields":{"id":"`+id+`"}}`)
	r = ts.do(http.MethodPost, "/services", obj("id", "nope", "host", "a.test"), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (id: expected a valid UUID)","fields":{"id":"expected a valid UUID"}}`)
}

func TestAdmin_ServiceList(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(http.MethodGet, "/services", nil, encJSON).mustStatus(t, http.StatusOK)
	if string(r.raw) != `{"data":[],"next":null}`+"\n" {
		t.Errorf("empty list = %s", r.raw)
	}
	// Unknown query arguments and a broken body on GET are ignored.
	ts.do(http.MethodGet, "/services?foo=bar", "{broken", encJSON).mustStatus(t, http.StatusOK)

	for i := range 10 {
		ts.do(http.MethodPost, "/services", obj("name", fmt.Sprintf("svc-%d", i), "host", "x.test"), encJSON).mustStatus(t, http.StatusCreated)
	}
	r = ts.do(http.MethodGet, "/services", nil, encJSON).mustStatus(t, http.StatusOK)
	if n := len(r.obj()["data"].([]any)); n != 10 {
		t.Fatalf("got %d services", n)
	}
	seen := map[string]bool{}
	path, pages := "/services?size=3", []int{}
	for path != "" {
		r = ts.do(http.MethodGet, path, nil, encJSON).mustStatus(t, http.StatusOK)
		data := r.obj()["data"].([]any)
		pages = append(pages, len(data))
		for _, d := range data {
			id := d.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("service %s on two pages", id)
			}
			seen[id] = true
		}
		path = ""
		if next, ok := r.obj()["next"].(string); ok {
			offset := r.str("offset")
			if want := "/services?offset=" + escapeURI(offset) + "&size=3"; next != want {
				t.Fatalf("next = %q, want %q", next, want)
			}
			path = next
		} else if _, has := r.obj()["offset"]; has {
			t.Fatal("last page carries an offset")
		}
	}
	if fmt.Sprint(pages) != "[3 3 3 1]" {
		t.Errorf("pages %v, want [3 3 3 1]", pages)
	}
}

func TestAdmin_ServiceGetPatchDelete(t *testing.T) {
	ts := newTestServer(t)
	created := ts.do(http.MethodPost, "/services", obj("name", "円", "host", "x.test"), encJSON).mustStatus(t, http.StatusCreated)
	id := created.str("id")
	for _, key := range []string{id, "円", url.PathEscape("円")} {
		r := ts.do(http.MethodGet, "/services/"+key, nil, encJSON).mustStatus(t, http.StatusOK)
		jsonEqual(t, r.body, string(created.raw))
	}
	ts.do(http.MethodGet, "/services/"+"8f0c4a1e-8a0b-4c7a-9d55-1b2c3d4e5f60", nil, encJSON).mustStatus(t, http.StatusNotFound)
	r := ts.do(http.MethodGet, "/services/missing", nil, encJSON).mustStatus(t, http.StatusNotFound)
	jsonEqual(t, r.body, `{"message":"Not found"}`)

	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			r := ts.do(http.MethodPatch, "/services/"+id, obj("name", nil, "protocol", "https"), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"name": null, "protocol": "https"}`)
			ts.do(http.MethodPatch, "/services/"+id, obj("name", "svc"), enc).mustStatus(t, http.StatusOK)
			r = ts.do(http.MethodPatch, "/services/svc", obj("url", "http://example.test:443"), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"protocol": "http", "host": "example.test", "port": 443, "path": null}`)
			r = ts.do(http.MethodPatch, "/services/svc", obj("url", "https://example2.test:80/"), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"protocol": "https", "host": "example2.test", "port": 80, "path": "/"}`)
			r = ts.do(http.MethodPatch, "/services/svc", obj("url", "http://example2.test"), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"protocol": "http", "port": 80, "path": null}`)
			ts.do(http.MethodPatch, "/services/nope", obj("retries", 1), enc).mustStatus(t, http.StatusNotFound)
			r = ts.do(http.MethodPatch, "/services/svc", obj("retries", -1), enc).mustStatus(t, http.StatusBadRequest)
			jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (retries: value should be between 0 and 32767)","fields":{"retries":"value should be between 0 and 32767"}}`)
		})
	}
	if r := ts.do(http.MethodDelete, "/services/svc", nil, encJSON).mustStatus(t, http.StatusNoContent); len(r.raw) != 0 {
		t.Errorf("delete body %q", r.raw)
	}
	ts.do(http.MethodDelete, "/services/svc", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodDelete, "/services/"+id, nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodGet, "/services/"+id, nil, encJSON).mustStatus(t, http.StatusNotFound)
	r = ts.do(http.MethodGet, "/services/a%20b", nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":10,"name":"invalid unique name","message":"invalid value 'a b': the only accepted ascii characters are alphanumerics or ., -, _, and ~"}`)
}

func TestAdmin_ServicePut(t *testing.T) {
	ts := newTestServer(t)
	id := "0b8f7f4e-30a4-4a3c-a2e3-51c4c64bd8a1"
	r := ts.do(http.MethodPut, "/services/"+id, obj("host", "a.test", "retries", 1), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"id": "`+id+`", "host": "a.test", "retries": 1, "name": null}`)
	// Full replacement: retries returns to its default.
	r = ts.do(http.MethodPut, "/services/"+id, obj("host", "b.test", "name", "n1"), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"id": "`+id+`", "host": "b.test", "retries": 5, "name": "n1"}`)
	// By name: the name comes from the URL, the id is kept.
	r = ts.do(http.MethodPut, "/services/n1", obj("host", "c.test"), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"id": "`+id+`", "host": "c.test", "name": "n1"}`)
	// By a new name: created.
	r = ts.do(http.MethodPut, "/services/n2", obj("host", "d.test"), encForm).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"host": "d.test", "name": "n2"}`)
	if r.str("id") == id {
		t.Error("new service re-used an id")
	}
	r = ts.do(http.MethodPut, "/services/"+id, obj(), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":2,"name":"schema violation","message":"schema violation (host: required field missing)","fields":{"host":"required field missing"}}`)
}

func TestAdmin_ServiceReferenced(t *testing.T) {
	ts := newTestServer(t)
	svc := ts.do(http.MethodPost, "/services", obj("name", "s", "host", "a.test"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/services/s/routes", obj("paths", list("/a")), encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodDelete, "/services/"+svc.str("id"), nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":4,"name":"foreign key violation","message":"an existing 'routes' entity references this 'services' entity","fields":{"@referenced_by":"routes"}}`)
}

func TestAdmin_ServiceCertificates(t *testing.T) {
	ts := newTestServer(t)
	cert := "6a2d4d7c-1c2b-4c43-9a55-8c1b2a3d4e5f"
	r := ts.do(http.MethodPost, "/services", obj("host", "a.test", "protocol", "https", "client_certificate", obj("id", cert)), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":4,"name":"foreign key violation","message":"the foreign key '{id=\"`+cert+`\"}' does not reference an existing 'certificates' entity.","fields":{"client_certificate":{"id":"`+cert+`"}}}`)
	r = ts.do(http.MethodPost, "/services", obj("host", "a.test", "client_certificate", obj("id", cert)), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"code":2,"name":"schema violation",
		"message":"2 schema violations (failed conditional validation given value of field 'protocol'; client_certificate: value must be null)",
		"fields":{"@entity":["failed conditional validation given value of field 'protocol'"],"client_certificate":"value must be null"}}`)
}
