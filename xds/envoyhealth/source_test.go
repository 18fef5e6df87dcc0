package main

import (
	"net/netip"
	"testing"

	"github.com/switchboard-gw/switchboard/admin"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
	"github.com/switchboard-gw/switchboard/xds"
	"github.com/switchboard-gw/switchboard/xds/envoyhealth"
)

// ipDNS is fakeDNS that answers IP literals itself, as the resolver does.
type ipDNS struct{ fakeDNS }

func (d ipDNS) Lookup(h string) (translator.DNSAnswer, bool) {
	if ip, err := netip.ParseAddr(h); err == nil {
		return translator.DNSAnswer{RecordType: "A", Addresses: []translator.Address{{IP: ip.String()}}}, true
	}
	return d.fakeDNS.Lookup(h)
}

// fakeEnvoys answers Address from a table.
type fakeEnvoys map[netip.AddrPort]envoyhealth.Lookup

func (f fakeEnvoys) Address(_ string, a netip.AddrPort) envoyhealth.Lookup { return f[a] }

func TestEnvoyHealthSource(t *testing.T) {
	checked := &store.Upstream{ID: "u1", Name: "shop"}
	checked.Healthchecks.Active.Healthy.Interval = 5
	unchecked := &store.Upstream{ID: "u2", Name: "plain"}
	dns := ipDNS{fakeDNS{"multi.test": {RecordType: "A", Addresses: []translator.Address{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}, {IP: "10.0.0.3"}}}}}
	ap := netip.MustParseAddrPort
	envoys := fakeEnvoys{
		ap("10.0.0.1:80"): {Status: envoyhealth.Unhealthy, AsOf: 10},
		ap("10.0.0.2:80"): {Status: envoyhealth.Healthy, AsOf: 10},
		// 10.0.0.3: no Envoy has it yet.
		ap("10.0.0.9:80"): {Status: envoyhealth.Unhealthy, AsOf: 10},
		ap("10.0.0.8:80"): {Status: envoyhealth.Unhealthy, AsOf: 10},
	}
	overrides := []*store.TargetHealth{
		// t2: /healthy committed after the Envoy view (index 12 > 10).
		{TargetID: "t2", Address: "", Healthy: true, ModifyIndex: 12},
		// t3: an older address override; the view is newer.
		{TargetID: "t3", Address: "10.0.0.8:80", Healthy: true, ModifyIndex: 4},
	}
	src := envoyHealthSource{
		dns:       newHealthSource(dns),
		envoys:    envoys,
		overrides: func(id string) []*store.TargetHealth { return overrides },
	}
	health := func(th admin.TargetHealth) []string {
		var out []string
		for _, a := range th.Addresses {
			out = append(out, a.Health)
		}
		return out
	}
	got := health(src.TargetHealth(checked, &store.Target{ID: "t1", Target: "multi.test:80", Weight: 10}))
	if want := []string{admin.HealthUnhealthy, admin.HealthHealthy, ""}; !equal(got, want) {
		t.Errorf("Envoy view: %q, want %q", got, want)
	}
	if got := health(src.TargetHealth(checked, &store.Target{ID: "t2", Target: "10.0.0.9:80", Weight: 10})); !equal(got, []string{""}) {
		t.Errorf("override newer than the view: %q, want the Admin API to decide", got)
	}
	if got := health(src.TargetHealth(checked, &store.Target{ID: "t3", Target: "10.0.0.8:80", Weight: 10})); !equal(got, []string{admin.HealthUnhealthy}) {
		t.Errorf("override older than the view: %q, want Envoy's UNHEALTHY", got)
	}
	if got := health(src.TargetHealth(unchecked, &store.Target{ID: "t4", Target: "10.0.0.9:80", Weight: 10})); !equal(got, []string{""}) {
		t.Errorf("checks off: %q, want HEALTHCHECKS_OFF left to the Admin API", got)
	}
	if got := health(src.TargetHealth(checked, &store.Target{ID: "t5", Target: "10.0.0.9:80", Weight: 0})); !equal(got, []string{""}) {
		t.Errorf("weight 0: %q, want HEALTHCHECKS_OFF left to the Admin API", got)
	}
	if th := src.TargetHealth(checked, &store.Target{ID: "t6", Target: "nope.test:80", Weight: 10}); !th.DNSError {
		t.Errorf("unresolved: %+v, want DNS_ERROR", th)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOverrideFor(t *testing.T) {
	rows := []*store.TargetHealth{
		{TargetID: "t", Address: "", Healthy: false},
		{TargetID: "t", Address: "10.0.0.1", Healthy: true},       // Kong's default port 8000
		{TargetID: "t", Address: "[::1]:80", Healthy: true},       // IPv6
		{TargetID: "t", Address: "10.0.0.2:80", Healthy: true},    // exact
		{TargetID: "t", Address: "not an address", Healthy: true}, // ignored
	}
	for addr, want := range map[string]*store.TargetHealth{
		"10.0.0.1:8000": rows[1],
		"10.0.0.1:80":   rows[0],
		"[::1]:80":      rows[2],
		"10.0.0.2:80":   rows[3],
		"10.0.0.3:80":   rows[0],
	} {
		if got := overrideFor(rows, netip.MustParseAddrPort(addr)); got != want {
			t.Errorf("%s: got %+v, want %+v", addr, got, want)
		}
	}
	if overrideFor(nil, netip.MustParseAddrPort("10.0.0.1:80")) != nil {
		t.Error("no rows: want nil")
	}
}

func TestEnvoyHealth_Discover(t *testing.T) {
	e := &envoyHealth{nodes: func() []xds.DataPlaneAdmin {
		return []xds.DataPlaneAdmin{{NodeID: "ext", AdminAddress: "10.0.0.5:9901"}, {NodeID: "local", AdminAddress: "127.0.0.1:9901"}}
	}}
	got := e.discover()
	if len(got) != 2 || got[1].AdminAddress != "127.0.0.1:9901" {
		t.Fatalf("without a local runner: %+v", got)
	}
	addr := "127.0.0.1:40000"
	e.setLocal("local", func() string { return addr })
	got = e.discover()
	if len(got) != 2 || got[0] != (envoyhealth.Endpoint{NodeID: "local", AdminAddress: "127.0.0.1:40000"}) || got[1].NodeID != "ext" {
		t.Fatalf("with the runner's address: %+v", got)
	}
	addr = "" // restarting: the metadata's address is not used either
	if got := e.discover(); len(got) != 1 || got[0].NodeID != "ext" {
		t.Fatalf("runner restarting: %+v", got)
	}
}
