package store

import (
	"fmt"
	"testing"
)

// BenchmarkStore_Apply measures one committed write per op: services, their
// routes and targets, cycling through 10,000 distinct entities.
func BenchmarkStore_Apply(b *testing.B) {
	s, _ := New()
	if _, err := s.Apply(&Mutation{Op: OpUpsertUpstream, Upstream: &Upstream{ID: "u", Name: "u"}}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := i % 10000
		sid := fmt.Sprintf("s-%05d-%d", n, i/10000)
		name := sid
		if _, err := s.Apply(&Mutation{Op: OpUpsertService, Service: &Service{ID: sid, Name: &name, Host: "h"}}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Apply(&Mutation{Op: OpUpsertRoute, Route: &Route{ID: "r" + sid, Service: &ForeignKey{ID: sid}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Apply(&Mutation{Op: OpUpsertTarget, Target: &Target{ID: "t" + sid, Upstream: ForeignKey{ID: "u"}, Target: sid + ":80", Weight: 100}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(3*b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkStore_Read measures by-id and by-name lookups in a store of
// 10,000 services.
func BenchmarkStore_Read(b *testing.B) {
	s, _ := New()
	for i := 0; i < 10000; i++ {
		name := fmt.Sprintf("svc-%05d", i)
		if _, err := s.Apply(&Mutation{Op: OpUpsertService, Service: &Service{ID: fmt.Sprintf("id-%05d", i), Name: &name, Host: "h"}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snap := s.Snapshot()
		if svc, _ := snap.ServiceByID(fmt.Sprintf("id-%05d", i%10000)); svc == nil {
			b.Fatal("missing")
		}
		if svc, _ := snap.ServiceByName(fmt.Sprintf("svc-%05d", i%10000)); svc == nil {
			b.Fatal("missing")
		}
	}
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "reads/s")
}
