package admin

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestAdmin_HostileBodies is the table of hostile inputs: each
// answers a Kong-shaped 4xx naming the field and leaves the store as it
// was. The deep form key used to kill the process with a stack overflow.
func TestAdmin_HostileBodies(t *testing.T) {
	tags := strings.Repeat("&tags=t", 1001)
	cases := []struct {
		name, path, body string
		enc              encoding
		status           int
		want             string // a subset of the response body
	}{
		{"2.4 MB deep form key", "/services", "host=x.test&tags" + strings.Repeat(".a", 1_200_000) + "=1", encForm, 413,
			`{"message": "Request Entity Too Large: the body may hold at most 1048576 bytes"}`},
		{"7 MB entity with a million tags", "/services", "host=x.test" + strings.Repeat("&tags=t", 1_000_000), encForm, 413,
			`{"message": "Request Entity Too Large: the body may hold at most 1048576 bytes"}`},
		{"deep form key", "/services", "host=x.test&tags" + strings.Repeat(".a", 500_000) + "=1", encForm, 400,
			`{"code": 2, "fields": {"tags": "nesting too deep: at most 16 levels"}}`},
		{"deep bracket key", "/services", "host=x.test&tags" + strings.Repeat("[1]", 100) + "=1", encForm, 400,
			`{"fields": {"tags": "nesting too deep: at most 16 levels"}}`},
		{"deep JSON", "/services", `{"host":"x.test","tags":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, encJSON, 400,
			`{"code": 2, "name": "schema violation"}`},
		{"body over 1 MiB", "/services", `{"host":"x.test","path":"/` + strings.Repeat("a", 1<<20) + `"}`, encJSON, 413,
			`{"message": "Request Entity Too Large: the body may hold at most 1048576 bytes"}`},
		{"too many tags", "/services", "host=x.test" + tags[:len(tags)-len("&tags=t")] + "&tags[]=x", encForm, 400,
			`{"message": "Too many arguments"}`},
		{"tags array over 1000", "/services", `{"host":"x.test","tags":[` + strings.Repeat(`"t",`, 1000) + `"t"]}`, encJSON, 400,
			`{"fields": {"tags": "length must be at most 1000"}}`},
		{"entity over 256 KiB", "/services", `{"host":"x.test","tags":[` + strings.Repeat(`"`+strings.Repeat("t", 255)+`",`, 999) + `"t"]}`, encJSON, 413,
			`{"message": "Request Entity Too Large: an entity may hold at most 262144 bytes"}`},
		{"long name", "/services", `{"host":"x.test","name":"` + strings.Repeat("n", 256) + `"}`, encJSON, 400,
			`{"fields": {"name": "length must be at most 255"}}`},
		{"long host element", "/routes", `{"hosts":["` + strings.Repeat("h", 300) + `.test"]}`, encJSON, 400,
			`{"fields": {"hosts": ["length must be at most 260"]}}`},
		{"long header value", "/routes", `{"headers":{"x":["` + strings.Repeat("v", 5000) + `"]}}`, encJSON, 400,
			`{"fields": {"headers": {"x": ["length must be at most 4096"]}}}`},
		{"invalid UTF-8 in JSON", "/services", "{\"host\":\"x.test\",\"name\":\"a\xffb\"}", encJSON, 400,
			`{"fields": {"name": "expected a valid UTF-8 string"}}`},
		{"invalid UTF-8 in form", "/services", "host=x.test&name=a%FFb", encForm, 400,
			`{"fields": {"name": "expected a valid UTF-8 string"}}`},
		{"invalid UTF-8 key", "/services", "host=x.test&tags%FF=a", encForm, 400,
			`{"code": 2}`},
		{"NUL in plain path", "/routes", `{"paths":["/a\u0000b"]}`, encJSON, 400,
			`{"fields": {"paths": ["invalid path: contains NUL"]}}`},
		{"NUL in regex path", "/routes", "paths=~/a%00b", encForm, 400,
			`{"fields": {"paths": ["invalid path: contains NUL"]}}`},
		{"regex over Envoy's program size", "/routes", `{"paths":["~/static/[a-zA-Z0-9._-]{0,40}/"]}`, encJSON, 400,
			`{"code": 2}`},
		{"plain path over Envoy's program size", "/routes", `{"paths":["/` + strings.Repeat("p", 120) + `"]}`, encJSON, 400,
			`{"code": 2}`},
		{"methods over Envoy's program size", "/routes", `{"paths":["/"],"methods":["GET","HEAD","POST","PUT","PATCH","DELETE","OPTIONS","CONNECT","TRACE","PROPFIND","PROPPATCH","MKCOL","COPY","MOVE","LOCK","UNLOCK"]}`, encJSON, 400,
			`{"code": 2}`},
		{"CR LF in header value", "/routes", `{"headers":{"x":["a\r\nb"]}}`, encJSON, 400,
			`{"fields": {"headers": {"x": "invalid header value: contains CR"}}}`},
		{"NUL in header value", "/routes", "headers.x=a%00b", encForm, 400,
			`{"fields": {"headers": {"x": "invalid header value: contains NUL"}}}`},
		{"header regex over program size", "/routes", `{"headers":{"x":["~*[a-z0-9]{60}"]}}`, encJSON, 400,
			`{"code": 2}`},
		{"health-check interval rounds to 0 ms", "/upstreams", `{"name":"u.test","healthchecks":{"active":{"healthy":{"interval":0.0004}}}}`, encJSON, 400,
			`{"fields": {"healthchecks": {"active": {"healthy": {"interval": "value should be 0 (off) or at least 0.001 (the data plane counts in milliseconds)"}}}}}`},
		{"health-check timeout rounds to 0 ms", "/upstreams", "name=u.test&healthchecks.active.timeout=0.0001", encForm, 400,
			`{"code": 2}`},
		{"CR in health-check header", "/upstreams", `{"name":"u.test","healthchecks":{"active":{"headers":{"x":["a\rb"]}}}}`, encJSON, 400,
			`{"code": 2}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestServer(t)
			r := ts.do(http.MethodPost, c.path, c.body, c.enc).mustStatus(t, c.status)
			subset(t, r.obj(), c.want)
			if rev := ts.store.Revision(); rev != 0 {
				t.Fatalf("store changed: revision %d", rev)
			}
		})
	}
}

