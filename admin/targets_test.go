package admin

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/store"
)

// Kong's spec/02-integration/04-admin_api/08-targets_routes_spec.lua.
func TestAdmin_TargetCreate(t *testing.T) {
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			ts := newTestServer(t)
			up := ts.do(http.MethodPost, "/upstreams", obj("name", "my.upstream"), enc).mustStatus(t, http.StatusCreated)
			upRef := `{"id": "` + up.str("id") + `"}`
			tests := []struct {
				name, path string
				body       map[string]any
				want       string
			}{
				{"default port", "/upstreams/my.upstream/targets/", obj("target", "konghq.test"), `{"target": "konghq.test:8000", "weight": 100, "tags": null, "upstream": ` + upRef + `}`},
				{"explicit", "/upstreams/" + up.str("id") + "/targets", obj("target", "konghq.test:123", "weight", 99), `{"target": "konghq.test:123", "weight": 99}`},
				{"weight 0", "/upstreams/my.upstream/targets", obj("target", "zero.test:80", "weight", 0), `{"target": "zero.test:80", "weight": 0}`},
				{"ipv4 canonical", "/upstreams/my.upstream/targets", obj("target", "001.002.003.004"), `{"target": "1.2.3.4:8000"}`},
				{"ipv6 expanded", "/upstreams/my.upstream/targets", obj("target", "[::1]:81"), `{"target": "[0000:0000:0000:0000:0000:0000:0000:0001]:81"}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := ts.do(http.MethodPost, tt.path, tt.body, enc).mustStatus(t, http.StatusCreated)
					subset(t, r.obj(), tt.want)
					if ts, ok := r.obj()["created_at"].(interface{ String() string }); !ok || ts.String() != "1700000000.123" {
						t.Errorf("created_at %v, want float seconds with ms", r.obj()["created_at"])
					}
				})
			}
			zero := ts.do(http.MethodGet, "/upstreams/my.upstream/targets/zero.test:80", nil, enc).mustStatus(t, http.StatusOK)
			subset(t, zero.obj(), `{"weight": 0}`)
		})
	}
}

func TestAdmin_TargetCreateErrors(t *testing.T) {
	for _, enc := range allEncodings {
		t.Run(string(enc), func(t *testing.T) {
			ts := newTestServer(t)
			ts.do(http.MethodPost, "/upstreams", obj("name", "u"), enc).mustStatus(t, http.StatusCreated)
			tests := []struct {
				name string
				body map[string]any
				want string
			}{
				{"missing", obj(), `{"code":2,"name":"schema violation","message":"schema violation (target: required field missing)","fields":{"target":"required field missing"}}`},
				{"invalid", obj("target", "some invalid host name"), `{"code":2,"name":"schema violation","message":"schema violation (target: Invalid target; not a valid hostname or ip address)","fields":{"target":"Invalid target; not a valid hostname or ip address"}}`},
				{"weight", obj("target", "a.test", "weight", 65536), `{"code":2,"name":"schema violation","message":"schema violation (weight: value should be between 0 and 65535)","fields":{"weight":"value should be between 0 and 65535"}}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := ts.do(http.MethodPost, "/upstreams/u/targets", tt.body, enc).mustStatus(t, http.StatusBadRequest)
					jsonEqual(t, r.body, tt.want)
				})
			}
		})
	}
	ts := newTestServer(t)
	up := ts.do(http.MethodPost, "/upstreams", obj("name", "u"), encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodPost, "/upstreams/u/targets", `{"target": "a.test"`, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"message":"Cannot parse JSON body"}`)
	for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		ts.do(m, "/upstreams/u/targets", nil, encJSON).mustStatus(t, http.StatusMethodNotAllowed)
	}
	ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "a.test"), encJSON).mustStatus(t, http.StatusCreated)
	r = ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "a.test:8000"), encJSON).mustStatus(t, http.StatusConflict)
	jsonEqual(t, r.body, `{"code":5,"name":"unique constraint violation",
		"message":"UNIQUE violation detected on '{target=\"a.test:8000\",upstream={id=\"`+up.str("id")+`\"}}'",
		"fields":{"target":"a.test:8000","upstream":{"id":"`+up.str("id")+`"}}}`)
	ts.do(http.MethodPost, "/upstreams/nope/targets", obj("target", "a.test"), encJSON).mustStatus(t, http.StatusNotFound)
}

func TestAdmin_TargetsDisabledTopLevel(t *testing.T) {
	ts := newTestServer(t)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		for _, p := range []string{"/targets", "/targets/x", "/targets/x/upstream"} {
			r := ts.do(m, p, nil, encJSON).mustStatus(t, http.StatusNotFound)
			jsonEqual(t, r.body, `{"message":"Not found"}`)
		}
	}
}

// slowClock hands out increasing times so that targets are ordered.
func slowClock() func(*Options) {
	var n int64
	return func(o *Options) {
		o.Now = func() time.Time {
			n++
			return testNow.Add(time.Duration(n) * time.Second)
		}
	}
}

func TestAdmin_TargetListAndAll(t *testing.T) {
	ts := newTestServer(t, slowClock())
	ts.do(http.MethodPost, "/upstreams", obj("name", "u"), encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodGet, "/upstreams/u/targets", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, r.body, `{"data":[],"next":null}`)
	r = ts.do(http.MethodGet, "/upstreams/u/targets/all", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, r.body, `{"data":[],"next":null}`)
	for i := range 10 {
		ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", fmt.Sprintf("api-%d:80", i), "weight", i%2), encJSON).mustStatus(t, http.StatusCreated)
	}
	r = ts.do(http.MethodGet, "/upstreams/u/targets", nil, encJSON).mustStatus(t, http.StatusOK)
	data := r.obj()["data"].([]any)
	if len(data) != 10 || data[0].(map[string]any)["target"] != "api-9:80" {
		t.Fatalf("targets not newest first with weight 0 included: %s", r.raw)
	}
	r = ts.do(http.MethodGet, "/upstreams/u/targets?size=3", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"offset": "3", "next": "/upstreams/u/targets?offset=3"}`)
	r = ts.do(http.MethodGet, "/upstreams/u/targets?size=3&offset=9", nil, encJSON).mustStatus(t, http.StatusOK)
	jsonEqual(t, r.obj()["next"], `null`)

	pages, path, seen := []int{}, "/upstreams/u/targets/all?size=3", map[string]bool{}
	for path != "" {
		r = ts.do(http.MethodGet, path, nil, encJSON).mustStatus(t, http.StatusOK)
		data := r.obj()["data"].([]any)
		pages = append(pages, len(data))
		for _, d := range data {
			seen[d.(map[string]any)["id"].(string)] = true
		}
		path = ""
		if next, ok := r.obj()["next"].(string); ok {
			if want := "/upstreams/u/targets/all?offset=" + escapeURI(r.str("offset")); next != want {
				t.Fatalf("next %q, want %q", next, want)
			}
			path = next + "&size=3"
		}
	}
	if fmt.Sprint(pages) != "[3 3 3 1]" || len(seen) != 10 {
		t.Errorf("pages %v, %d distinct", pages, len(seen))
	}
}

