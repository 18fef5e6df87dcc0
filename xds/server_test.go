package xds

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-gw/switchboard/internal/poll"
	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// testTranslator is the translator the feature tests run with.
func testTranslator() Translator {
	return NewTranslator(TranslatorOptions{ProxyAddress: "127.0.0.1", ProxyPort: 8000})
}

type harness struct {
	t    testing.TB
	st   *store.Store
	srv  *Server
	res  Resolver
	addr string
}

// startServer runs Run and Serve on 127.0.0.1:0 over st, the way cmd does:
// Serve is started first and must wait for the first publish.
func startServer(t testing.TB, st *store.Store, res Resolver, opts Options) *harness {
	t.Helper()
	if opts.Translator == nil {
		opts.Translator = testTranslator()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := New(st, res, opts)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(lis) }()
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-runErr:
		t.Fatalf("run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server never became ready")
	}
	t.Cleanup(func() {
		srv.Stop()
		cancel()
		if err := <-serveErr; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := <-runErr; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return &harness{t: t, st: st, srv: srv, res: res, addr: lis.Addr().String()}
}

func newStore(t testing.TB, ms ...*store.Mutation) *store.Store {
	t.Helper()
	st, err := store.New()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) > 0 {
		apply(t, st, ms...)
	}
	return st
}

// expected is what the client must hold for the store's current state:
// the translator's output, validated as the publisher does.
func (h *harness) expected() map[string]map[string]proto.Message {
	h.t.Helper()
	dns := map[string]translator.DNSAnswer{}
	if h.res != nil {
		dns = h.res.Answers()
	}
	res, _ := h.srv.opts.Translator.Translate(h.st.Snapshot(), dns)
	res, _ = sanitize(res, nil, nil, nil)
	out := map[string]map[string]proto.Message{
		resourcev3.ClusterType: {}, resourcev3.EndpointType: {}, resourcev3.ListenerType: {}, resourcev3.RouteType: {},
	}
	for _, r := range res.Clusters {
		out[resourcev3.ClusterType][r.GetName()] = r
	}
	for _, r := range res.Endpoints {
		out[resourcev3.EndpointType][r.GetClusterName()] = r
	}
	for _, r := range res.Listeners {
		out[resourcev3.ListenerType][r.GetName()] = r
	}
	for _, r := range res.Routes {
		out[resourcev3.RouteType][r.GetName()] = r
	}
	return out
}

// converged reports whether e holds exactly the expected configuration.
func (h *harness) converged(e *fakeEnvoy) bool {
	for typeURL, want := range h.expected() {
		if cmp.Diff(want, e.resources(typeURL), protocmp.Transform()) != "" {
			return false
		}
	}
	return true
}

func (h *harness) waitConverged(e *fakeEnvoy) {
	h.t.Helper()
	e.waitUntil("the client to hold the store's configuration", func() bool { return h.converged(e) })
}

// claWith returns the name of the CLA that has an endpoint at ip, so that
// tests do not depend on how the translator names clusters.
func claWith(e *fakeEnvoy, ip string) string {
	for name, m := range e.resources(resourcev3.EndpointType) {
		for _, loc := range m.(*endpointv3.ClusterLoadAssignment).GetEndpoints() {
			for _, lb := range loc.GetLbEndpoints() {
				if lb.GetEndpoint().GetAddress().GetSocketAddress().GetAddress() == ip {
					return name
				}
			}
		}
	}
	return ""
}

// weightOf returns the load-balancing weight of the endpoint at ip.
func weightOf(e *fakeEnvoy, ip string) uint32 {
	for _, m := range e.resources(resourcev3.EndpointType) {
		for _, loc := range m.(*endpointv3.ClusterLoadAssignment).GetEndpoints() {
			for _, lb := range loc.GetLbEndpoints() {
				if lb.GetEndpoint().GetAddress().GetSocketAddress().GetAddress() == ip {
					return lb.GetLoadBalancingWeight().GetValue()
				}
			}
		}
	}
	return 0
}

func forBothProtocols(t *testing.T, fn func(t *testing.T, delta bool)) {
	t.Run("sotw", func(t *testing.T) { fn(t, false) })
	t.Run("delta", func(t *testing.T) { fn(t, true) })
}

