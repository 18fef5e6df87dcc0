package admin

import (
	"net/http"
	"testing"
)

// The §5.1 cases of kong-plugins.md not covered by plugins_test.go, each in
// JSON, urlencoded and multipart: the nested plugin items of services and
// routes (10-services_routes, 09-routes_routes), plugins created through a
// consumer's id, plugins moved onto an incompatible route
// (03-db/03-plugins "returns an error when updating/upserting mismatched
// plugins") and consumer paging (03-consumers_routes "paginates a set").

func TestAdminPlugins_NestedItems(t *testing.T) {
	forEachEncoding(t, func(t *testing.T, ts *testServer, enc encoding) {
		svcID, routeID := fixtureService(t, ts)
		ts.do(http.MethodPost, "/services", obj("name", "other", "host", "o.test"), encJSON).mustStatus(t, http.StatusCreated)
		ts.do(http.MethodPost, "/services/other/routes", obj("name", "other-rt", "paths", list("/o")), encJSON).mustStatus(t, http.StatusCreated)
		for _, parent := range []struct{ path, byID, fk, id, foreign string }{
			{"/services/svc/plugins", "/services/" + svcID + "/plugins", "service", svcID, "/services/other/plugins"},
			{"/routes/rt/plugins", "/routes/" + routeID + "/plugins", "route", routeID, "/routes/other-rt/plugins"},
		} {
			r := ts.do(http.MethodPost, parent.path, rateLimiting("instance_name", parent.fk+"-rl"), enc).mustStatus(t, http.StatusCreated)
			id := r.str("id")
			subset(t, r.obj(), `{"`+parent.fk+`": {"id": "`+parent.id+`"}}`)
			// GET by id and instance_name, by the parent's id or name; 404
			// through a parent it does not belong to.
			for _, p := range []string{parent.path + "/" + id, parent.byID + "/" + parent.fk + "-rl"} {
				jsonEqual(t, ts.do(http.MethodGet, p, nil, enc).mustStatus(t, http.StatusOK).body, string(r.raw))
			}
			ts.do(http.MethodGet, parent.foreign+"/"+id, nil, enc).mustStatus(t, http.StatusNotFound)
			// GET lists only the parent's.
			l := ts.do(http.MethodGet, parent.path, nil, enc).mustStatus(t, http.StatusOK)
			if d := l.obj()["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != id {
				t.Errorf("%s lists %s", parent.path, l.raw)
			}
			// PATCH merges config and keeps the parent.
			r = ts.do(http.MethodPatch, parent.path+"/"+id, obj("config", obj("hour", 100)), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"`+parent.fk+`": {"id": "`+parent.id+`"}}`)
			subset(t, r.obj()["config"].(map[string]any), `{"minute": 5, "hour": 100}`)
			ts.do(http.MethodPatch, parent.foreign+"/"+id, obj("enabled", false), enc).mustStatus(t, http.StatusNotFound)
			// PUT updates if found, creates (under the parent) if not.
			r = ts.do(http.MethodPut, parent.path+"/"+id, rateLimiting("config", obj("second", 1)), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"id": "`+id+`", "`+parent.fk+`": {"id": "`+parent.id+`"}}`)
			subset(t, r.obj()["config"].(map[string]any), `{"second": 1, "minute": null}`)
			newID := "5a1e0000-0000-4000-8000-0000000" + map[string]string{"service": "00111", "route": "00222"}[parent.fk]
			r = ts.do(http.MethodPut, parent.path+"/"+newID, obj("name", "key-auth"), enc).mustStatus(t, http.StatusOK)
			subset(t, r.obj(), `{"id": "`+newID+`", "name": "key-auth", "`+parent.fk+`": {"id": "`+parent.id+`"}}`)
			// DELETE 204, then 404 (a nested delete of a missing plugin).
			for _, pid := range []string{id, newID} {
				ts.do(http.MethodDelete, parent.foreign+"/"+pid, nil, enc).mustStatus(t, http.StatusNotFound)
				ts.do(http.MethodDelete, parent.path+"/"+pid, nil, enc).mustStatus(t, http.StatusNoContent)
				ts.do(http.MethodDelete, parent.path+"/"+pid, nil, enc).mustStatus(t, http.StatusNotFound)
				ts.do(http.MethodGet, "/plugins/"+pid, nil, enc).mustStatus(t, http.StatusNotFound)
			}
		}

		// "creates a plugin config using a consumer id"
		cons := ts.do(http.MethodPost, "/consumers", obj("username", "bob"), enc).mustStatus(t, http.StatusCreated)
		r := ts.do(http.MethodPost, "/consumers/"+cons.str("id")+"/plugins", rateLimiting(), enc).mustStatus(t, http.StatusCreated)
		subset(t, r.obj(), `{"consumer": {"id": "`+cons.str("id")+`"}}`)
	})
}

