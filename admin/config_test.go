package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// getStartedYAML is Kong's Get Started chapters as one kong.yaml
// (docs/kong-contract.md §8): a service with its route and plugins, an
// upstream with targets, a consumer with a key.
const getStartedYAML = `_format_version: "3.0"
services:
- name: example_service
  url: http://httpbin.konghq.com
  routes:
  - name: example_route
    paths: [/mock]
  - paths: [/anonymous]
  plugins:
  - name: key-auth
upstreams:
- name: example_upstream
  targets:
  - target: httpbun.com:80
  - target: httpbin.konghq.com:80
    weight: 50
consumers:
- username: luka
  keyauth_credentials:
  - key: top-secret-key
plugins:
- name: rate-limiting
  config:
    minute: 5
    policy: local
- name: proxy-cache
  config:
    strategy: memory
    content_type: [application/json]
`

// postConfig sends a POST /config body with a content type.
func (ts *testServer) postConfig(query, ctype, body string) *resp {
	ts.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/config"+query, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	r := &resp{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	if len(r.raw) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(r.raw)))
		dec.UseNumber()
		_ = dec.Decode(&r.body)
	}
	return r
}

func count(t *testing.T, ts *testServer, path string) int {
	t.Helper()
	return len(ts.do(http.MethodGet, path, nil, encJSON).mustStatus(t, http.StatusOK).obj()["data"].([]any))
}

// A file applies as one revision, dumps, and re-applies (the same file or
// its own dump) without any write.
func TestConfig_GetStartedRoundTrip(t *testing.T) {
	ts := newTestServer(t)
	before := ts.store.Revision()
	r := ts.postConfig("", "application/yaml", getStartedYAML).mustStatus(t, http.StatusCreated)
	if got := ts.store.Revision(); got != before+1 {
		t.Fatalf("revision %d -> %d: want one store mutation", before, got)
	}
	if n := len(r.obj()["routes"].(map[string]any)); n != 2 {
		t.Errorf("201 body has %d routes", n)
	}
	for path, want := range map[string]int{"/services": 1, "/routes": 2, "/upstreams": 1, "/upstreams/example_upstream/targets": 2,
		"/consumers": 1, "/key-auths": 1, "/plugins": 3, "/services/example_service/plugins": 1} {
		if got := count(t, ts, path); got != want {
			t.Errorf("%s: %d entities, want %d", path, got, want)
		}
	}
	ids := ts.do(http.MethodGet, "/routes", nil, encJSON).raw
	applied := ts.store.Revision()

	// The same file again: nothing written; check_hash=1 says 304.
	ts.postConfig("", "application/yaml", getStartedYAML).mustStatus(t, http.StatusCreated)
	ts.postConfig("?check_hash=1", "application/yaml", getStartedYAML).mustStatus(t, http.StatusNotModified)
	if got := ts.store.Revision(); got != applied {
		t.Fatalf("re-apply wrote: revision %d -> %d", applied, got)
	}
	if again := ts.do(http.MethodGet, "/routes", nil, encJSON).raw; string(again) != string(ids) {
		t.Errorf("re-apply changed routes:\n%s\n%s", ids, again)
	}

	// The dump, posted back as a `config` string (JSON body) and as YAML.
	dump := ts.do(http.MethodGet, "/config", nil, encJSON).mustStatus(t, http.StatusOK).str("config")
	if !strings.Contains(dump, `_format_version: "3.0"`) {
		t.Errorf("dump: %s", dump)
	}
	body, _ := json.Marshal(map[string]string{"config": dump})
	ts.postConfig("", "application/json", string(body)).mustStatus(t, http.StatusCreated)
	ts.postConfig("", "text/yaml", dump).mustStatus(t, http.StatusCreated)
	if got := ts.store.Revision(); got != applied {
		t.Fatalf("re-applying the dump wrote: revision %d -> %d\n%s", applied, got, dump)
	}
	if again := ts.do(http.MethodGet, "/config", nil, encJSON).str("config"); again != dump {
		t.Errorf("dump changed:\n%s\n%s", dump, again)
	}

	// A smaller file replaces the state: the unnamed route and the proxy-cache
	// plugin go, the named route keeps its id.
	smaller := strings.Replace(getStartedYAML, "  - paths: [/anonymous]\n", "", 1)
	smaller = smaller[:strings.Index(smaller, "- name: proxy-cache")]
	named := ts.do(http.MethodGet, "/routes/example_route", nil, encJSON).str("id")
	ts.postConfig("", "application/yaml", smaller).mustStatus(t, http.StatusCreated)
	if got := ts.store.Revision(); got != applied+1 {
		t.Errorf("smaller file: revision %d -> %d", applied, got)
	}
	if got := count(t, ts, "/routes"); got != 1 {
		t.Errorf("%d routes after the smaller file", got)
	}
	if got := count(t, ts, "/plugins"); got != 2 {
		t.Errorf("%d plugins after the smaller file", got)
	}
	if id := ts.do(http.MethodGet, "/routes/example_route", nil, encJSON).str("id"); id != named {
		t.Errorf("named route id %s -> %s", named, id)
	}

	// An empty file empties the store.
	ts.postConfig("", "application/json", `{"_format_version": "3.0"}`).mustStatus(t, http.StatusCreated)
	for _, p := range []string{"/services", "/routes", "/upstreams", "/consumers", "/plugins", "/key-auths"} {
		if got := count(t, ts, p); got != 0 {
			t.Errorf("%s: %d left", p, got)
		}
	}
}

