package xds

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-gw/switchboard/store"
)

// Benchmark size: 10,000 services and routes, 1,000 upstreams,
// 10,000 targets (10 per upstream, 10 services per upstream).
const (
	benchUpstreams = 1000
	benchServices  = 10000
	benchTargets   = 10000
)

func benchStore(b *testing.B) *store.Store {
	b.Helper()
	st, err := store.New()
	if err != nil {
		b.Fatal(err)
	}
	var batch []store.Mutation
	flush := func() {
		if _, err := st.Apply(&store.Mutation{Op: store.OpBatch, Batch: batch}); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range benchUpstreams {
		batch = append(batch, *upsertUpstream(kongUpstream(fmt.Sprintf("u%04d", i), fmt.Sprintf("upstream-%04d", i))))
	}
	flush()
	for i := range benchTargets {
		u := i % benchUpstreams
		ip := fmt.Sprintf("127.%d.%d.%d", 1+i/65536, (i/256)%256, i%256)
		batch = append(batch, *upsertTarget(kongTarget(fmt.Sprintf("t%05d", i), fmt.Sprintf("u%04d", u), ip+":8080", 100)))
		if len(batch) == 1000 {
			flush()
		}
	}
	for i := range benchServices {
		u := i % benchUpstreams
		id := fmt.Sprintf("s%05d", i)
		batch = append(batch,
			*upsertService(kongService(id, "service-"+id, fmt.Sprintf("upstream-%04d", u), 80)),
			*upsertRoute(kongRoute(fmt.Sprintf("r%05d", i), "route-"+id, id, "/"+id)))
		if len(batch) == 1000 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return st
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// BenchmarkPublishFull is one full publish at the size from an empty
// cache: translate, ValidateAll, Consistent, hash, set every resource.
func BenchmarkPublishFull(b *testing.B) {
	st := benchStore(b)
	snap := st.Snapshot()
	log := quietLogger()
	b.ResetTimer()
	for b.Loop() {
		p := newPublisher(newCache(), testTranslator(), nil, log, newMetrics(nil))
		if _, err := p.publish(context.Background(), snap); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRepublishUnchanged is a full translation that finds nothing
// changed (e.g. a DNS answer moved for a name nobody uses): the cost of
// the no-op detection at this size.
func BenchmarkRepublishUnchanged(b *testing.B) {
	st := benchStore(b)
	snap := st.Snapshot()
	log := quietLogger()
	p := newPublisher(newCache(), testTranslator(), nil, log, newMetrics(nil))
	if _, err := p.publish(context.Background(), snap); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := p.full(context.Background(), snap); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRevisionToPublish_TargetChange measures, on a running server
// with one connected SotW client, the time from a target weight commit to
// the cache holding it (Store.Apply → WaitPublished), and reports p50/p99.
func BenchmarkRevisionToPublish_TargetChange(b *testing.B) {
	st := benchStore(b)
	h := startServer(b, st, nil, Options{MinPublishInterval: -1, Logger: quietLogger()})
	e := dialEnvoy(b, h.addr, "bench", false)
	e.waitUntil("the initial configuration", func() bool {
		return len(e.resources("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment")) >= benchUpstreams
	})
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		t := kongTarget("t00042", "u0042", "127.1.0.42:8080", int64(1+i%1000))
		start := time.Now()
		rev, err := st.Apply(upsertTarget(t))
		if err != nil {
			b.Fatal(err)
		}
		if err := h.srv.WaitPublished(ctx, rev); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		b.ReportMetric(float64(lat[n/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[min(n-1, n*99/100)].Microseconds()), "p99-µs")
	}
}

// BenchmarkIncremental_RouteChange is the control plane's share of one
// route change at the size on the O(change) path: change feed,
// incremental translation, validation, marshal, cache update.
func BenchmarkIncremental_RouteChange(b *testing.B) {
	st := benchStore(b)
	p := newPublisher(newCache(), testTranslator(), nil, quietLogger(), newMetrics(nil))
	p.settle = st.SettleWatches
	if _, err := p.publish(context.Background(), st.Snapshot()); err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		b.StopTimer()
		if _, err := st.Apply(upsertRoute(kongRoute("r00001", "route-s00001", "s00001", fmt.Sprintf("/changed-%d", i)))); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		mode, err := p.publish(context.Background(), st.Snapshot())
		if err != nil || mode != modeIncremental {
			b.Fatalf("mode %q: %v", mode, err)
		}
	}
}
