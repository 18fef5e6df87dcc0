package envoyhealth

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

type fakeDNS map[string]translator.DNSAnswer

func (f fakeDNS) Lookup(h string) (translator.DNSAnswer, bool) { a, ok := f[h]; return a, ok }

// ipDNS is fakeDNS that answers IP literals itself, as the resolver does.
type ipDNS struct{ fakeDNS }

func (d ipDNS) Lookup(h string) (translator.DNSAnswer, bool) {
	if ip, err := netip.ParseAddr(h); err == nil {
		return translator.DNSAnswer{RecordType: "A", Addresses: []translator.Address{{IP: ip.String()}}}, true
	}
	return d.fakeDNS.Lookup(h)
}

// fakeEnvoys answers Address from a table.
type fakeEnvoys map[netip.AddrPort]Lookup

func (f fakeEnvoys) Address(_ string, a netip.AddrPort) Lookup { return f[a] }

func TestSource_EnvoyView(t *testing.T) {
	checked := &store.Upstream{ID: "u1", Name: "shop"}
	checked.Healthchecks.Active.Healthy.Interval = 5
	unchecked := &store.Upstream{ID: "u2", Name: "plain"}
	dns := ipDNS{fakeDNS{"multi.test": {RecordType: "A", Addresses: []translator.Address{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}, {IP: "10.0.0.3"}}}}}
	ap := netip.MustParseAddrPort
	envoys := fakeEnvoys{
		ap("10.0.0.1:80"): {Status: Unhealthy, AsOf: 10},
		ap("10.0.0.2:80"): {Status: Healthy, AsOf: 10},
		// 10.0.0.3: no Envoy has it yet.
		ap("10.0.0.9:80"): {Status: Unhealthy, AsOf: 10},
		ap("10.0.0.8:80"): {Status: Unhealthy, AsOf: 10},
	}
	overrides := []*store.TargetHealth{
		// t2: /healthy committed after the Envoy view (index 12 > 10).
		{TargetID: "t2", Address: "", Healthy: true, ModifyIndex: 12},
		// t3: an older address override; the view is newer.
		{TargetID: "t3", Address: "10.0.0.8:80", Healthy: true, ModifyIndex: 4},
	}
	src := NewSource(dns, envoys, func(string) []*store.TargetHealth { return overrides })
	health := func(th TargetHealth) []string {
		var out []string
		for _, a := range th.Addresses {
			out = append(out, a.Health)
		}
		return out
	}
	got := health(src.TargetHealth(checked, &store.Target{ID: "t1", Target: "multi.test:80", Weight: 10}))
	if want := []string{HealthUnhealthy, HealthHealthy, ""}; !equal(got, want) {
		t.Errorf("Envoy view: %q, want %q", got, want)
	}
	if got := health(src.TargetHealth(checked, &store.Target{ID: "t2", Target: "10.0.0.9:80", Weight: 10})); !equal(got, []string{""}) {
		t.Errorf("override newer than the view: %q, want the Admin API to decide", got)
	}
	if got := health(src.TargetHealth(checked, &store.Target{ID: "t3", Target: "10.0.0.8:80", Weight: 10})); !equal(got, []string{HealthUnhealthy}) {
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

func TestDiscovery(t *testing.T) {
	d := NewDiscovery(func() []Endpoint {
		return []Endpoint{{NodeID: "ext", AdminAddress: "10.0.0.5:9901"}, {NodeID: "local", AdminAddress: "127.0.0.1:9901"}}
	})
	got := d.Endpoints()
	if len(got) != 2 || got[1].AdminAddress != "127.0.0.1:9901" {
		t.Fatalf("without a local runner: %+v", got)
	}
	addr := "127.0.0.1:40000"
	d.SetLocal("local", func() string { return addr })
	got = d.Endpoints()
	if len(got) != 2 || got[0] != (Endpoint{NodeID: "local", AdminAddress: "127.0.0.1:40000"}) || got[1].NodeID != "ext" {
		t.Fatalf("with the runner's address: %+v", got)
	}
	addr = "" // restarting: the metadata's address is not used either
	if got := d.Endpoints(); len(got) != 1 || got[0].NodeID != "ext" {
		t.Fatalf("runner restarting: %+v", got)
	}
}

func TestSource_DNS(t *testing.T) {
	src := NewSource(fakeDNS{
		"a.test":   {RecordType: "A", Addresses: []translator.Address{{IP: "127.0.0.2"}, {IP: "127.0.0.3"}}},
		"bad.test": {Err: "dns server error: 3 name error"},
		"srv.test": {RecordType: "SRV", Addresses: []translator.Address{{IP: "127.0.0.4", Port: 9000, Weight: 5}}},
	}, nil, nil)
	up := &store.Upstream{Name: "u"}
	got := src.TargetHealth(up, &store.Target{Target: "a.test:80", Weight: 10})
	if got.DNS != "A" || got.DNSError || len(got.Addresses) != 2 || got.Addresses[1].Port != 80 || got.Addresses[1].Weight != 10 {
		t.Fatalf("a.test: %+v", got)
	}
	if got := src.TargetHealth(up, &store.Target{Target: "bad.test:80"}); !got.DNSError || !strings.Contains(got.DNS, "name error") {
		t.Fatalf("bad.test: %+v", got)
	}
	if got := src.TargetHealth(up, &store.Target{Target: "unknown.test:80"}); !got.DNSError {
		t.Fatalf("unresolved: %+v", got)
	}
	got = src.TargetHealth(up, &store.Target{Target: "srv.test:80", Weight: 100})
	if got.Addresses[0] != (AddressHealth{IP: "127.0.0.4", Port: 9000, Weight: 5}) {
		t.Fatalf("srv: %+v", got)
	}
}
