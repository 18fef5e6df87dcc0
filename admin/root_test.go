package admin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// Kong's spec/02-integration/04-admin_api/02-kong_routes_spec.lua and 23-cors_spec.lua.
func TestAdmin_Root(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(http.MethodGet, "/", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"tagline": "Welcome to kong", "version": "3.9.1", "edition": "community",
		"hostname": "test-host", "node_id": "4d3a8a3f-5c0b-4e0a-9b6e-6a3cf2b7b001",
		"timers": {"running": 0, "pending": 0},
		"plugins": {"available_on_server": {"key-auth": {"version": "3.9.1", "priority": 1250},
			"rate-limiting": {"version": "3.9.1", "priority": 910}, "proxy-cache": {"version": "3.9.1", "priority": 100}},
			"enabled_in_cluster": []}}`)
	conf := r.obj()["configuration"].(map[string]any)
	// Clients switch on "postgres" (entities written one by one) vs "off".
	subset(t, conf, `{"database": "postgres", "switchboard": {"store": "raft"}}`)
	if _, ok := r.obj()["pids"].(map[string]any)["master"]; !ok {
		t.Error("no pids.master")
	}
	if got := r.header.Get("Server"); got != "kong/3.9.1" {
		t.Errorf("Server %q", got)
	}
	if r.header.Get("Via") != "" {
		t.Error("admin responses carry no Via")
	}
	for _, h := range []string{"X-Kong-Admin-Latency", "X-Switchboard-Revision"} {
		if r.header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin %q", got)
	}
	if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}

	head := ts.do(http.MethodHead, "/", nil, encJSON).mustStatus(t, http.StatusOK)
	if len(head.raw) != 0 {
		t.Errorf("HEAD body %q", head.raw)
	}
	for _, h := range []string{"Server", "Content-Type", "Access-Control-Allow-Origin"} {
		if head.header.Get(h) != r.header.Get(h) {
			t.Errorf("HEAD %s = %q, GET %q", h, head.header.Get(h), r.header.Get(h))
		}
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, "FOO"} {
		r := ts.do(m, "/", nil, encJSON).mustStatus(t, http.StatusMethodNotAllowed)
		jsonEqual(t, r.body, `{"message":"Method not allowed"}`)
	}
	ts2 := newTestServer(t, func(o *Options) { o.NodeID = ""; o.Version = "" })
	if id := ts2.do(http.MethodGet, "/", nil, encJSON).str("node_id"); !isUUID(id) {
		t.Errorf("generated node_id %q", id)
	}
}

func TestAdmin_Options(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct{ path, allow string }{
		{"/", "GET, HEAD, OPTIONS"},
		{"/routes", "GET, HEAD, OPTIONS, POST"},
		{"/routes/x", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"},
		{"/upstreams/u/targets/t/healthy", "OPTIONS, POST, PUT"},
		{"/upstreams/u/targets/", "GET, HEAD, OPTIONS, POST"},
	}
	for _, tt := range tests {
		r := ts.do(http.MethodOptions, tt.path, nil, encJSON).mustStatus(t, http.StatusNoContent)
		if got := r.header.Get("Allow"); got != tt.allow {
			t.Errorf("%s: Allow %q, want %q", tt.path, got, tt.allow)
		}
		if got := r.header.Get("Access-Control-Allow-Methods"); got != tt.allow {
			t.Errorf("%s: Access-Control-Allow-Methods %q", tt.path, got)
		}
		if r.header.Get("Access-Control-Allow-Headers") != "Content-Type" || r.header.Get("Access-Control-Allow-Origin") != "*" ||
			r.header.Get("X-Kong-Admin-Latency") == "" {
			t.Errorf("%s: CORS headers %v", tt.path, r.header)
		}
	}
}

func TestAdmin_NotFound(t *testing.T) {
	ts := newTestServer(t)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		for _, p := range []string{"/foo", "/services/a/b/c", "/upstreams/u/targets/t/a/b/c"} {
			r := ts.do(m, p, nil, encJSON).mustStatus(t, http.StatusNotFound)
			jsonEqual(t, r.body, `{"message":"Not found"}`)
		}
	}
	if r := ts.do(http.MethodHead, "/foo", nil, encJSON).mustStatus(t, http.StatusNotFound); len(r.raw) != 0 {
		t.Errorf("HEAD 404 body %q", r.raw)
	}
}

func TestAdmin_Endpoints(t *testing.T) {
	ts := newTestServer(t)
	ts.srv.Mount("/metrics", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("up 1\n"))
	}))
	r := ts.do(http.MethodGet, "/endpoints", nil, encJSON).mustStatus(t, http.StatusOK)
	var got []string
	for _, e := range r.obj()["data"].([]any) {
		got = append(got, e.(string))
	}
	want := []string{
		"/", "/ca_certificates", "/ca_certificates/{ca_certificates}", "/certificates", "/certificates/{certificates}",
		"/certificates/{certificates}/services", "/certificates/{certificates}/services/{services}",
		"/certificates/{certificates}/snis", "/certificates/{certificates}/snis/{snis}",
		"/certificates/{certificates}/upstreams", "/certificates/{certificates}/upstreams/{upstreams}", "/config", "/consumers", "/consumers/{consumers}", "/consumers/{consumers}/key-auth",
		"/consumers/{consumers}/key-auth/{keyauth_credentials}", "/consumers/{consumers}/plugins",
		"/consumers/{consumers}/plugins/{plugins}", "/counts", "/endpoints", "/key-auths", "/key-auths/{keyauth_credentials}",
		"/key-auths/{keyauth_credentials}/consumer", "/metrics", "/plugins", "/plugins/enabled", "/plugins/schema/{name}",
		"/plugins/{plugins}", "/plugins/{plugins}/consumer", "/plugins/{plugins}/route", "/plugins/{plugins}/service",
		"/proxy-cache", "/proxy-cache/{cache_key}", "/proxy-cache/{plugin_id}/caches/{cache_key}",
		"/routes", "/routes/{routes}", "/routes/{routes}/plugins", "/routes/{routes}/plugins/{plugins}", "/routes/{routes}/service",
		"/schemas/plugins/validate", "/schemas/plugins/{name}", "/schemas/{db_entity_name}", "/schemas/{db_entity_name}/validate",
		"/services", "/services/{services}", "/services/{services}/client_certificate", "/services/{services}/plugins", "/services/{services}/plugins/{plugins}",
		"/services/{services}/routes", "/services/{services}/routes/{routes}",
		"/snis", "/snis/{snis}", "/snis/{snis}/certificate", "/status", "/tags", "/tags/{tag}", "/upstreams", "/upstreams/{upstreams}", "/upstreams/{upstreams}/client_certificate", "/upstreams/{upstreams}/health",
		"/upstreams/{upstreams}/targets", "/upstreams/{upstreams}/targets/all", "/upstreams/{upstreams}/targets/{targets}",
		"/upstreams/{upstreams}/targets/{targets}/healthy", "/upstreams/{upstreams}/targets/{targets}/unhealthy",
		"/upstreams/{upstreams}/targets/{targets}/{address}/healthy", "/upstreams/{upstreams}/targets/{targets}/{address}/unhealthy",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("endpoints:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	m := ts.do(http.MethodGet, "/metrics", nil, encJSON).mustStatus(t, http.StatusOK)
	if string(m.raw) != "up 1\n" || m.header.Get("Content-Type") != "text/plain" || m.header.Get("Server") != "kong/3.9.1" {
		t.Errorf("mounted handler: %q %v", m.raw, m.header)
	}
	ts.do(http.MethodPost, "/metrics", nil, encJSON).mustStatus(t, http.StatusMethodNotAllowed)
	if h := ts.do(http.MethodHead, "/metrics", nil, encJSON).mustStatus(t, http.StatusOK); len(h.raw) != 0 {
		t.Errorf("HEAD /metrics body %q", h.raw)
	}
	o := ts.do(http.MethodOptions, "/metrics", nil, encJSON).mustStatus(t, http.StatusNoContent)
	if o.header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("OPTIONS /metrics Allow %q", o.header.Get("Allow"))
	}
	ts.srv.Mount("/clustering/{node}/join", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}), http.MethodPost)
	ts.do(http.MethodPost, "/clustering/n1/join", nil, encJSON).mustStatus(t, http.StatusAccepted)
}

func TestAdmin_Status(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(http.MethodGet, "/status", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"database": {"reachable": true}}`)
	for _, k := range []string{"connections_accepted", "connections_active", "connections_handled", "connections_reading", "connections_writing", "connections_waiting", "total_requests"} {
		if _, ok := r.obj()["server"].(map[string]any)[k]; !ok {
			t.Errorf("server.%s missing", k)
		}
	}
	vms := r.obj()["memory"].(map[string]any)["workers_lua_vms"].([]any)
	if gc := vms[0].(map[string]any)["http_allocated_gc"].(string); !strings.HasSuffix(gc, " MiB") {
		t.Errorf("http_allocated_gc %q", gc)
	}
	r = ts.do(http.MethodGet, "/status?unit=k&scale=4", nil, encJSON).mustStatus(t, http.StatusOK)
	gc := r.obj()["memory"].(map[string]any)["workers_lua_vms"].([]any)[0].(map[string]any)["http_allocated_gc"].(string)
	if !strings.HasSuffix(gc, " KiB") || len(strings.Split(strings.TrimSuffix(gc, " KiB"), ".")[1]) != 4 {
		t.Errorf("unit=k scale=4: %q", gc)
	}
	r = ts.do(http.MethodGet, "/status?unit=V", nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"message":"invalid unit 'V' (expected 'k/K', 'm/M', or 'g/G')"}`)
}

func TestAdmin_RevisionHeader(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(http.MethodPost, "/services", obj("host", "a.test"), encJSON).mustStatus(t, http.StatusCreated)
	rev, _ := strconv.ParseUint(r.header.Get("X-Switchboard-Revision"), 10, 64)
	if rev != ts.store.Revision() || rev == 0 {
		t.Errorf("revision header %d, store %d", rev, ts.store.Revision())
	}
	r = ts.do(http.MethodGet, "/services", nil, encJSON)
	if got := r.header.Get("X-Switchboard-Revision"); got != strconv.FormatUint(rev, 10) {
		t.Errorf("read revision %s, want %d", got, rev)
	}
	r = ts.do(http.MethodPost, "/services", obj(), encJSON).mustStatus(t, http.StatusBadRequest)
	if got := r.header.Get("X-Switchboard-Revision"); got != strconv.FormatUint(rev, 10) {
		t.Errorf("failed write moved the revision header: %s", got)
	}
}

func TestAdmin_Schemas(t *testing.T) {
	ts := newTestServer(t)
	for name, es := range entitySchemas {
		r := ts.do(http.MethodGet, "/schemas/"+name, nil, encJSON).mustStatus(t, http.StatusOK)
		fields := r.obj()["fields"].([]any)
		if len(fields) != len(es.Fields()) {
			t.Errorf("%s: %d fields", name, len(fields))
		}
		if _, ok := r.obj()["entity_checks"].([]any); !ok {
			t.Errorf("%s: no entity_checks array", name)
		}
	}
	r := ts.do(http.MethodGet, "/schemas/routes", nil, encJSON)
	byName := map[string]map[string]any{}
	for _, f := range r.obj()["fields"].([]any) {
		for k, v := range f.(map[string]any) {
			byName[k] = v.(map[string]any)
		}
	}
	subset(t, byName["service"], `{"type": "foreign", "reference": "services"}`)
	if _, has := byName["service"]["schema"]; has {
		t.Error("foreign field carries a nested schema")
	}
	subset(t, byName["protocols"], `{"type": "set", "required": true, "default": ["http", "https"]}`)

	r = ts.do(http.MethodGet, "/schemas/foo", nil, encJSON).mustStatus(t, http.StatusNotFound)
	jsonEqual(t, r.body, `{"message":"No entity named 'foo'"}`)
	r = ts.do(http.MethodGet, "/schemas/plugins/foobar", nil, encJSON).mustStatus(t, http.StatusNotFound)
	jsonEqual(t, r.body, `{"message":"No plugin named 'foobar'"}`)
	r = ts.do(http.MethodPost, "/schemas/services/validate", obj("host", "x.test"), encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, r.body, `{"message":"schema validation successful"}`)
	r = ts.do(http.MethodPost, "/schemas/services/validate", obj(), encForm).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"code": 2, "fields": {"host": "required field missing"}}`)
	if n := len(ts.do(http.MethodGet, "/services", nil, encJSON).obj()["data"].([]any)); n != 0 {
		t.Errorf("validate wrote %d services", n)
	}
}