func TestAdmin_TargetGetUpdateDelete(t *testing.T) {
	ts := newTestServer(t, slowClock())
	ts.do(http.MethodPost, "/upstreams", obj("name", "u"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams", obj("name", "other"), encJSON).mustStatus(t, http.StatusCreated)
	tg := ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "api-1:80"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "api-2:80"), encJSON).mustStatus(t, http.StatusCreated)
	id := tg.str("id")
	for _, key := range []string{id, "api-1:80"} {
		r := ts.do(http.MethodGet, "/upstreams/u/targets/"+key, nil, encJSON).mustStatus(t, http.StatusOK)
		jsonEqual(t, r.body, string(tg.raw))
	}
	ts.do(http.MethodGet, "/upstreams/other/targets/"+id, nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodGet, "/upstreams/u/targets/api-9:80", nil, encJSON).mustStatus(t, http.StatusNotFound)

	r := ts.do(http.MethodPatch, "/upstreams/u/targets/api-1:80", obj("weight", 659), encForm).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"weight": 659, "target": "api-1:80"}`)
	jsonEqual(t, r.obj()["created_at"], tg.obj()["created_at"].(interface{ String() string }).String())
	if r.obj()["updated_at"] == tg.obj()["updated_at"] {
		t.Error("updated_at did not move")
	}
	r = ts.do(http.MethodPut, "/upstreams/u/targets/"+id, obj("target", "api-1:90"), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"id": "`+id+`", "target": "api-1:90", "weight": 659}`)
	ts.do(http.MethodGet, "/upstreams/u/targets/api-1:80", nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodGet, "/upstreams/u/targets/api-1:90", nil, encJSON).mustStatus(t, http.StatusOK)
	// Target PUT never creates.
	ts.do(http.MethodPut, "/upstreams/u/targets/"+"0e0e0e0e-1111-4222-8333-444455556666", obj("target", "x:1"), encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodPut, "/upstreams/u/targets/new.test:1", obj("weight", 1), encJSON).mustStatus(t, http.StatusNotFound)
	r = ts.do(http.MethodPatch, "/upstreams/u/targets/"+id, obj("target", "api-2:80"), encJSON).mustStatus(t, http.StatusConflict)
	subset(t, r.obj(), `{"code": 5}`)

	ts.do(http.MethodDelete, "/upstreams/u/targets/api-1:90", nil, encJSON).mustStatus(t, http.StatusNoContent)
	ts.do(http.MethodDelete, "/upstreams/u/targets/api-1:90", nil, encJSON).mustStatus(t, http.StatusNotFound)
	r = ts.do(http.MethodGet, "/upstreams/u/targets/all", nil, encJSON).mustStatus(t, http.StatusOK)
	if data := r.obj()["data"].([]any); len(data) != 1 || data[0].(map[string]any)["target"] != "api-2:80" {
		t.Errorf("remaining targets: %s", r.raw)
	}
}