func TestServer_ResourcesAppear(t *testing.T) {
	forBothProtocols(t, func(t *testing.T, delta bool) {
		st := newStore(t)
		h := startServer(t, st, nil, Options{})
		e := dialEnvoy(t, h.addr, "envoy-1", delta)
		h.waitConverged(e) // the empty store's configuration

		rev := apply(t, st, walkthrough()...)
		if err := h.srv.WaitPublished(context.Background(), rev); err != nil {
			t.Fatal(err)
		}
		h.waitConverged(e)
		if claWith(e, "127.0.0.2") == "" || claWith(e, "127.0.0.2") != claWith(e, "127.0.0.3") {
			t.Fatalf("both targets must be endpoints of one cluster: %v", e.resources(resourcev3.EndpointType))
		}
		if len(e.resources(resourcev3.ClusterType)) == 0 || len(e.resources(resourcev3.RouteType)) == 0 ||
			len(e.resources(resourcev3.ListenerType)) == 0 {
			t.Fatal("clusters, listeners and routes must all be present")
		}
	})
}

// The first snapshot is the loaded store, never an empty one: Serve is
// started before Run and the client's very first responses already carry
// the store's clusters and endpoints.
func TestServer_FirstSnapshotIsTheLoadedStore(t *testing.T) {
	forBothProtocols(t, func(t *testing.T, delta bool) {
		st := newStore(t, walkthrough()...)
		h := startServer(t, st, nil, Options{})
		m := 0
		e := dialEnvoy(t, h.addr, "envoy-1", delta)
		h.waitConverged(e)
		for _, r := range e.since(m) {
			if (r.typeURL == resourcev3.ClusterType || r.typeURL == resourcev3.EndpointType) && len(r.names) == 0 {
				t.Fatalf("an empty %s response was served: %+v", typeName(r.typeURL), r)
			}
		}
		if got := h.srv.PublishedRevision(); got != st.Revision() {
			t.Fatalf("published revision %d, store at %d", got, st.Revision())
		}
	})
}

func TestServer_TargetChangeOnlyTouchesItsEndpoints(t *testing.T) {
	forBothProtocols(t, func(t *testing.T, delta bool) {
		st := newStore(t, append(walkthrough(),
			upsertUpstream(kongUpstream("u2", "other_upstream")),
			upsertTarget(kongTarget("t3", "u2", "127.0.0.4:8080", 100)),
			upsertService(kongService("s2", "other_service", "other_upstream", 80)),
			upsertRoute(kongRoute("r2", "other_route", "s2", "/other")),
		)...)
		h := startServer(t, st, nil, Options{MinPublishInterval: -1})
		e := dialEnvoy(t, h.addr, "envoy-1", delta)
		h.waitConverged(e)
		before := snapshotVersions(t, h.srv)
		cla := claWith(e, "127.0.0.2")
		m := e.mark()

		rev := apply(t, st, upsertTarget(kongTarget("t1", "u1", "127.0.0.2:8080", 7)))
		if err := h.srv.WaitPublished(context.Background(), rev); err != nil {
			t.Fatal(err)
		}
		e.waitUntil("the new weight", func() bool { return weightOf(e, "127.0.0.2") == 7 })
		if diff := cmp.Diff(before, snapshotVersions(t, h.srv)); diff != "" {
			t.Fatalf("CDS/LDS/RDS versions moved on a target change (-before +after):\n%s", diff)
		}
		// A second endpoints-only change as a sentinel: everything the
		// first change caused was queued before it.
		apply(t, st, upsertTarget(kongTarget("t3", "u2", "127.0.0.4:8080", 9)))
		e.waitUntil("the sentinel weight", func() bool { return weightOf(e, "127.0.0.4") == 9 })
		got := e.since(m)
		for _, r := range got {
			if r.typeURL != resourcev3.EndpointType {
				t.Fatalf("a %s response followed a target change: %+v", typeName(r.typeURL), got)
			}
		}
		if len(got) != 2 || !cmp.Equal(got[0].names, []string{cla}) {
			t.Fatalf("want one EDS response holding only %q, then the sentinel; got %+v", cla, got)
		}
		h.waitConverged(e)
	})
}

// snapshotVersions are the CDS/LDS/RDS versions the cache holds.
func snapshotVersions(t testing.TB, s *Server) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.RouteType} {
		out[typeName(typ)] = s.cache.Version(typ)
	}
	return out
}

