package admin

import (
	"fmt"
	"net/http"
	"testing"
)

// TestAdmin_GetStarted replays the curl commands of Kong's "Get Started"
// pages (services and routes, load balancing) as curl sends them: --data is
// application/x-www-form-urlencoded.
func TestAdmin_GetStarted(t *testing.T) {
	ts := newTestServer(t, slowClock())
	form := func(method, path, body string) *resp {
		t.Helper()
		return ts.do(method, path, body, encForm)
	}

	// curl -i -s -X POST http://localhost:8001/services --data name=example_service --data url='https://httpbin.konghq.com'
	svc := form(http.MethodPost, "/services", "name=example_service&url=https://httpbin.konghq.com").mustStatus(t, http.StatusCreated)
	subset(t, svc.obj(), `{"name": "example_service", "protocol": "https", "host": "httpbin.konghq.com", "port": 443, "path": null,
		"retries": 5, "connect_timeout": 60000, "read_timeout": 60000, "write_timeout": 60000, "enabled": true, "tags": null}`)
	// curl -X GET http://localhost:8001/services/example_service
	got := ts.do(http.MethodGet, "/services/example_service", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, got.body, string(svc.raw))
	// curl --request PATCH --url localhost:8001/services/example_service --data retries=6
	patched := form(http.MethodPatch, "/services/example_service", "retries=6").mustStatus(t, http.StatusOK)
	subset(t, patched.obj(), `{"retries": 6, "id": "`+svc.str("id")+`"}`)
	// curl -X GET http://localhost:8001/services
	list := ts.do(http.MethodGet, "/services", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, list.body, `{"data":[`+string(patched.raw)+`],"next":null}`)

	// curl -i -X POST http://localhost:8001/services/example_service/routes --data 'paths[]=/mock' --data name=example_route
	route := form(http.MethodPost, "/services/example_service/routes", "paths%5B%5D=/mock&name=example_route").mustStatus(t, http.StatusCreated)
	subset(t, route.obj(), `{"name": "example_route", "paths": ["/mock"], "methods": null, "sources": null, "destinations": null,
		"headers": null, "hosts": null, "snis": null, "tags": null, "preserve_host": false, "regex_priority": 0,
		"https_redirect_status_code": 426, "protocols": ["http", "https"], "path_handling": "v0",
		"service": {"id": "`+svc.str("id")+`"}, "response_buffering": true, "request_buffering": true, "strip_path": true}`)
	// curl -X GET http://localhost:8001/services/example_service/routes/example_route
	ts.do(http.MethodGet, "/services/example_service/routes/example_route", nil, encJSON).mustStatus(t, http.StatusOK)
	// curl --request PATCH --url localhost:8001/services/example_service/routes/example_route --data tags="tutorial"
	tagged := form(http.MethodPatch, "/services/example_service/routes/example_route", "tags=tutorial").mustStatus(t, http.StatusOK)
	subset(t, tagged.obj(), `{"tags": ["tutorial"], "paths": ["/mock"]}`)
	// curl http://localhost:8001/routes
	routes := ts.do(http.MethodGet, "/routes", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, routes.body, `{"next":null,"data":[`+string(tagged.raw)+`]}`)

	// curl -X POST http://localhost:8001/upstreams --data name=example_upstream
	up := form(http.MethodPost, "/upstreams", "name=example_upstream").mustStatus(t, http.StatusCreated)
	subset(t, up.obj(), `{"name": "example_upstream", "algorithm": "round-robin", "slots": 10000}`)
	// curl -X POST http://localhost:8001/upstreams/example_upstream/targets --data target='httpbun.com:80'
	t1 := form(http.MethodPost, "/upstreams/example_upstream/targets", "target=httpbun.com:80").mustStatus(t, http.StatusCreated)
	subset(t, t1.obj(), `{"target": "httpbun.com:80", "weight": 100, "upstream": {"id": "`+up.str("id")+`"}}`)
	// curl -X POST http://localhost:8001/upstreams/example_upstream/targets --data target='httpbin.konghq.com:80'
	t2 := form(http.MethodPost, "/upstreams/example_upstream/targets", "target=httpbin.konghq.com:80").mustStatus(t, http.StatusCreated)
	subset(t, t2.obj(), `{"target": "httpbin.konghq.com:80", "weight": 100}`)
	// curl -X PATCH http://localhost:8001/services/example_service --data host='example_upstream'
	final := form(http.MethodPatch, "/services/example_service", "host=example_upstream").mustStatus(t, http.StatusOK)
	subset(t, final.obj(), `{"host": "example_upstream", "protocol": "https", "port": 443, "retries": 6}`)

	targets := ts.do(http.MethodGet, "/upstreams/example_upstream/targets", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, targets.body, `{"data":[`+string(t2.raw)+`,`+string(t1.raw)+`],"next":null}`)

	// The store holds what the walkthrough built, at the revision the last
	// write reported.
	snap := ts.store.Snapshot()
	if rev := final.header.Get("X-Switchboard-Revision"); rev != itoa(int64(snap.Revision())) {
		t.Errorf("revision header %s, store at %d", rev, snap.Revision())
	}
	stored, _ := snap.ServiceByName("example_service")
	if stored == nil || stored.Host != "example_upstream" || stored.Retries != 6 {
		t.Errorf("stored service %+v", stored)
	}
}

// TestAdmin_Concurrent drives the handler from several goroutines (run
// under -race): the schemas and the server are shared read-only state.
func TestAdmin_Concurrent(t *testing.T) {
	ts := newTestServer(t)
	ts.do(http.MethodPost, "/upstreams", obj("name", "u"), encJSON).mustStatus(t, http.StatusCreated)
	const workers, each = 4, 25
	errs := make(chan string, workers*each*3)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				name := fmt.Sprintf("w%d-%d", w, i)
				for _, c := range []struct {
					method, path string
					body         map[string]any
					want         int
				}{
					{http.MethodPost, "/services", obj("name", name, "host", "x.test"), http.StatusCreated},
					{http.MethodPost, "/services/" + name + "/routes", obj("paths", list("/"+name)), http.StatusCreated},
					{http.MethodPost, "/upstreams/u/targets", obj("target", name+".test:80"), http.StatusCreated},
					{http.MethodGet, "/upstreams/u/health", nil, http.StatusOK},
				} {
					if r := ts.do(c.method, c.path, c.body, encJSON); r.status != c.want {
						errs <- fmt.Sprintf("%s %s: %d %s", c.method, c.path, r.status, r.raw)
					}
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	r := ts.do(http.MethodGet, "/routes?size=1000", nil, encJSON).mustStatus(t, http.StatusOK)
	if n := len(r.obj()["data"].([]any)); n != workers*each {
		t.Errorf("%d routes, want %d", n, workers*each)
	}
}