func TestAdmin_TargetSetHealth(t *testing.T) {
	ts := newTestServer(t)
	up := ts.do(http.MethodPost, "/upstreams", obj("name", "u", "healthchecks", obj("active", obj("healthy", obj("interval", 5)))), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams", obj("name", "other"), encJSON).mustStatus(t, http.StatusCreated)
	v4 := ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "127.0.0.2:80"), encJSON).mustStatus(t, http.StatusCreated)
	v6 := ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "[::1]:80"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams/other/targets", obj("target", "127.0.0.3:80"), encJSON).mustStatus(t, http.StatusCreated)

	health := func(target string) string {
		t.Helper()
		r := ts.do(http.MethodGet, "/upstreams/u/health", nil, encJSON).mustStatus(t, http.StatusOK)
		for _, d := range r.obj()["data"].([]any) {
			if m := d.(map[string]any); m["target"] == target {
				return m["health"].(string)
			}
		}
		t.Fatalf("target %s not in /health: %s", target, r.raw)
		return ""
	}
	if h := health("127.0.0.2:80"); h != HealthHealthy {
		t.Fatalf("initial health %s", h)
	}
	for _, ups := range []string{"u", up.str("id")} {
		for _, tgt := range []string{"127.0.0.2:80", v4.str("id")} {
			for _, method := range []string{http.MethodPut, http.MethodPost} {
				ts.do(method, "/upstreams/"+ups+"/targets/"+tgt+"/unhealthy", nil, encJSON).mustStatus(t, http.StatusNoContent)
				if h := health("127.0.0.2:80"); h != HealthUnhealthy {
					t.Fatalf("after unhealthy: %s", h)
				}
				ts.do(method, "/upstreams/"+ups+"/targets/"+tgt+"/healthy", nil, encJSON).mustStatus(t, http.StatusNoContent)
				if h := health("127.0.0.2:80"); h != HealthHealthy {
					t.Fatalf("after healthy: %s", h)
				}
			}
		}
	}
	ts.do(http.MethodPut, "/upstreams/u/targets/"+v6.str("id")+"/[::1]:80/unhealthy", nil, encJSON).mustStatus(t, http.StatusNoContent)
	if h := health("[0000:0000:0000:0000:0000:0000:0000:0001]:80"); h != HealthUnhealthy {
		t.Fatalf("ipv6 address override: %s", h)
	}
	rows, _ := ts.store.Snapshot().TargetHealthByUpstream(up.str("id"))
	if len(rows) != 2 {
		t.Errorf("overrides in the store: %d", len(rows))
	}
	for _, path := range []string{
		"/upstreams/nope/targets/127.0.0.2:80/healthy",
		"/upstreams/u/targets/" + "0e0e0e0e-1111-4222-8333-444455556666" + "/healthy",
		"/upstreams/u/targets/invalid:1234/healthy",
		"/upstreams/u/targets/127.0.0.3:80/healthy",
		"/upstreams/other/targets/" + v4.str("id") + "/healthy",
	} {
		ts.do(http.MethodPut, path, nil, encJSON).mustStatus(t, http.StatusNotFound)
	}
}

