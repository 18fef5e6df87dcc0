package translator

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-gw/switchboard/store"
)

// Benchmark size: 10,000 services each with one route, 1,000
// upstreams with 10 IP targets each (10,000 targets).
const (
	benchServices  = 10000
	benchUpstreams = 1000
	benchTargets   = 10 // per upstream
)

// benchInput builds the benchmark state. hostRoutes of the routes get one
// of hostCount hosts; the others have none (Kong's fallback for every
// host), so the shape decides the layout of the route configuration.
func benchInput(hostRoutes, hostCount int) *Input {
	return sizedInput(benchServices, benchUpstreams, hostRoutes, hostCount)
}

// sizedInput is benchInput for other sizes: services services (one route
// each) over upstreams upstreams.
func sizedInput(services, upstreams, hostRoutes, hostCount int) *Input {
	in := &Input{Revision: 1, DNS: map[string]DNSAnswer{}}
	for u := 0; u < upstreams; u++ {
		up := defaultUpstream()
		up.ID, up.Name, up.CreatedAt = fmt.Sprintf("u-%04d", u), fmt.Sprintf("upstream-%04d", u), int64(u)
		in.Upstreams = append(in.Upstreams, up)
		for k := 0; k < benchTargets; k++ {
			in.Targets = append(in.Targets, &store.Target{
				ID:       fmt.Sprintf("t-%04d-%02d", u, k),
				Upstream: store.ForeignKey{ID: up.ID},
				Target:   fmt.Sprintf("10.%d.%d.%d:8080", u/250, u%250, k+1),
				Weight:   100,
			})
		}
	}
	for s := 0; s < services; s++ {
		svc := defaultService()
		name := fmt.Sprintf("svc-%05d", s)
		svc.ID, svc.Name, svc.Host = fmt.Sprintf("s-%05d", s), &name, fmt.Sprintf("upstream-%04d", s%upstreams)
		in.Services = append(in.Services, svc)
		r := defaultRoute()
		r.ID, r.Name, r.CreatedAt = fmt.Sprintf("r-%05d", s), &name, int64(s)
		r.Paths = []string{fmt.Sprintf("/svc-%05d", s)}
		r.Service = &store.ForeignKey{ID: svc.ID}
		if s < hostRoutes {
			r.Hosts = []string{fmt.Sprintf("h%04d.example.com", s%hostCount)}
		}
		in.Routes = append(in.Routes, r)
	}
	return in
}

// BenchmarkTranslate measures a full translation at the size for
// three route shapes: no hosts (one virtual host of 10,000 routes); 1,000
// hosts with 10 routes each (1,000 virtual hosts); and 9,900 routes over
// 1,000 hosts plus 100 without hosts, which all routes share (one virtual
// host, hosts as conditions: 10,000 Envoy routes, not 1,000 × 100 copies).
func BenchmarkTranslate(b *testing.B) {
	for _, shape := range []struct {
		name                  string
		hostRoutes, hostCount int
	}{
		{"hostless", 0, 1},
		{"hosts", benchServices, 1000},
		{"mixed", benchServices - 100, 1000},
	} {
		b.Run(shape.name, func(b *testing.B) {
			in := benchInput(shape.hostRoutes, shape.hostCount)
			res, err := Translate(in)
			if err != nil {
				b.Fatal(err)
			}
			routes := 0
			for _, vh := range res.Routes[0].GetVirtualHosts() {
				routes += len(vh.GetRoutes())
			}
			rdsSize := proto.Size(res.Routes[0])
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Translate(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(res.Clusters)), "clusters")
			b.ReportMetric(float64(routes), "envoy-routes")
			b.ReportMetric(float64(rdsSize)/1e6, "rds-MB")
		})
	}
}

// BenchmarkEndpointsOneUpstream measures rebuilding one cluster's endpoints
// at the same size: from an Input (a scan of its slices) and from a store
// snapshot (index reads of one upstream's rows), against a full Translate.
func BenchmarkEndpointsOneUpstream(b *testing.B) {
	in := benchInput(0, 1)
	name := UpstreamClusterName(in.Upstreams[500], in.Services[500])

	b.Run("input", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := Endpoints(in, name); !ok {
				b.Fatal("missing")
			}
		}
	})

	b.Run("snapshot", func(b *testing.B) {
		s, err := store.New()
		if err != nil {
			b.Fatal(err)
		}
		batch := &store.Mutation{Op: store.OpBatch}
		for _, u := range in.Upstreams {
			batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpUpsertUpstream, Upstream: u})
		}
		for _, t := range in.Targets {
			batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpUpsertTarget, Target: t})
		}
		if _, err := s.Apply(batch); err != nil {
			b.Fatal(err)
		}
		snap := s.Snapshot()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			cla, ok, err := EndpointsFromSnapshot(snap, nil, name)
			if err != nil || !ok || len(cla.GetEndpoints()[0].GetLbEndpoints()) != benchTargets {
				b.Fatalf("got %v, %v, %v", cla, ok, err)
			}
		}
	})
}

