package xds

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
	"github.com/switchboard-gw/switchboard/xds/adscache"
)

func newTestPublisher(st *store.Store, tr Translator) *publisher {
	log := quietLogger()
	p := newPublisher(newCache(), tr, nil, log, newMetrics(nil))
	p.settle = st.SettleWatches
	return p
}

func mustPublish(t *testing.T, p *publisher, st *store.Store) string {
	t.Helper()
	mode, err := p.publish(context.Background(), st.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	return mode
}

func TestPublisher_Modes(t *testing.T) {
	for name, tr := range map[string]Translator{"fake": fakeTranslator{}, "translator": testTranslator()} {
		t.Run(name, func(t *testing.T) {
			st := newStore(t, walkthrough()...)
			p := newTestPublisher(st, tr)
			steps := []struct {
				m    *store.Mutation
				want string
			}{
				{nil, modeFull},
				{upsertTarget(kongTarget("t1", "u1", "127.0.0.2:8080", 5)), modeEndpoints},
				{&store.Mutation{Op: store.OpSetTargetHealth, TargetHealth: &store.TargetHealth{TargetID: "t2"}}, modeEndpoints},
				{deleteTarget("t2"), modeEndpoints},
				{upsertRoute(kongRoute("r1", "example_route", "s1", "/changed")), modeFull},
			}
			for i, s := range steps {
				if s.m != nil {
					apply(t, st, s.m)
				}
				want := s.want
				if _, inc := tr.(incTranslator); inc && i > 0 {
					want = modeIncremental // the change feed's path
				}
				if got := mustPublish(t, p, st); got != want {
					t.Fatalf("step %d: mode %q, want %q", i, got, want)
				}
				if _, inc := tr.(incTranslator); inc {
					assertCacheIsFullTranslation(t, p, st)
				}
			}
			if got := mustPublish(t, p, st); got != modeNoop {
				t.Fatalf("nothing changed: mode %q", got)
			}
		})
	}
}

func TestPublisher_EndpointsFallBackToFull(t *testing.T) {
	st := newStore(t, walkthrough()...)
	p := newTestPublisher(st, fakeTranslator{endpointsErr: ErrFullRebuild})
	mustPublish(t, p, st)
	apply(t, st, upsertTarget(kongTarget("t1", "u1", "127.0.0.2:8080", 5)))
	if got := mustPublish(t, p, st); got != modeFull {
		t.Fatalf("mode %q, want a full rebuild", got)
	}
	if w := claWeight(p, "example_upstream", "127.0.0.2"); w != 5 {
		t.Fatalf("weight %d after the fallback, want 5", w)
	}
}

// An upstream that no cluster uses is not an error on the endpoints path.
func TestPublisher_EndpointsOfUnusedUpstream(t *testing.T) {
	st := newStore(t, walkthrough()...)
	p := newTestPublisher(st, fakeTranslator{mutate: func(r *translator.Resources) {
		// Emit nothing for "example_upstream".
		r.Clusters, r.Endpoints = nil, nil
		r.Routes[0].VirtualHosts[0].Routes = nil
	}})
	mustPublish(t, p, st)
	apply(t, st, upsertTarget(kongTarget("t1", "u1", "127.0.0.2:8080", 5)))
	if got := mustPublish(t, p, st); got != modeEndpoints {
		t.Fatalf("mode %q", got)
	}
}

// Invalid endpoints never reach the cache: the CLA is published empty and
// the problem counted.
func TestPublisher_InvalidEndpointsPublishedEmpty(t *testing.T) {
	st := newStore(t, walkthrough()...)
	p := newTestPublisher(st, fakeTranslator{mutate: func(r *translator.Resources) {
		r.Endpoints[0].Endpoints[0].LbEndpoints[0].LoadBalancingWeight = wrapperspb.UInt32(0)
	}})
	mustPublish(t, p, st)
	cla := cachedCLA(t, p.cache, "example_upstream")
	if len(cla.GetEndpoints()) != 0 {
		t.Fatalf("invalid CLA published: %v", cla)
	}
	if n := counterValue(t, p.m, "switchboard_xds_publish_errors_total", "validate"); n != 1 {
		t.Fatalf("validate errors = %v", n)
	}
}

// An inconsistent translation is not published; the cache keeps the last
// good configuration.
func TestPublisher_InconsistentKeepsLastGood(t *testing.T) {
	st := newStore(t, walkthrough()...)
	broken := false
	p := newTestPublisher(st, fakeTranslator{mutate: func(r *translator.Resources) {
		if broken {
			r.Endpoints = nil // clusters without CLAs
		}
	}})
	mustPublish(t, p, st)
	before := p.cache.Version(resourcev3.ClusterType)
	broken = true
	apply(t, st, upsertUpstream(kongUpstream("u2", "second")))
	_, err := p.publish(context.Background(), st.Snapshot())
	if err == nil || !strings.Contains(err.Error(), "consistency") {
		t.Fatalf("publish error %v, want a consistency error", err)
	}
	if p.cache.Version(resourcev3.ClusterType) != before || len(p.cache.Names(resourcev3.EndpointType)) != 1 {
		t.Fatal("an inconsistent translation reached the cache")
	}
	broken = false
	if got := mustPublish(t, p, st); got != modeFull {
		t.Fatalf("retry after the failure: mode %q, want full", got)
	}
	if len(p.cache.Names(resourcev3.EndpointType)) != 2 {
		t.Fatal("the retried publish did not land")
	}
}

func claWeight(p *publisher, cluster, ip string) uint32 {
	cla := cachedCLA(nil, p.cache, cluster)
	for _, loc := range cla.GetEndpoints() {
		for _, lb := range loc.GetLbEndpoints() {
			if lb.GetEndpoint().GetAddress().GetSocketAddress().GetAddress() == ip {
				return lb.GetLoadBalancingWeight().GetValue()
			}
		}
	}
	return 0
}

func counterValue(t testing.TB, m *metrics, name, label string) float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, x := range mf.GetMetric() {
			if len(x.GetLabel()) == 1 && x.GetLabel()[0].GetValue() == label {
				return x.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// cachedCLA decodes the ClusterLoadAssignment the cache holds (nil when it
// holds none and t is nil).
func cachedCLA(t *testing.T, c *adscache.Cache, name string) *endpointv3.ClusterLoadAssignment {
	b, _, ok := c.Get(resourcev3.EndpointType, name)
	cla := &endpointv3.ClusterLoadAssignment{}
	if !ok || proto.Unmarshal(b, cla) != nil {
		if t != nil {
			t.Fatalf("no ClusterLoadAssignment %q in the cache", name)
		}
		return nil
	}
	return cla
}

// assertCacheIsFullTranslation checks the reference: what the cache holds
// is, resource by resource, a full Translate of the store.
func assertCacheIsFullTranslation(t *testing.T, p *publisher, st *store.Store) {
	t.Helper()
	res, err := p.tr.Translate(st.Snapshot(), map[string]translator.DNSAnswer{})
	if err != nil {
		t.Fatal(err)
	}
	for typeURL, rs := range byType(res) {
		var names []string
		for _, r := range rs {
			name := cachev3.GetResourceName(r)
			names = append(names, name)
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			got, _, ok := p.cache.Get(typeURL, name)
			if !ok || !bytes.Equal(got, want) {
				t.Errorf("%s %q: the cache holds other bytes than a full translation (held %v)", typeName(typeURL), name, ok)
			}
		}
		slices.Sort(names)
		if held := p.cache.Names(typeURL); !slices.Equal(held, names) {
			t.Errorf("%s: cache holds %v, full translation %v", typeName(typeURL), held, names)
		}
	}
}

// The O(change) path keeps the cache equal to a full translation through
// structural changes: a new service with its own cluster, a service moved
// to another upstream (its cluster changes), health checks switched on,
// removals of routes, services and upstreams.
func TestPublisher_IncrementalMatchesFull(t *testing.T) {
	st := newStore(t, walkthrough()...)
	p := newTestPublisher(st, NewTranslator(TranslatorOptions{
		ProxyAddress: "127.0.0.1", ProxyPort: 8000, ProxyTLSAddress: "127.0.0.1", ProxyTLSPort: 8443,
	}))
	mustPublish(t, p, st)
	assertCacheIsFullTranslation(t, p, st)
	checkedUp := kongUpstream("u2", "second")
	checkedUp.Healthchecks.Passive.Unhealthy.TCPFailures = 1
	for i, m := range [][]*store.Mutation{
		{upsertService(kongService("s2", "direct", "127.0.0.9", 8080)), upsertRoute(kongRoute("r2", "direct_route", "s2", "/direct"))},
		{upsertUpstream(checkedUp), upsertTarget(kongTarget("t9", "u2", "127.0.0.8:80", 10))},
		{upsertService(kongService("s1", "example_service", "second", 80))},
		{{Op: store.OpDeleteRoute, ID: "r2"}},
		{{Op: store.OpDeleteRoute, ID: "r1"}, {Op: store.OpDeleteService, ID: "s2"}},
		{{Op: store.OpDeleteService, ID: "s1"}},
		{{Op: store.OpDeleteUpstream, ID: "u1"}},
		// 7: the default certificate brings the TLS listener and its
		// route configuration.
		{store.Upsert(store.DefaultCertificateTable, &store.DefaultCertificate{
			ID: store.DefaultCertificateID, Cert: "RSA", Key: "RSA-KEY", CertAlt: "EC", KeyAlt: "EC-KEY"})},
		// 8: a certificate no SNI names: its secrets only.
		{store.Upsert("certificates", testCertificate("c1", "CERT-1", "ALT-1"))},
		// 9: an SNI: the listener gains its chain.
		{store.Upsert("snis", &store.SNI{ID: "n1", Name: "a.test", Certificate: store.ForeignKey{ID: "c1"}})},
		// 10: a rotation: secrets only, no listener change (no drain).
		{store.Upsert("certificates", testCertificate("c1", "CERT-2", "ALT-1"))},
		// 11: the alternate pair dropped; 12: deleted with its SNI.
		{store.Upsert("certificates", testCertificate("c1", "CERT-2", ""))},
		{store.Delete("certificates", "c1")},
	} {
		before := map[string]string{}
		for _, typeURL := range []string{resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType} {
			before[typeURL] = p.cache.Version(typeURL)
		}
		apply(t, st, m...)
		if got := mustPublish(t, p, st); got != modeIncremental {
			t.Errorf("step %d: mode %q, want incremental", i, got)
		}
		assertCacheIsFullTranslation(t, p, st)
		if i == 8 || i == 10 {
			for typeURL, v := range before {
				if now := p.cache.Version(typeURL); now != v {
					t.Errorf("step %d: a certificate write moved %s (%s → %s)", i, typeName(typeURL), v, now)
				}
			}
		}
		if i >= 7 && !slices.Contains(p.cache.Names(resourcev3.ListenerType), translator.TLSListenerName) {
			t.Errorf("step %d: no TLS listener in the cache", i)
		}
		if i == 2 {
			if got := p.checked.Load(); got == nil || !slices.Equal(*got, []string{"second"}) {
				t.Errorf("health-checked upstreams %v, want [second]", got)
			}
		}
	}
}

// testCertificate is a certificate row with placeholder PEMs (nothing on
// the publish path parses them); alt "" means no alternate pair.
func testCertificate(id, cert, alt string) *store.Certificate {
	c := &store.Certificate{ID: id, Cert: cert, Key: "KEY"}
	if alt != "" {
		k := "ALT-KEY"
		c.CertAlt, c.KeyAlt = &alt, &k
	}
	return c
}