// TestAdmin_LimitsKeepRealConfigs checks that the limits leave room for
// what real configurations hold.
func TestAdmin_LimitsKeepRealConfigs(t *testing.T) {
	ts := newTestServer(t)
	tags := make([]any, 1000)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag-%d", i)
	}
	ts.do(http.MethodPost, "/services", obj("name", "s", "host", "x.test", "tags", tags), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/routes", obj("paths", list("/"+strings.Repeat("p", 80), `~/users/(?<id>\d+)/?`),
		"headers", obj("x-version", list("v1", "v2", "~*^beta-[0-9]+$"))), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/upstreams", "name=u.test&healthchecks.active.healthy.interval=0.001&healthchecks.active.timeout=0.5", encForm).
		mustStatus(t, http.StatusCreated)
}

// TestAdmin_DeepKeyBoundedMemory checks that a deep key is refused before
// anything proportional to its depth is built.
func TestAdmin_DeepKeyBoundedMemory(t *testing.T) {
	ts := newTestServer(t)
	body := "host=x.test&tags" + strings.Repeat(".a", 500_000) + "=1"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ts.do(http.MethodPost, "/services", body, encForm).mustStatus(t, http.StatusBadRequest)
	runtime.ReadMemStats(&after)
	if grown := after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc); grown > 256<<20 {
		t.Fatalf("heap grew by %d MiB", grown>>20)
	}
}