// An invalid file changes nothing and answers Kong's code 14 with a fields
// tree mirroring the input.
func TestConfig_InvalidChangesNothing(t *testing.T) {
	ts := newTestServer(t)
	ts.postConfig("", "application/yaml", getStartedYAML).mustStatus(t, http.StatusCreated)
	rev := ts.store.Revision()
	bad := `_format_version: "3.0"
services:
- name: ok
  host: ok.test
- name: bad
  port: 70000
  routes:
  - paths: [/ok]
  - paths: [relative]
consumers:
- username: luka
  keyauth_credentials:
  - key: k
  - key: k
`
	r := ts.postConfig("?flatten_errors=1", "application/yaml", bad).mustStatus(t, http.StatusBadRequest)
	o := r.obj()
	if o["code"] != json.Number("14") || o["name"] != "invalid declarative configuration" ||
		!strings.HasPrefix(o["message"].(string), "declarative config is invalid: ") {
		t.Errorf("body %s", r.raw)
	}
	fields, _ := json.Marshal(o["fields"])
	for _, want := range []string{`"services":[null,{`, `"port":"value should be between 0 and 65535"`, `"host":"required field missing"`,
		`"routes":[null,{"paths":`, `"keyauth_credentials":[null,{"@entity":["uniqueness violation`} {
		if !strings.Contains(string(fields), want) {
			t.Errorf("fields lack %s:\n%s", want, fields)
		}
	}
	if flat, _ := o["flattened_errors"].([]any); len(flat) != 3 {
		t.Errorf("flattened_errors: %s", r.raw)
	}
	if got := ts.store.Revision(); got != rev {
		t.Errorf("an invalid file wrote: revision %d -> %d", rev, got)
	}
	if got := count(t, ts, "/services"); got != 1 {
		t.Errorf("%d services after an invalid file", got)
	}
}

func TestConfig_Inputs(t *testing.T) {
	ts := newTestServer(t)
	r := ts.postConfig("", "application/json", "").mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.obj(), `{"message": "expected a declarative configuration"}`)
	r = ts.postConfig("", "application/json", `{"config": "- 1"}`).mustStatus(t, http.StatusBadRequest)
	if r.str("message") != "failed parsing declarative configuration: expected an object" {
		t.Errorf("%s", r.raw)
	}
	r = ts.postConfig("", "application/json", `{"services": []}`).mustStatus(t, http.StatusBadRequest)
	if !strings.Contains(string(r.raw), `"_format_version":"required field missing"`) {
		t.Errorf("%s", r.raw)
	}
	// 2.1 files are migrated: a regex path gets Kong 3's "~".
	ts.postConfig("", "application/x-www-form-urlencoded",
		"config="+strings.ReplaceAll(`{"_format_version":"2.1","routes":[{"name":"rx","paths":["/v\\d+/x"]}]}`, "+", "%2B")).
		mustStatus(t, http.StatusCreated)
	got := ts.do(http.MethodGet, "/routes/rx", nil, encJSON).mustStatus(t, http.StatusOK).obj()["paths"]
	if b, _ := json.Marshal(got); string(b) != `["~/v\\d+/x"]` {
		t.Errorf("migrated paths %s", b)
	}
	// Targets without a port get :8000, as in Kong.
	ts.postConfig("", "application/json", `{"_format_version":"3.0","upstreams":[{"name":"u","targets":[{"target":"10.1.2.3"}]}]}`).
		mustStatus(t, http.StatusCreated)
	if got := ts.do(http.MethodGet, "/upstreams/u/targets", nil, encJSON).obj()["data"].([]any)[0].(map[string]any)["target"]; got != "10.1.2.3:8000" {
		t.Errorf("target %v", got)
	}
}

// dry_run=1 lists the changes entity by entity and writes nothing.
func TestConfig_DryRun(t *testing.T) {
	ts := newTestServer(t)
	r := ts.postConfig("?dry_run=1", "application/yaml", getStartedYAML).mustStatus(t, http.StatusOK)
	if n := len(r.obj()["changes"].([]any)); n != 11 || ts.store.Revision() != 0 {
		t.Fatalf("%d changes, revision %d: %s", n, ts.store.Revision(), r.raw)
	}
	ts.postConfig("", "application/yaml", getStartedYAML).mustStatus(t, http.StatusCreated)
	r = ts.postConfig("?dry_run=1", "application/yaml", getStartedYAML).mustStatus(t, http.StatusOK)
	jsonEqual(t, r.obj(), `{"changes": []}`)
	r = ts.postConfig("?dry_run=1", "application/json", `{"_format_version": "3.0"}`).mustStatus(t, http.StatusOK)
	if n := len(r.obj()["changes"].([]any)); n != 11 {
		t.Errorf("%d deletes: %s", n, r.raw)
	}
}