// BenchmarkIncremental measures Incremental.Update at the mixed shape's
// size (10,000 routes over 1,000 hosts and 1,000 upstreams; route-50k at
// five times that) for one route's paths, one service's timeout, and one
// target's weight changing, and for 15,000 of 50,000 routes moved at once,
// alternating between two values; the Delta goes unused. The store commit
// is outside the timing; reading its change feed is inside.
func BenchmarkIncremental(b *testing.B) {
	mixed := func() *Input { return benchInput(benchServices-100, 1000) }
	for _, tc := range []struct {
		name   string
		input  func() *Input
		mutate func(in *Input, i int) *store.Mutation
	}{
		{"route", mixed, func(in *Input, i int) *store.Mutation {
			r := *in.Routes[1234]
			r.Paths = []string{fmt.Sprintf("/moved-%d", i%2)}
			return &store.Mutation{Op: store.OpUpsertRoute, Route: &r}
		}},
		// The larger size: 50,000 routes over 5,000 hosts.
		{"route-50k", func() *Input { return sizedInput(50000, 5000, 49500, 5000) }, func(in *Input, i int) *store.Mutation {
			r := *in.Routes[12345]
			r.Paths = []string{fmt.Sprintf("/moved-%d", i%2)}
			return &store.Mutation{Op: store.OpUpsertRoute, Route: &r}
		}},
		{"service", mixed, func(in *Input, i int) *store.Mutation {
			s := *in.Services[1234]
			s.ReadTimeout = int64(1000 + i%2)
			return &store.Mutation{Op: store.OpUpsertService, Service: &s}
		}},
		// 15,000 of 50,000 one-host routes move in one batch (a
		// declarative file, within the store's change feed), their
		// creation times out of id order: the table takes them out and
		// places them in bulk.
		{"replace-15k-of-50k", func() *Input {
			in := sizedInput(50000, 5000, 50000, 50000)
			for i, r := range in.Routes {
				r.CreatedAt = int64((i * 7919) % len(in.Routes))
			}
			return in
		}, func(in *Input, i int) *store.Mutation {
			batch := &store.Mutation{Op: store.OpBatch}
			for _, r := range in.Routes[:15000] {
				moved := *r
				moved.Paths = []string{fmt.Sprintf("%s-%d", r.Paths[0], i%2)}
				batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpUpsertRoute, Route: &moved})
			}
			return batch
		}},
		{"target", mixed, func(in *Input, i int) *store.Mutation {
			tg := *in.Targets[1234]
			tg.Weight = int64(10 + i%2)
			return &store.Mutation{Op: store.OpUpsertTarget, Target: &tg}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st, inc, in := benchStore(b, tc.input())
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				b.StopTimer()
				prev := st.Snapshot()
				if _, err := st.Apply(tc.mutate(in, i)); err != nil {
					b.Fatal(err)
				}
				snap := st.Snapshot()
				i++
				b.StartTimer()
				revs, err := snap.ChangesSince(prev.Revision())
				if err != nil {
					b.Fatal(err)
				}
				if _, err := inc.Update(snap, nil, ChangesFromFeed(revs)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIncrementalReset measures an Incremental's first translation
// (what a start, a bulk load's full publish and every Changes.All pay) at
// 50,000 routes with a host each: 50,000 virtual hosts in the per-host
// layout.
//
// "shuffled" gives the routes creation times in another order than their
// ids (a file of UUIDs), so that routes reach the table out of Kong's order.
func BenchmarkIncrementalReset(b *testing.B) {
	for _, shuffled := range []bool{false, true} {
		name := "ordered"
		if shuffled {
			name = "shuffled"
		}
		b.Run(name, func(b *testing.B) {
			in := sizedInput(50000, 5000, 50000, 50000)
			if shuffled {
				for i, r := range in.Routes {
					r.CreatedAt = int64((i * 7919) % len(in.Routes))
				}
			}
			st, _, _ := benchStore(b, in)
			snap := st.Snapshot()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := NewIncremental(Options{}).Update(snap, nil, Changes{All: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
