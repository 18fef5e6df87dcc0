package translator

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-gw/switchboard/store"
)

// TestPriority_Before checks each rule of Kong's ordering in isolation: a
// is evaluated before b.
func TestPriority_Before(t *testing.T) {
	route := func(mut func(r *store.Route)) *store.Route {
		r := &store.Route{ID: "r", CreatedAt: 100, Paths: []string{"/p"}}
		mut(r)
		return r
	}
	plain := func(s string) *kongPath { p, _ := parseKongPath(s); return &p }
	for _, tc := range []struct {
		name   string
		a, b   *store.Route
		pa, pb *kongPath
	}{
		{
			name: "more conditions first",
			a:    route(func(r *store.Route) { r.Methods = []string{"GET"} }),
			b:    route(func(r *store.Route) {}),
			pa:   plain("/p"), pb: plain("/p"),
		},
		{
			name: "a host condition beats a longer path",
			a:    route(func(r *store.Route) { r.Hosts = []string{"a.example.com"} }),
			b:    route(func(r *store.Route) { r.Paths = []string{"/very/long/path"} }),
			pa:   plain("/p"), pb: plain("/very/long/path"),
		},
		{
			name: "plain hosts beat wildcard hosts",
			a:    route(func(r *store.Route) { r.Hosts = []string{"a.example.com"} }),
			b:    route(func(r *store.Route) { r.Hosts = []string{"*.example.com"} }),
			pa:   plain("/p"), pb: plain("/p"),
		},
		{
			name: "more headers first",
			a:    route(func(r *store.Route) { r.Headers = map[string][]string{"a": {"1"}, "b": {"2"}} }),
			b:    route(func(r *store.Route) { r.Headers = map[string][]string{"a": {"1"}} }),
			pa:   plain("/p"), pb: plain("/p"),
		},
		{
			name: "regex beats plain",
			a:    route(func(r *store.Route) {}),
			b:    route(func(r *store.Route) {}),
			pa:   plain(`~/r`), pb: plain("/a/much/longer/prefix"),
		},
		{
			name: "higher regex_priority first",
			a:    route(func(r *store.Route) { r.RegexPriority = 10; r.CreatedAt = 200 }),
			b:    route(func(r *store.Route) { r.RegexPriority = -1 }),
			pa:   plain(`~/a`), pb: plain(`~/b`),
		},
		{
			name: "regex_priority ignored for plain paths",
			a:    route(func(r *store.Route) { r.CreatedAt = 1 }),
			b:    route(func(r *store.Route) { r.RegexPriority = 10; r.CreatedAt = 2 }),
			pa:   plain("/p"), pb: plain("/p"),
		},
		{
			name: "longer prefix first",
			a:    route(func(r *store.Route) { r.CreatedAt = 200 }),
			b:    route(func(r *store.Route) {}),
			pa:   plain("/mock/x"), pb: plain("/mock"),
		},
		{
			name: "older created_at first",
			a:    route(func(r *store.Route) { r.CreatedAt = 1; r.ID = "z" }),
			b:    route(func(r *store.Route) { r.CreatedAt = 2; r.ID = "a" }),
			pa:   plain("/p"), pb: plain("/p"),
		},
		{
			name: "id breaks the last tie",
			a:    route(func(r *store.Route) { r.ID = "a" }),
			b:    route(func(r *store.Route) { r.ID = "b" }),
			pa:   plain("/p"), pb: plain("/p"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := priorityOf(tc.a, tc.pa, 0), priorityOf(tc.b, tc.pb, 0)
			if !a.before(b) || b.before(a) {
				t.Errorf("want a before b:\na=%+v\nb=%+v", a, b)
			}
			if a.compare(b) != -1 || b.compare(a) != 1 || a.compare(a) != 0 {
				t.Errorf("compare disagrees with before")
			}
		})
	}
}

func TestRouteDomain(t *testing.T) {
	for _, tc := range []struct {
		host   string
		want   string
		wantOK bool
	}{
		{"API.example.com", "api.example.com", true},
		{"*.example.com", "*.example.com", true},
		{"example.*", "example.*", true},
		{"example.com:8000", "example.com", true},
		{"example.com:9000", "", false},
		{"[::1]:8000", "[::1]", true},
		{"::1", "::1", true},
	} {
		got, ok := routeDomain(tc.host, 8000)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("routeDomain(%q) = %q, %v; want %q, %v", tc.host, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestCoveringPatterns(t *testing.T) {
	for d, want := range map[string][]string{
		"api.example.com": {"api.example.com", "*.example.com", "api.*", "*.com", "api.example.*", "*"},
		"*.a.example.com": {"*.a.example.com", "*.example.com", "*.com", "*"},
		"api.v1.*":        {"api.v1.*", "api.*", "*"},
		"*":               {"*"},
		"localhost":       {"localhost", "*"},
		"*.example.com":   {"*.example.com", "*.com", "*"},
		"example.*":       {"example.*", "*"},
		"a.b":             {"a.b", "*.b", "a.*", "*"},
	} {
		got := coveringPatterns(d)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("coveringPatterns(%q) (-want +got):\n%s", d, diff)
		}
	}
}

func TestParseClusterName(t *testing.T) {
	verify := true
	u := &store.Upstream{Name: "example_upstream"}
	for _, tc := range []struct {
		name string
		ref  ClusterRef
	}{
		{UpstreamClusterName(u, nil), ClusterRef{Upstream: "example_upstream", Protocol: "http", ConnectTimeoutMS: 60000}},
		{UpstreamClusterName(u, &store.Service{Protocol: "https", ConnectTimeout: 5000, TLSVerify: &verify}),
			ClusterRef{Upstream: "example_upstream", Protocol: "https", ConnectTimeoutMS: 5000, TLSVerify: true}},
		{ServiceClusterName(&store.Service{ID: "0b3c"}), ClusterRef{ServiceID: "0b3c"}},
	} {
		got, ok := ParseClusterName(tc.name)
		if !ok || got != tc.ref {
			t.Errorf("ParseClusterName(%q) = %+v, %v; want %+v", tc.name, got, ok, tc.ref)
		}
		if !slices.Contains([]string{"upstream/example_upstream/"}, UpstreamClusterPrefix("example_upstream")) {
			t.Fatal("prefix")
		}
	}
	for _, bad := range []string{"", "xds_cluster", "upstream/u/http", "upstream/u/ftp/1", "upstream/u/http-verify/1", "upstream/u/http/0", "service/", "service/a/b"} {
		if ref, ok := ParseClusterName(bad); ok {
			t.Errorf("ParseClusterName(%q) = %+v, want not ok", bad, ref)
		}
	}
}
