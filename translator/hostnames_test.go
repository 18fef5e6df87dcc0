package translator

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-gw/switchboard/store"
)

func TestHostnames(t *testing.T) {
	target := func(host string) *store.Target { return &store.Target{Target: host} }
	service := func(host string) *store.Service { return &store.Service{Host: host} }
	in := &Input{
		Upstreams: []*store.Upstream{{ID: "u1", Name: "my_upstream"}},
		Targets: []*store.Target{
			target("backend.test:8080"), target("127.0.0.2:8080"), target("[::1]:8080"),
			target("_http._tcp.srv.test:8000"), target("bare.test"), target("[::2]"),
		},
		Services: []*store.Service{
			service("my_upstream"), service("plain.test"), service("10.0.0.1"), service("backend.test"), service("[::3]"),
		},
	}
	want := []string{"_http._tcp.srv.test", "backend.test", "bare.test", "plain.test"}
	if diff := cmp.Diff(want, Hostnames(in)); diff != "" {
		t.Errorf("Hostnames (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"backend.test", "_http._tcp.srv.test", "bare.test"}, TargetHostnames(in.Targets)); diff != "" {
		t.Errorf("TargetHostnames (-want +got):\n%s", diff)
	}
}

func TestHealthOverride(t *testing.T) {
	whole := &store.TargetHealth{TargetID: "t1", Healthy: false}
	addr := &store.TargetHealth{TargetID: "t1", Address: "10.0.0.1:80", Healthy: true}
	other := &store.TargetHealth{TargetID: "t2", Address: "10.0.0.1:80"}
	defaultPort := &store.TargetHealth{TargetID: "t3", Address: "10.0.0.1"}
	a := netip.MustParseAddrPort("10.0.0.1:80")
	for _, tc := range []struct {
		name   string
		rows   []*store.TargetHealth
		target string
		addr   netip.AddrPort
		want   *store.TargetHealth
	}{
		{"address beats whole target", []*store.TargetHealth{whole, addr, other}, "t1", a, addr},
		{"address beats whole target, any order", []*store.TargetHealth{addr, whole}, "t1", a, addr},
		{"whole target for another address", []*store.TargetHealth{whole, addr}, "t1", netip.MustParseAddrPort("10.0.0.2:80"), whole},
		{"other targets ignored", []*store.TargetHealth{other}, "t1", a, nil},
		{"Kong's default port 8000", []*store.TargetHealth{defaultPort}, "t3", netip.MustParseAddrPort("10.0.0.1:8000"), defaultPort},
		{"none", nil, "t1", a, nil},
	} {
		if got := HealthOverride(tc.rows, tc.target, tc.addr); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