// decK merges /schemas defaults into its desired state; they must equal
// what the endpoints store, or every diff shows spurious changes.
func TestAdmin_SchemaDefaultsMatchEndpoints(t *testing.T) {
	ts := newTestServer(t)
	created := map[string]map[string]any{
		"services":  ts.do(http.MethodPost, "/services", obj("host", "x.test"), encJSON).mustStatus(t, http.StatusCreated).obj(),
		"routes":    ts.do(http.MethodPost, "/routes", obj("paths", list("/x")), encJSON).mustStatus(t, http.StatusCreated).obj(),
		"upstreams": ts.do(http.MethodPost, "/upstreams", obj("name", "u"), encJSON).mustStatus(t, http.StatusCreated).obj(),
		"targets":   ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "a.test:80"), encJSON).mustStatus(t, http.StatusCreated).obj(),
	}
	for name, entity := range created {
		r := ts.do(http.MethodGet, "/schemas/"+name, nil, encJSON)
		for _, f := range r.obj()["fields"].([]any) {
			for field, def := range f.(map[string]any) {
				d, ok := def.(map[string]any)["default"]
				if !ok {
					continue
				}
				if !jsonSame(d, entity[field]) {
					t.Errorf("%s.%s: schema default %v, entity has %v", name, field, d, entity[field])
				}
			}
		}
	}
}