func TestAdmin_UpstreamHealth(t *testing.T) {
	ts := newTestServer(t, slowClock())
	ts.do(http.MethodPost, "/upstreams", obj("name", "u"), encJSON).mustStatus(t, http.StatusCreated)
	ip := ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "127.0.0.2:80"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "nowhere.test:80"), encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodGet, "/upstreams/u/health", nil, encJSON).mustStatus(t, http.StatusOK)
	root := ts.do(http.MethodGet, "/", nil, encJSON)
	if r.str("node_id") != root.str("node_id") {
		t.Errorf("node_id %q differs from GET / %q", r.str("node_id"), root.str("node_id"))
	}
	data := r.obj()["data"].([]any)
	subset(t, data[0].(map[string]any), `{"target": "nowhere.test:80", "health": "DNS_ERROR",
		"data": {"host": "nowhere.test", "port": 80, "dns": "unknown", "nodeWeight": 100, "weight": {"total": 0, "available": 0, "unavailable": 0}, "addresses": []}}`)
	subset(t, data[1].(map[string]any), `{"id": "`+ip.str("id")+`", "target": "127.0.0.2:80", "weight": 100, "health": "HEALTHCHECKS_OFF",
		"data": {"host": "127.0.0.2", "port": 80, "dns": "A", "nodeWeight": 100, "weight": {"total": 100, "available": 100, "unavailable": 0},
		"addresses": [{"ip": "127.0.0.2", "port": 80, "weight": 100, "health": "HEALTHCHECKS_OFF"}]}}`)

	r = ts.do(http.MethodGet, "/upstreams/u/health?size=1", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"offset": "1", "next": "/upstreams/u/health?offset=1"}`)

	r = ts.do(http.MethodGet, "/upstreams/u/health?balancer_health=1", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"next": null}`)
	subset(t, r.obj()["data"].(map[string]any), `{"health": "HEALTHCHECKS_OFF", "balancer_health": "HEALTHY"}`)
	subset(t, r.obj()["data"].(map[string]any)["details"].(map[string]any), `{"healthy": true, "weight": {"total": 100, "available": 100, "unavailable": 0}}`)

	// Passive checks on: resolvable addresses become HEALTHY, weight-0
	// targets stay HEALTHCHECKS_OFF until their weight rises.
	ts.do(http.MethodPatch, "/upstreams/u", obj("healthchecks", obj("passive", obj("healthy", obj("successes", 1), "unhealthy", obj("tcp_failures", 1, "timeouts", 1, "http_failures", 1)))), encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "127.0.0.3:80", "weight", 0), encJSON).mustStatus(t, http.StatusCreated)
	r = ts.do(http.MethodGet, "/upstreams/u/health", nil, encJSON).mustStatus(t, http.StatusOK)
	data = r.obj()["data"].([]any)
	subset(t, data[0].(map[string]any), `{"target": "127.0.0.3:80", "health": "HEALTHCHECKS_OFF"}`)
	subset(t, data[1].(map[string]any), `{"target": "nowhere.test:80", "health": "DNS_ERROR"}`)
	subset(t, data[2].(map[string]any), `{"target": "127.0.0.2:80", "health": "HEALTHY"}`)
	ts.do(http.MethodPatch, "/upstreams/u/targets/127.0.0.3:80", obj("weight", 10), encJSON).mustStatus(t, http.StatusOK)
	r = ts.do(http.MethodGet, "/upstreams/u/health", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj()["data"].([]any)[0].(map[string]any), `{"target": "127.0.0.3:80", "health": "HEALTHY"}`)
	ts.do(http.MethodGet, "/upstreams/nope/health", nil, encJSON).mustStatus(t, http.StatusNotFound)
}

// fakeHealth is a HealthSource with canned answers per target.
type fakeHealth map[string]TargetHealth

func (f fakeHealth) TargetHealth(_ *store.Upstream, t *store.Target) TargetHealth { return f[t.Target] }

func TestAdmin_UpstreamHealthSource(t *testing.T) {
	src := fakeHealth{
		"multi.test:80": {DNS: "A", Addresses: []AddressHealth{
			{IP: "10.0.0.1", Port: 80, Weight: 100, Health: HealthUnhealthy},
			{IP: "10.0.0.2", Port: 80, Weight: 100},
		}},
		"srv.test:80": {DNS: "dns server error: 3 name error", DNSError: true},
	}
	ts := newTestServer(t, slowClock(), func(o *Options) { o.Health = src })
	ts.do(http.MethodPost, "/upstreams", obj("name", "u", "healthchecks", obj("threshold", 60, "active", obj("unhealthy", obj("interval", 1)))), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "multi.test:80"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams/u/targets", obj("target", "srv.test:80"), encJSON).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodGet, "/upstreams/u/health", nil, encJSON).mustStatus(t, http.StatusOK)
	data := r.obj()["data"].([]any)
	subset(t, data[0].(map[string]any), `{"health": "DNS_ERROR", "data": {"host": "srv.test", "port": 80, "dns": "dns server error: 3 name error", "nodeWeight": 100, "weight": {"total": 0, "available": 0, "unavailable": 0}, "addresses": []}}`)
	subset(t, data[1].(map[string]any), `{"health": "HEALTHY", "data": {"host": "multi.test", "port": 80, "dns": "A", "nodeWeight": 100,
		"weight": {"total": 200, "available": 100, "unavailable": 100},
		"addresses": [{"ip": "10.0.0.1", "port": 80, "weight": 100, "health": "UNHEALTHY"}, {"ip": "10.0.0.2", "port": 80, "weight": 100, "health": "HEALTHY"}]}}`)
	r = ts.do(http.MethodGet, "/upstreams/u/health?balancer_health=1", nil, encJSON).mustStatus(t, http.StatusOK)
	// 50% available is not above the 60% threshold.
	subset(t, r.obj()["data"].(map[string]any), `{"health": "UNHEALTHY", "balancer_health": "UNHEALTHY"}`)
}
