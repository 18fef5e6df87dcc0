package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// 03-consumers_routes_spec.lua, run with JSON, form and multipart bodies.
func TestAdminConsumers(t *testing.T) {
	forEachEncoding(t, func(t *testing.T, ts *testServer, enc encoding) {
		// POST "creates a Consumer"
		r := ts.do(http.MethodPost, "/consumers", obj("username", "bob", "custom_id", "1234"), enc).mustStatus(t, http.StatusCreated)
		bob := r.str("id")
		jsonEqual(t, r.body, `{"id":"`+bob+`","created_at":1700000000,"updated_at":1700000000,"username":"bob","custom_id":"1234","tags":null}`)
		// "handles invalid input"
		r = ts.do(http.MethodPost, "/consumers", obj("tags", list("x")), enc).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, `{"code":2,"name":"schema violation",
			"message":"schema violation (at least one of these fields must be non-empty: 'custom_id', 'username')",
			"fields":{"@entity":["at least one of these fields must be non-empty: 'custom_id', 'username'"]}}`)
		// "returns 409 on conflicting username" / "… custom_id"
		r = ts.do(http.MethodPost, "/consumers", obj("username", "bob"), enc).mustStatus(t, http.StatusConflict)
		jsonEqual(t, r.body, `{"code":5,"name":"unique constraint violation","message":"UNIQUE violation detected on '{username=\"bob\"}'","fields":{"username":"bob"}}`)
		r = ts.do(http.MethodPost, "/consumers", obj("username", "tom", "custom_id", "1234"), enc).mustStatus(t, http.StatusConflict)
		jsonEqual(t, r.body, `{"code":5,"name":"unique constraint violation","message":"UNIQUE violation detected on '{custom_id=\"1234\"}'","fields":{"custom_id":"1234"}}`)
		// 415 on a body without or with an unknown content type; 400 on an empty JSON body
		for _, ctype := range []string{"", "text/plain"} {
			req := httptest.NewRequest(http.MethodPost, "/consumers", strings.NewReader("username=x"))
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			rec := httptest.NewRecorder()
			ts.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnsupportedMediaType {
				t.Errorf("content type %q: status %d", ctype, rec.Code)
			}
		}
		if enc == encJSON {
			ts.do(http.MethodPost, "/consumers", "", encJSON).mustStatus(t, http.StatusBadRequest)
		}

		// GET: pages, filter by custom_id, tags.
		for _, u := range []string{"c1", "c2", "c3"} {
			ts.do(http.MethodPost, "/consumers", obj("username", u, "tags", list("t")), enc).mustStatus(t, http.StatusCreated)
		}
		r = ts.do(http.MethodGet, "/consumers?size=2", nil, enc).mustStatus(t, http.StatusOK)
		if n := len(r.obj()["data"].([]any)); n != 2 || r.str("offset") == "" {
			t.Fatalf("first page: %s", r.raw)
		}
		r = ts.do(http.MethodGet, "/consumers?tags=t", nil, enc).mustStatus(t, http.StatusOK)
		if n := len(r.obj()["data"].([]any)); n != 3 {
			t.Fatalf("tagged: %d", n)
		}
		r = ts.do(http.MethodGet, "/consumers?tags=", nil, enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"message": "invalid option (tags: cannot be null)"}`)
		for _, q := range []string{"?custom_id=", "?custom_id"} {
			r = ts.do(http.MethodGet, "/consumers"+q, nil, enc).mustStatus(t, http.StatusBadRequest)
			jsonEqual(t, r.body, `{"message":"custom_id must be an unempty string"}`)
		}
		r = ts.do(http.MethodGet, "/consumers?custom_id=1234", nil, enc).mustStatus(t, http.StatusOK)
		jsonEqual(t, r.body, `{"data":[`+string(mustJSON(t, ts.do(http.MethodGet, "/consumers/bob", nil, enc).body))+`],"next":null}`)
		ts.do(http.MethodPost, "/consumers", obj("custom_id", "5a1e0000-0000-4000-8000-000000000777"), enc).mustStatus(t, http.StatusCreated)
		r = ts.do(http.MethodGet, "/consumers?custom_id=5a1e0000-0000-4000-8000-000000000777", nil, enc).mustStatus(t, http.StatusOK)
		if n := len(r.obj()["data"].([]any)); n != 1 {
			t.Fatalf("uuid-like custom_id: %s", r.raw)
		}
		r = ts.do(http.MethodGet, "/consumers?custom_id=nope", nil, enc).mustStatus(t, http.StatusOK)
		jsonEqual(t, r.body, `{"data":[],"next":null}`)
		ts.do(http.MethodDelete, "/consumers", nil, enc).mustStatus(t, http.StatusMethodNotAllowed)

		// /consumers/{c}: by id, username, url-encoded and utf-8 username.
		ts.do(http.MethodPost, "/consumers", obj("username", "円 x"), enc).mustStatus(t, http.StatusCreated)
		for _, key := range []string{bob, "bob"} {
			ts.do(http.MethodGet, "/consumers/"+key, nil, enc).mustStatus(t, http.StatusOK)
		}
		ts.do(http.MethodGet, "/consumers/%E5%86%86%20x", nil, enc).mustStatus(t, http.StatusOK)
		// PATCH by id / username; with previous values
		r = ts.do(http.MethodPatch, "/consumers/"+bob, obj("username", "alice"), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"username": "alice", "custom_id": "1234", "id": "`+bob+`"}`)
		r = ts.do(http.MethodPatch, "/consumers/alice", obj("username", "alice", "custom_id", "1234"), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"username": "alice", "custom_id": "1234"}`)
		ts.do(http.MethodPatch, "/consumers/nobody", obj("username", "x"), enc).mustStatus(t, http.StatusNotFound)
		// PUT creates if not exists, by username, replaces if found
		r = ts.do(http.MethodPut, "/consumers/carol", obj("custom_id", "c-1"), enc).mustStatus(t, http.StatusOK)
		carol := r.str("id")
		subset(t, r.obj(), `{"username": "carol", "custom_id": "c-1"}`)
		r = ts.do(http.MethodPut, "/consumers/carol", obj("tags", list("x")), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"id": "`+carol+`", "username": "carol", "custom_id": null, "tags": ["x"]}`)
		newID := "5a1e0000-0000-4000-8000-000000000999"
		r = ts.do(http.MethodPut, "/consumers/"+newID, obj("username", "dave"), enc).mustStatus(t, http.StatusOK)
		subset(t, r.obj(), `{"id": "`+newID+`", "username": "dave"}`)
		// DELETE by id / username
		ts.do(http.MethodDelete, "/consumers/"+newID, nil, enc).mustStatus(t, http.StatusNoContent)
		ts.do(http.MethodDelete, "/consumers/carol", nil, enc).mustStatus(t, http.StatusNoContent)
		ts.do(http.MethodGet, "/consumers/carol", nil, enc).mustStatus(t, http.StatusNotFound)
	})
}
