package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func strp(s string) *string { return &s }

func mustApply(t *testing.T, s *Store, m *Mutation) uint64 {
	t.Helper()
	idx, err := s.Apply(m)
	if err != nil {
		t.Fatalf("apply %s: %v", m, err)
	}
	return idx
}

func TestStore_ReferentialRules(t *testing.T) {
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, &Mutation{Op: OpUpsertService, Create: true, Service: &Service{ID: "s1", Name: strp("svc"), Host: "h", CreatedAt: 1}})
	if _, err := s.Apply(&Mutation{Op: OpUpsertService, Service: &Service{ID: "s2", Name: strp("svc")}}); !errors.As(err, new(*UniqueError)) {
		t.Fatalf("duplicate name: got %v", err)
	}
	if _, err := s.Apply(&Mutation{Op: OpUpsertService, Create: true, Service: &Service{ID: "s1"}}); !errors.As(err, new(*PrimaryKeyError)) {
		t.Fatalf("duplicate id: got %v", err)
	}
	if _, err := s.Apply(&Mutation{Op: OpUpsertRoute, Route: &Route{ID: "r0", Service: &ForeignKey{ID: "nope"}}}); !errors.As(err, new(*ForeignKeyError)) {
		t.Fatalf("dangling service: got %v", err)
	}
	mustApply(t, s, &Mutation{Op: OpUpsertRoute, Route: &Route{ID: "r1", Service: &ForeignKey{ID: "s1"}}})
	if _, err := s.Apply(&Mutation{Op: OpDeleteService, ID: "s1"}); !errors.As(err, new(*ReferencedError)) {
		t.Fatalf("delete referenced service: got %v", err)
	}
	mustApply(t, s, &Mutation{Op: OpUpsertUpstream, Upstream: &Upstream{ID: "u1", Name: "up"}})
	mustApply(t, s, &Mutation{Op: OpUpsertTarget, Target: &Target{ID: "t1", Upstream: ForeignKey{ID: "u1"}, Target: "a:80"}})
	if _, err := s.Apply(&Mutation{Op: OpUpsertTarget, Target: &Target{ID: "t2", Upstream: ForeignKey{ID: "u1"}, Target: "a:80"}}); !errors.As(err, new(*UniqueError)) {
		t.Fatalf("duplicate target: got %v", err)
	}
	mustApply(t, s, &Mutation{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: "t1", Healthy: false}})
	before := s.Revision()
	// A failing batch writes nothing and leaves the revision alone.
	_, err = s.Apply(&Mutation{Op: OpBatch, Batch: []Mutation{
		{Op: OpDeleteRoute, ID: "r1"},
		{Op: OpDeleteService, ID: "missing"},
	}})
	if !errors.Is(err, ErrNotFound) || s.Revision() != before {
		t.Fatalf("batch: err %v rev %d want %d", err, s.Revision(), before)
	}
	if r, _ := s.Snapshot().RouteByID("r1"); r == nil {
		t.Fatal("route lost by a failed batch")
	}
	mustApply(t, s, &Mutation{Op: OpDeleteUpstream, ID: "u1"})
	snap := s.Snapshot()
	if ts, _ := snap.Targets(); len(ts) != 0 {
		t.Fatalf("targets not cascaded: %d", len(ts))
	}
	if hs, _ := snap.TargetHealth(); len(hs) != 0 {
		t.Fatalf("health not cascaded: %d", len(hs))
	}
	if got := snap.TableIndex(tableTargets); got != snap.Revision() {
		t.Fatalf("targets table index %d, revision %d", got, snap.Revision())
	}
}

func TestStore_WaitForRevision(t *testing.T) {
	s, _ := New()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan uint64)
	go func() {
		rev, _ := s.WaitForRevision(ctx, 0)
		done <- rev
	}()
	mustApply(t, s, &Mutation{Op: OpUpsertUpstream, Upstream: &Upstream{ID: "u1", Name: "up"}})
	if rev := <-done; rev != 1 {
		t.Fatalf("woke at %d", rev)
	}
}

func TestStore_WatchAndIndexes(t *testing.T) {
	s, _ := New()
	tests := []struct {
		name  string
		m     *Mutation
		table string
	}{
		{"upstream", &Mutation{Op: OpUpsertUpstream, Upstream: &Upstream{ID: "u1", Name: "up"}}, tableUpstreams},
		{"target", &Mutation{Op: OpUpsertTarget, Target: &Target{ID: "t1", Upstream: ForeignKey{ID: "u1"}, Target: "a:80"}}, tableTargets},
		{"service", &Mutation{Op: OpUpsertService, Service: &Service{ID: "s1", Host: "h"}}, tableServices},
		{"route", &Mutation{Op: OpUpsertRoute, Route: &Route{ID: "r1", Service: &ForeignKey{ID: "s1"}}}, tableRoutes},
	}
	var last uint64
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Snapshot()
			ctx, cancel := context.WithCancel(context.Background())
			woke := make(chan uint64, 1)
			go func() { rev, _ := s.WaitForRevision(ctx, before.Revision()); woke <- rev }()
			idx := mustApply(t, s, tc.m)
			if idx <= last {
				t.Fatalf("revision %d did not increase past %d", idx, last)
			}
			last = idx
			if rev := <-woke; rev != idx {
				t.Fatalf("watch woke at %d, want %d", rev, idx)
			}
			cancel()
			after := s.Snapshot()
			if after.TableIndex(tc.table) != idx {
				t.Fatalf("table %s index %d, want %d", tc.table, after.TableIndex(tc.table), idx)
			}
			// The old snapshot is immutable: it still shows the old revision.
			if before.Revision() == idx || before.TableIndex(tc.table) == idx {
				t.Fatal("old snapshot changed")
			}
		})
	}
	// A failed write does not fire the watch.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Apply(&Mutation{Op: OpDeleteService, ID: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
	if _, err := s.WaitForRevision(ctx, last); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("watch fired on a failed write: %v", err)
	}
}

func TestStore_WalkAfter(t *testing.T) {
	s, _ := New()
	for _, id := range []string{"c", "a", "b", "d"} {
		mustApply(t, s, &Mutation{Op: OpUpsertService, Service: &Service{ID: id, Host: "h"}})
	}
	var got []string
	_ = s.Snapshot().WalkServices("b", func(svc *Service) bool {
		got = append(got, svc.ID)
		return len(got) < 1
	})
	if len(got) != 1 || got[0] != "c" {
		t.Fatalf("walk after b: %v", got)
	}
}