func TestAdminPlugins_MismatchedUpdates(t *testing.T) {
	forEachEncoding(t, func(t *testing.T, ts *testServer, enc encoding) {
		_, routeID := fixtureService(t, ts)
		ts.do(http.MethodPost, "/services", obj("name", "tcp-svc", "url", "tcp://t.test:9000"), encJSON).mustStatus(t, http.StatusCreated)
		tcp := ts.do(http.MethodPost, "/services/tcp-svc/routes", obj("name", "tcp-rt", "protocols", list("tcp"), "destinations", list(obj("port", 9000))), encJSON).mustStatus(t, http.StatusCreated)
		body := obj("name", "proxy-cache", "config", obj("strategy", "memory"), "protocols", list("http"), "route", obj("id", routeID))
		p := ts.do(http.MethodPost, "/plugins", body, enc).mustStatus(t, http.StatusCreated)
		before := ts.do(http.MethodGet, "/plugins/"+p.str("id"), nil, enc)
		// PATCH onto a tcp-only route
		r := ts.do(http.MethodPatch, "/plugins/"+p.str("id"), obj("route", obj("id", tcp.str("id"))), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"protocols": "must match the associated route's protocols"}}`)
		// PATCH protocols the route does not serve
		r = ts.do(http.MethodPatch, "/plugins/"+p.str("id"), obj("protocols", list("grpc")), enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"protocols": "must match the associated route's protocols"}}`)
		// PUT (upsert) onto the tcp route
		put := obj("name", "proxy-cache", "config", obj("strategy", "memory"), "protocols", list("http"), "route", obj("id", tcp.str("id")))
		r = ts.do(http.MethodPut, "/plugins/"+p.str("id"), put, enc).mustStatus(t, http.StatusBadRequest)
		subset(t, r.obj(), `{"fields": {"protocols": "must match the associated route's protocols"}}`)
		// nothing changed
		jsonEqual(t, ts.do(http.MethodGet, "/plugins/"+p.str("id"), nil, enc).body, string(before.raw))
	})
}

func TestAdminConsumers_Paginates(t *testing.T) {
	forEachEncoding(t, func(t *testing.T, ts *testServer, enc encoding) {
		const n = 10
		for i := 0; i < n; i++ {
			ts.do(http.MethodPost, "/consumers", obj("username", "user-"+string(rune('a'+i))), enc).mustStatus(t, http.StatusCreated)
		}
		seen := map[string]bool{}
		path := "/consumers?size=3"
		for page := 0; page < n; page++ {
			r := ts.do(http.MethodGet, path, nil, enc).mustStatus(t, http.StatusOK)
			for _, c := range r.obj()["data"].([]any) {
				seen[c.(map[string]any)["id"].(string)] = true
			}
			off, _ := r.obj()["offset"].(string)
			if off == "" {
				if r.obj()["next"] != nil {
					t.Errorf("last page has next %v", r.obj()["next"])
				}
				break
			}
			path = "/consumers?size=3&offset=" + off
		}
		if len(seen) != n {
			t.Errorf("paged through %d of %d consumers", len(seen), n)
		}
	})
}
