package xds

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/switchboard-gw/switchboard/store"
	"github.com/switchboard-gw/switchboard/translator"
)

// shapeStore is the store of sbbench's propagation scenario: n services,
// each with one route (a host of its own when hosts), plus a steady
// hostless route when mixed (the background load's).
func shapeStore(b *testing.B, n int, hosts, mixed bool) *store.Store {
	b.Helper()
	st, err := store.New()
	if err != nil {
		b.Fatal(err)
	}
	var batch []store.Mutation
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := st.Apply(&store.Mutation{Op: store.OpBatch, Batch: batch}); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range n {
		id := fmt.Sprintf("s%05d", i)
		r := kongRoute(fmt.Sprintf("r%05d", i), "route-"+id, id, fmt.Sprintf("/bulk/%05d", i))
		if hosts {
			r.Hosts = []string{fmt.Sprintf("bulk-%05d.test", i)}
		}
		batch = append(batch, *upsertService(kongService(id, "service-"+id, "127.0.0.1", 8080)), *upsertRoute(r))
		if len(batch) >= 2000 {
			flush()
		}
	}
	if mixed {
		batch = append(batch, *upsertService(kongService("bg", "bg", "127.0.0.1", 8080)),
			*upsertRoute(kongRoute("steady", "steady", "bg", "/steady")))
	}
	flush()
	return st
}

// timedTranslator times the incremental translation, to tell the
// publisher's own share of a change from the translator's.
type timedTranslator struct {
	incTranslator
	took time.Duration
}

func (t *timedTranslator) Update(snap *store.Snapshot, dns map[string]translator.DNSAnswer, ch translator.Changes) (*translator.Delta, error) {
	start := time.Now()
	d, err := t.incTranslator.Update(snap, dns, ch)
	t.took += time.Since(start)
	return d, err
}

func (t *timedTranslator) Translate(snap *store.Snapshot, dns map[string]translator.DNSAnswer) (*translator.Resources, error) {
	return t.incTranslator.(Translator).Translate(snap, dns)
}

func (t *timedTranslator) Endpoints(snap *store.Snapshot, dns map[string]translator.DNSAnswer, clusters []string) ([]*endpointv3.ClusterLoadAssignment, error) {
	return t.incTranslator.(Translator).Endpoints(snap, dns, clusters)
}

// BenchmarkRouteChangeShapes is the control plane's share of one new route
// (the propagation scenario's write) on the O(change) path, in the
// scenario's shapes and sizes: change feed, incremental translation,
// validation, marshal, cache update. Reports p50/p99 in µs.
func BenchmarkRouteChangeShapes(b *testing.B) {
	for _, c := range []struct {
		name         string
		n            int
		hosts, mixed bool
	}{
		{"hostless-5k", 5000, false, false},
		{"hosts-5k", 5000, true, false},
		{"hosts+steady-5k", 5000, true, true},
		{"hostless-50k", 50000, false, false},
		{"hosts-50k", 50000, true, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			st := shapeStore(b, c.n, c.hosts, c.mixed)
			tr := &timedTranslator{incTranslator: testTranslator().(incTranslator)}
			p := newPublisher(newCache(), tr, nil, quietLogger(), newMetrics(nil))
			p.settle = st.SettleWatches
			if _, err := p.publish(context.Background(), st.Snapshot()); err != nil {
				b.Fatal(err)
			}
			var lat, own []time.Duration
			i := 0
			b.ResetTimer()
			for b.Loop() {
				i++
				b.StopTimer()
				r := kongRoute(fmt.Sprintf("new%05d", i), fmt.Sprintf("new-%d", i), "s00001", fmt.Sprintf("/new/%05d", i))
				if c.hosts {
					r.Hosts = []string{fmt.Sprintf("new-%05d.test", i)}
				}
				if _, err := st.Apply(upsertRoute(r)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				tr.took = 0
				start := time.Now()
				mode, err := p.publish(context.Background(), st.Snapshot())
				lat = append(lat, time.Since(start))
				own = append(own, lat[len(lat)-1]-tr.took)
				if err != nil || mode != modeIncremental {
					b.Fatalf("mode %q: %v", mode, err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			slices.Sort(own)
			if n := len(lat); n > 0 {
				b.ReportMetric(float64(lat[n/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[min(n-1, n*99/100)].Microseconds()), "p99-µs")
				// The same without the incremental translation: the
				// publisher's own share (feed, validate, marshal, cache).
				b.ReportMetric(float64(own[n/2].Microseconds()), "xds-p50-µs")
				b.ReportMetric(float64(own[min(n-1, n*99/100)].Microseconds()), "xds-p99-µs")
			}
		})
	}
}