// jsonSame compares a schema default with an entity value, where the entity
// may carry extra null members the default leaves out.
func jsonSame(def, val any) bool {
	switch d := def.(type) {
	case map[string]any:
		v, ok := val.(map[string]any)
		if !ok {
			return false
		}
		for k, dv := range d {
			if !jsonSame(dv, v[k]) {
				return false
			}
		}
		for k, vv := range v {
			if _, ok := d[k]; !ok && vv != nil {
				return false
			}
		}
		return true
	case []any:
		v, ok := val.([]any)
		if !ok || len(v) != len(d) {
			return false
		}
		for i := range d {
			if !jsonSame(d[i], v[i]) {
				return false
			}
		}
		return true
	default:
		return fmt.Sprint(def) == fmt.Sprint(val)
	}
}

func TestAdmin_PanicRecovery(t *testing.T) {
	ts := newTestServer(t)
	ts.srv.Mount("/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "An unexpected error occurred") {
		t.Errorf("panic: %d %s", rec.Code, rec.Body)
	}
}

// Kong Manager reads the parsed listener lists of GET /'s configuration.
func TestAdmin_RootListeners(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.Configuration = map[string]any{
			"admin_listen": []string{"127.0.0.1:8001"}, "proxy_listen": []string{"0.0.0.0:8000"},
			"admin_gui_listen": []string{"127.0.0.1:8002"},
		}
	})
	r := ts.do(http.MethodGet, "/", nil, encJSON).mustStatus(t, http.StatusOK)
	conf := r.obj()["configuration"].(map[string]any)
	first := func(key string) map[string]any {
		l, _ := conf[key].([]any)
		if len(l) != 1 {
			t.Fatalf("%s = %v, want one listener", key, conf[key])
		}
		return l[0].(map[string]any)
	}
	for key, want := range map[string]string{"proxy_listeners": "0.0.0.0:8000", "admin_listeners": "127.0.0.1:8001", "admin_gui_listeners": "127.0.0.1:8002"} {
		l := first(key)
		if got := fmt.Sprintf("%v:%v", l["ip"], l["port"]); got != want || l["listener"] != want || l["ssl"] != false || l["http2"] != false {
			t.Errorf("%s[0] = %v, want %s without ssl", key, l, want)
		}
	}
	for _, key := range []string{"status_listeners", "stream_listeners"} {
		if l, ok := conf[key].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %v, want []", key, conf[key])
		}
	}
	if l, ok := kongListener("127.0.0.1:8443 ssl http2"); !ok || l["ssl"] != true || l["http2"] != true || l["listener"] != "127.0.0.1:8443 ssl http2" {
		t.Errorf("ssl listener parsed as %v", l)
	}
	if _, ok := kongListener("nonsense"); ok {
		t.Error("a listen string without a port must be skipped")
	}
}

func TestAdmin_Counts(t *testing.T) {
	ts := newTestServer(t)
	ts.do(http.MethodGet, "/counts", nil, encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodPost, "/services", map[string]any{"name": "a", "host": "example.com"}, encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/services", map[string]any{"name": "b", "host": "example.com"}, encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams", map[string]any{"name": "u"}, encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodGet, "/counts", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"services": 2, "routes": 0, "upstreams": 1, "targets": 0}`)
	ts.do(http.MethodPost, "/counts", nil, encJSON).mustStatus(t, http.StatusMethodNotAllowed)
}