func TestServer_NoOpChangeIsNotPushed(t *testing.T) {
	forBothProtocols(t, func(t *testing.T, delta bool) {
		st := newStore(t, walkthrough()...)
		h := startServer(t, st, nil, Options{MinPublishInterval: -1})
		e := dialEnvoy(t, h.addr, "envoy-1", delta)
		h.waitConverged(e)
		before := snapshotVersions(t, h.srv)
		m := e.mark()
		// Tags do not reach Envoy: the revision moves, the config does not.
		svc := kongService("s1", "example_service", "example_upstream", 80)
		svc.Tags = []string{"no-op"}
		rev := apply(t, st, upsertService(svc))
		if err := h.srv.WaitPublished(context.Background(), rev); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, snapshotVersions(t, h.srv)); diff != "" {
			t.Fatalf("versions moved on a no-op change (-before +after):\n%s", diff)
		}
		// Sentinel: a real endpoint change; it must be the only push.
		apply(t, st, upsertTarget(kongTarget("t2", "u1", "127.0.0.3:8080", 3)))
		e.waitUntil("the sentinel", func() bool { return weightOf(e, "127.0.0.3") == 3 })
		if got := e.since(m); len(got) != 1 || got[0].typeURL != resourcev3.EndpointType {
			t.Fatalf("want only the sentinel's EDS response, got %+v", got)
		}
	})
}

