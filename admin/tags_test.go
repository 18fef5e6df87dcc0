package admin

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

// docs/kong-contract.md §3; Kong's spec/02-integration/04-admin_api/14-tags_spec.lua.
func TestAdmin_Tags(t *testing.T) {
	ts := newTestServer(t)
	for _, s := range []struct {
		name string
		tags []any
	}{
		{"s1", list("foo", "bar")},
		{"s2", list("foo")},
		{"s3", list("bar", "baz")},
		{"s4", list("汉字", "with space")},
		{"s5", nil},
	} {
		body := obj("name", s.name, "host", "x.test")
		if s.tags != nil {
			body["tags"] = s.tags
		}
		ts.do(http.MethodPost, "/services", body, encJSON).mustStatus(t, http.StatusCreated)
	}
	names := func(query string) string {
		t.Helper()
		r := ts.do(http.MethodGet, "/services?tags="+query, nil, encJSON).mustStatus(t, http.StatusOK)
		var out []string
		for _, d := range r.obj()["data"].([]any) {
			out = append(out, d.(map[string]any)["name"].(string))
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	tests := []struct{ query, want string }{
		{"foo", "s1,s2"},
		{"foo,bar", "s1"},
		{"foo/baz", "s1,s2,s3"},
		{url.QueryEscape("汉字"), "s4"},
		{url.QueryEscape("with space"), "s4"},
		{"''", ""},
		{"nothing", ""},
	}
	for _, tt := range tests {
		if got := names(tt.query); got != tt.want {
			t.Errorf("tags=%s: %q, want %q", tt.query, got, tt.want)
		}
	}
	errTests := []struct{ query, why string }{
		{"", "cannot be null"},
		{"a,b/c", "invalid filter syntax"},
		{"%FF", "invalid filter syntax"},
		{"a,b,c,d,e,f", "cannot query more than 5 tags"},
		{"a,,b", "invalid filter syntax"},
	}
	for _, tt := range errTests {
		r := ts.do(http.MethodGet, "/services?tags="+tt.query, nil, encJSON).mustStatus(t, http.StatusBadRequest)
		jsonEqual(t, r.body, `{"code":11,"name":"invalid options","message":"invalid option (tags: `+tt.why+`)","options":{"tags":"`+tt.why+`"}}`)
	}
	r := ts.do(http.MethodGet, "/services?tags=foo/bar/baz&size=1", nil, encJSON).mustStatus(t, http.StatusOK)
	if next := r.str("next"); next != "/services?offset="+escapeURI(r.str("offset"))+"&tags=foo%2Fbar%2Fbaz&size=1" {
		t.Errorf("next %q keeps neither tags nor size", next)
	}
	seen := 1
	for next := r.str("next"); next != ""; next = r.str("next") {
		r = ts.do(http.MethodGet, next, nil, encJSON).mustStatus(t, http.StatusOK)
		seen += len(r.obj()["data"].([]any))
	}
	if seen != 3 {
		t.Errorf("paged through %d tagged services, want 3", seen)
	}
	r = ts.do(http.MethodPost, "/services", obj("host", "x.test", "tags", list("a,b")), encJSON).mustStatus(t, http.StatusBadRequest)
	jsonEqual(t, r.body, "{\"code\":2,\"name\":\"schema violation\",\"message\":\"schema violation (tags.1: invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences)\",\"fields\":{\"tags\":[\"invalid tag 'a,b': expected printable ascii (except `,` and `/`) or valid utf-8 sequences\"]}}")
	r = ts.do(http.MethodPost, "/services", obj("host", "x.test", "tags", list("")), encJSON).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"fields": {"tags": ["length must be at least 1"]}}`)
}
