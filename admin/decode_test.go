package admin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docs/kong-contract.md §2; Kong's 03-consumers_routes_spec.lua and 21-truncated_arguments_spec.lua.
func TestAdmin_ContentTypes(t *testing.T) {
	ts := newTestServer(t)
	send := func(ctype []string, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/services", strings.NewReader(body))
		for _, c := range ctype {
			req.Header.Add("Content-Type", c)
		}
		rec := httptest.NewRecorder()
		ts.h.ServeHTTP(rec, req)
		return rec
	}
	tests := []struct {
		name   string
		ctype  []string
		body   string
		status int
		want   string
	}{
		{"unsupported type", []string{"text/plain"}, "host=x.test", http.StatusUnsupportedMediaType, `{"message":"Unsupported Media Type"}`},
		{"body without type", nil, "host=x.test", http.StatusUnsupportedMediaType, `{"message":"Unsupported Media Type"}`},
		{"no body no type", nil, "", http.StatusBadRequest, `{"code":2,"name":"schema violation","message":"schema violation (host: required field missing)","fields":{"host":"required field missing"}}`},
		{"empty json", []string{"application/json"}, "", http.StatusBadRequest, `{"message":"Cannot parse JSON body"}`},
		{"empty form", []string{"application/x-www-form-urlencoded"}, "", http.StatusBadRequest, `{"code":2,"name":"schema violation","message":"schema violation (host: required field missing)","fields":{"host":"required field missing"}}`},
		{"json charset", []string{"application/json; charset=utf-8"}, `{"host":"x.test"}`, http.StatusCreated, ""},
		{"two types", []string{"application/json", "application/json"}, `{"host":"x.test"}`, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := send(tt.ctype, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.want != "" {
				r := &resp{raw: rec.Body.Bytes()}
				r.body = decodeAny(t, rec.Body.String())
				jsonEqual(t, r.body, tt.want)
			}
		})
	}
}

func decodeAny(t *testing.T, s string) any {
	t.Helper()
	m, err := decodeJSONObject([]byte(s))
	if err != nil {
		t.Fatalf("response is not a JSON object: %s", s)
	}
	return m
}

func TestAdmin_TooManyArguments(t *testing.T) {
	ts := newTestServer(t)
	q := url.Values{}
	for i := range 1001 {
		q.Add(fmt.Sprintf("a%d", i), "x")
	}
	r := ts.do(http.MethodGet, "/services?"+q.Encode(), nil, encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, `{"message":"Too many arguments"}`)
	for _, enc := range []encoding{encForm, encMultipart} {
		body := map[string]any{"host": "x.test"}
		for i := range 1000 {
			body[fmt.Sprintf("tags%d", i)] = "t"
		}
		r = ts.do(http.MethodPost, "/services", body, enc).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, `{"message":"Too many arguments"}`)
	}
	q = url.Values{}
	for i := range 1000 {
		q.Add(fmt.Sprintf("a%d", i), "x")
	}
	ts.do(http.MethodGet, "/services?"+q.Encode(), nil, encJSON).mustStatus(t, http.StatusOK)
}

func TestAdmin_FormDecoding(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"repeated keys", "paths=/a&paths=/b", `{"paths": ["/a", "/b"]}`},
		{"brackets", "paths[]=/a&paths[]=/b", `{"paths": ["/a", "/b"]}`},
		{"indexes", "paths[2]=/b&paths[1]=/a", `{"paths": ["/a", "/b"]}`},
		{"single to array", "hosts=example.com", `{"hosts": ["example.com"]}`},
		{"map dotted", "paths=/a&headers.region=north&headers.x-y=1", `{"headers": {"region": ["north"], "x-y": ["1"]}}`},
		{"map brackets", "paths=/a&headers[region]=north&headers[region]=south", `{"headers": {"region": ["north", "south"]}}`},
		{"types", "paths=/a&regex_priority=10&strip_path=false&preserve_host=true", `{"regex_priority": 10, "strip_path": false, "preserve_host": true}`},
		{"empty is null", "paths=/a&name=", `{"name": null}`},
		{"service name", "paths=/a&service.name=svc", `{"service": {"id": "SVC"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			svc := ts.do(http.MethodPost, "/services", obj("name", "svc", "host", "x.test"), encJSON)
			r := ts.do(http.MethodPost, "/routes", tt.body, encForm).mustStatus(t, http.StatusCreated)
			subset(t, r.obj(), strings.ReplaceAll(tt.want, "SVC", svc.str("id")))
		})
	}
	ts := newTestServer(t)
	ts.do(http.MethodPost, "/services", "host=x.test&path=/p&name=n", encForm).mustStatus(t, http.StatusCreated)
	// --data path= clears the path.
	r := ts.do(http.MethodPatch, "/services/n", "path=", encForm).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"path": null}`)
	r = ts.do(http.MethodPatch, "/services/n", "port=abc", encForm).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"fields": {"port": "expected an integer"}}`)
	r = ts.do(http.MethodPost, "/upstreams", "name=u&healthchecks.active.healthy.interval=5&healthchecks.active.healthy.http_statuses=200&healthchecks.threshold=12.5", encForm).mustStatus(t, http.StatusCreated)
	subset(t, r.obj()["healthchecks"].(map[string]any), `{"threshold": 12.5}`)
	subset(t, r.obj()["healthchecks"].(map[string]any)["active"].(map[string]any)["healthy"].(map[string]any), `{"interval": 5, "http_statuses": [200], "successes": 0}`)
	// JSON values are not inferred.
	r = ts.do(http.MethodPost, "/services", obj("host", "x.test", "port", "80"), encJSON).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"fields": {"port": "expected an integer"}}`)
}

func TestAdmin_FormKeyParsing(t *testing.T) {
	got, err := decodeFormArgs(url.Values{
		"a.b.c":   {"1"},
		"l[]":     {"x", "y"},
		"m[k]":    {"v"},
		"r":       {"1", "2"},
		"s[2].ip": {"b"},
		"s[1].ip": {"a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a": map[string]any{"b": map[string]any{"c": "1"}},
		"l": []any{"x", "y"},
		"m": map[string]any{"k": "v"},
		"r": []any{"1", "2"},
		"s": []any{map[string]any{"ip": "a"}, map[string]any{"ip": "b"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decodeFormArgs (-want +got):\n%s", diff)
	}
}

func TestAdmin_NullMeansDefault(t *testing.T) {
	ts := newTestServer(t)
	ts.do(http.MethodPost, "/services", "name=s&host=x.test&retries=2", encForm).mustStatus(t, http.StatusCreated)
	r := ts.do(http.MethodPatch, "/services/s", "retries=", encForm).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"retries": 5}`)
	r = ts.do(http.MethodPatch, "/services/s", obj("protocol", nil), encJSON).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"fields": {"protocol": "required field missing"}}`)
	ts.do(http.MethodPost, "/upstreams", obj("name", "u", "hash_on", "ip"), encJSON).mustStatus(t, http.StatusCreated)
	r = ts.do(http.MethodPatch, "/upstreams/u", obj("hash_on", nil, "algorithm", "round-robin"), encJSON).mustStatus(t, http.StatusOK)
	subset(t, r.obj(), `{"hash_on": "none", "algorithm": "round-robin"}`)
}