func TestServer_BurstCoalesces(t *testing.T) {
	forBothProtocols(t, func(t *testing.T, delta bool) {
		st := newStore(t, walkthrough()...)
		for i := range 10 {
			id := string(rune('a' + i))
			apply(t, st,
				upsertUpstream(kongUpstream("bu"+id, "burst_"+id)),
				upsertTarget(kongTarget("bt"+id, "bu"+id, "127.0.1."+itoa(i+1)+":8080", 1)))
		}
		h := startServer(t, st, nil, Options{})
		e := dialEnvoy(t, h.addr, "envoy-1", delta)
		h.waitConverged(e)
		m := e.mark()

		const writes = 1000
		var rev uint64
		for i := range writes {
			id := string(rune('a' + i%10))
			rev = apply(t, st, upsertTarget(kongTarget("bt"+id, "bu"+id, "127.0.1."+itoa(i%10+1)+":8080", int64(i+1))))
			if i == writes/2 {
				// One structural change inside the burst.
				apply(t, st, upsertRoute(kongRoute("rb", "burst_route", "s1", "/burst")))
			}
		}
		if err := h.srv.WaitPublished(context.Background(), rev); err != nil {
			t.Fatal(err)
		}
		h.waitConverged(e)
		if w := weightOf(e, "127.0.1.10"); w != writes {
			t.Fatalf("final weight %d, want %d", w, writes)
		}
		pushes := len(e.since(m))
		t.Logf("%d writes → %d responses", writes+1, pushes)
		if pushes > writes/10 {
			t.Fatalf("%d writes caused %d responses; bursts must coalesce", writes, pushes)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// The fallback when a NACK cannot be isolated (here: a translator without
// the incremental API, so no quarantine): recorded, and not resent.
func TestServer_NackIsRecordedAndNotResent(t *testing.T) {
	forBothProtocols(t, func(t *testing.T, delta bool) {
		st := newStore(t, walkthrough()...)
		h := startServer(t, st, nil, Options{MinPublishInterval: -1, Translator: fakeTranslator{}})
		e := dialEnvoy(t, h.addr, "envoy-1", delta)
		h.waitConverged(e)

		e.nack(resourcev3.ClusterType, "cluster rejected: test says no")
		m := e.mark()
		apply(t, st, upsertUpstream(kongUpstream("u9", "rejected_upstream")))
		e.waitUntil("the NACK to be recorded", func() bool {
			dp := dataPlanes(t, h.srv)
			return len(dp) == 1 && dp[0].LastError != nil
		})
		dp := dataPlanes(t, h.srv)[0]
		if dp.LastError.Type != "clusters" || !strings.Contains(dp.LastError.Message, "test says no") || dp.SyncStatus != syncRejected {
			t.Fatalf("data plane after NACK: %+v / %+v", dp, dp.LastError)
		}
		if n := metricValue(t, h.srv, "switchboard_xds_nacks_total", "clusters"); n != 1 {
			t.Fatalf("switchboard_xds_nacks_total{type=clusters} = %v, want 1", n)
		}

		// The next CDS response must be a new configuration, not the
		// rejected one again.
		apply(t, st, upsertUpstream(kongUpstream("u10", "accepted_upstream")))
		e.waitUntil("the next cluster set", func() bool {
			_, ok := e.resources(resourcev3.ClusterType)["accepted_upstream"]
			return ok || hasCluster(e, "accepted_upstream")
		})
		var cds []response
		for _, r := range e.since(m) {
			if r.typeURL == resourcev3.ClusterType {
				cds = append(cds, r)
			}
		}
		if len(cds) != 2 || !cds[0].nacked || cds[1].nacked {
			t.Fatalf("want the rejected CDS response then the next one, got %+v", cds)
		}
		if cds[0].version != "" && cds[0].version == cds[1].version && !delta {
			t.Fatalf("the rejected version was sent again: %+v", cds)
		}
		eventually(t, "sync status normal after an accepted update", func() bool {
			return dataPlanes(t, h.srv)[0].SyncStatus == syncNormal
		})
	})
}

// hasCluster matches by name suffix, for translators that prefix names.
func hasCluster(e *fakeEnvoy, name string) bool {
	for n := range e.resources(resourcev3.ClusterType) {
		if strings.Contains(n, name) {
			return true
		}
	}
	return false
}

func dataPlanes(t testing.TB, s *Server) []dataPlaneJSON {
	t.Helper()
	rec := httptest.NewRecorder()
	s.DataPlanesHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/clustering/data-planes", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("data-planes: %d %s", rec.Code, rec.Body)
	}
	var body struct {
		Data []dataPlaneJSON `json:"data"`
		Next *string         `json:"next"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Next != nil {
		t.Fatalf("next = %q, want null", *body.Next)
	}
	return body.Data
}

func TestServer_DataPlanes(t *testing.T) {
	st := newStore(t, walkthrough()...)
	h := startServer(t, st, nil, Options{})
	e := dialEnvoy(t, h.addr, "envoy-7", false)
	h.waitConverged(e)
	e.waitUntil("all four types acked", func() bool {
		dp := dataPlanes(t, h.srv)
		return len(dp) == 1 && len(dp[0].ConfigVersions) == 4
	})
	dp := dataPlanes(t, h.srv)[0]
	snap := snapshotVersions(t, h.srv)
	want := dataPlaneJSON{
		ID: "envoy-7", IP: "127.0.0.1", Hostname: "host-envoy-7", Cluster: "kong-gateway", Version: "1.40.0",
		Connected: true, SyncStatus: syncNormal, AckedRevision: st.Revision(),
		ConfigVersions: map[string]string{
			"clusters": snap["clusters"], "listeners": snap["listeners"], "routes": snap["routes"],
			"endpoints": dp.ConfigVersions["endpoints"],
		},
	}
	if diff := cmp.Diff(want, dp, cmp.FilterPath(func(p cmp.Path) bool {
		f := p.Last().String()
		return f == ".LastSeen" || f == ".ConnectedAt"
	}, cmp.Ignore())); diff != "" {
		t.Fatalf("data plane (-want +got):\n%s", diff)
	}
	if now := time.Now().Unix(); dp.LastSeen < now-60 || dp.LastSeen > now+1 || dp.ConnectedAt > dp.LastSeen {
		t.Fatalf("last_seen %d / connected_at %d not recent (now %d)", dp.LastSeen, dp.ConnectedAt, now)
	}
	if dp.ConfigVersions["endpoints"] == "" {
		t.Fatal("no endpoints version")
	}
	if n := metricValue(t, h.srv, "switchboard_xds_connected_proxies", ""); n != 1 {
		t.Fatalf("switchboard_xds_connected_proxies = %v, want 1", n)
	}

	// A target write moves only endpoints, a route write only routes: each
	// reaches the Envoy as acked_revision.
	for _, m := range []*store.Mutation{
		upsertTarget(kongTarget("t3", "u1", "127.0.0.4:8080", 100)),
		upsertRoute(kongRoute("r2", "second_route", "s1", "/second")),
	} {
		rev := apply(t, st, m)
		e.waitUntil("the write to be acked", func() bool {
			dp := dataPlanes(t, h.srv)
			return len(dp) == 1 && dp[0].AckedRevision >= rev
		})
	}

	e.close()
	eventually(t, "the node to show as disconnected", func() bool {
		dp := dataPlanes(t, h.srv)
		return len(dp) == 1 && !dp[0].Connected
	})
	if n := metricValue(t, h.srv, "switchboard_xds_connected_proxies", ""); n != 0 {
		t.Fatalf("switchboard_xds_connected_proxies = %v after disconnect, want 0", n)
	}

	rec := httptest.NewRecorder()
	h.srv.DataPlanesHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/clustering/data-planes", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST data-planes: %d", rec.Code)
	}
}

func TestServer_Metrics(t *testing.T) {
	forBothProtocols(t, func(t *testing.T, delta bool) {
		st := newStore(t, walkthrough()...)
		h := startServer(t, st, nil, Options{MinPublishInterval: -1})
		e := dialEnvoy(t, h.addr, "envoy-1", delta)
		h.waitConverged(e)
		rev := apply(t, st, upsertTarget(kongTarget("t1", "u1", "127.0.0.2:8080", 5)))
		if err := h.srv.WaitPublished(context.Background(), rev); err != nil {
			t.Fatal(err)
		}
		e.waitUntil("the weight", func() bool { return weightOf(e, "127.0.0.2") == 5 })
		// The ACK follows the response: the commit → ACK sample is timed
		// when it arrives.
		e.waitUntil("a propagation sample", func() bool {
			return strings.Contains(metricsText(h.srv), `switchboard_xds_propagation_seconds_count{node="envoy-1"}`)
		})

		body := metricsText(h.srv)
		for _, want := range []string{
			`switchboard_xds_responses_total{type="clusters"}`,
			`switchboard_xds_responses_total{type="endpoints"}`,
			`switchboard_xds_connected_proxies 1`,
			`switchboard_xds_translation_duration_seconds_count{mode="full"}`,
			`switchboard_xds_translation_duration_seconds_count{mode="incremental"} 1`,
			`switchboard_xds_commit_to_cache_seconds_count`,
			`switchboard_xds_publishes_total{mode="incremental"} 1`,
			// Series an alert needs exist before anything happened.
			`switchboard_xds_nacks_total{type="routes"} 0`,
			`switchboard_xds_publish_errors_total{stage="consistency"} 0`,
			`go_goroutines`,
			`process_`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		if t.Failed() {
			t.Log(body)
		}
	})
}

func metricsText(s *Server) string {
	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

func TestServer_StopEndsStreams(t *testing.T) {
	st := newStore(t, walkthrough()...)
	h := startServer(t, st, nil, Options{})
	e := dialEnvoy(t, h.addr, "envoy-1", true)
	h.waitConverged(e)
	h.srv.Stop()
	select {
	case <-e.done:
	case <-time.After(20 * time.Second):
		t.Fatal("stream still open after Stop")
	}
}

func TestServe_ReturnsAfterStopBeforeReady(t *testing.T) {
	st := newStore(t)
	srv := New(st, nil, Options{Translator: testTranslator(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	srv.Stop()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// eventually polls cond until it holds, failing after a bound.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	poll.True(t, 20*time.Second, what, cond)
}

// metricValue reads one counter or gauge from the server's registry; label
// is the value of its single label, or "" for none.
func metricValue(t testing.TB, s *Server, name, label string) float64 {
	t.Helper()
	mfs, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// OnPublish runs before a commit's publish reaches the cache (cmd lifts the
// memory limit for the fan-out in it), not for the first publish, which
// happens before any Envoy is served.
func TestServer_OnPublishPrecedesThePublish(t *testing.T) {
	st := newStore(t, walkthrough()...)
	var mu sync.Mutex
	var seen []uint64 // the published revision each call saw
	var srv atomic.Pointer[Server]
	h := startServer(t, st, nil, Options{MinPublishInterval: -1, OnPublish: func() {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, srv.Load().PublishedRevision())
	}})
	srv.Store(h.srv)
	mu.Lock()
	if len(seen) != 0 {
		t.Errorf("OnPublish ran %d times for the first publish", len(seen))
	}
	mu.Unlock()
	before := h.srv.PublishedRevision()
	rev := apply(t, st, upsertTarget(kongTarget("t1", "u1", "127.0.0.2:8080", 7)))
	if err := h.srv.WaitPublished(context.Background(), rev); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != before {
		t.Fatalf("OnPublish saw published revisions %v, want [%d] (before revision %d)", seen, before, rev)
	}
}
