package translator

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/switchboard-gw/switchboard/store"
)

// TestFromSnapshot loads fixtures into a real store and checks that
// FromSnapshot + Translate, and EndpointsFromSnapshot for every cluster,
// give what the fixture's Input gives.
func TestFromSnapshot(t *testing.T) {
	for _, name := range []string{"getting-started", "manual-health", "weights", "hashing", "host-wildcards", "plain-host"} {
		t.Run(name, func(t *testing.T) {
			in, _ := loadFixture(t, filepath.Join("testdata", "in", name+".yaml"))

			s, err := store.New()
			if err != nil {
				t.Fatal(err)
			}
			rev, err := s.Apply(inputBatch(in))
			if err != nil {
				t.Fatal(err)
			}

			snap := s.Snapshot()
			// The store stamps its own index on every override.
			stored, err := snap.TargetHealth()
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range in.TargetHealth {
				for _, sh := range stored {
					if sh.Key() == h.Key() {
						h.ModifyIndex = sh.ModifyIndex
					}
				}
			}
			want, err := Translate(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FromSnapshot(snap, in.DNS, in.Options)
			if err != nil {
				t.Fatal(err)
			}
			if got.Revision != rev {
				t.Errorf("Revision = %d, want %d", got.Revision, rev)
			}
			res, err := Translate(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, res, protocmp.Transform()); diff != "" {
				t.Errorf("Translate(FromSnapshot) differs (-fixture +store):\n%s", diff)
			}
			for i, c := range want.Clusters {
				cla, ok, err := EndpointsFromSnapshot(snap, in.DNS, c.GetName())
				if err != nil || !ok {
					t.Fatalf("EndpointsFromSnapshot(%q) = %v, %v", c.GetName(), ok, err)
				}
				if diff := cmp.Diff(want.Endpoints[i], cla, protocmp.Transform()); diff != "" {
					t.Errorf("EndpointsFromSnapshot(%q) (-translate +snapshot):\n%s", c.GetName(), diff)
				}
			}
			for _, unknown := range []string{"xds_cluster", "upstream/nope/http/60000", "service/nope"} {
				if _, ok, err := EndpointsFromSnapshot(snap, in.DNS, unknown); ok || err != nil {
					t.Errorf("EndpointsFromSnapshot(%q) = %v, %v; want not found", unknown, ok, err)
				}
				if _, ok := Endpoints(in, unknown); ok {
					t.Errorf("Endpoints(%q) found", unknown)
				}
			}
		})
	}
}

// TestTranslate_EntityErrors checks that a caller can tell which entities
// were left out.
func TestTranslate_EntityErrors(t *testing.T) {
	in, _ := loadFixture(t, filepath.Join("testdata", "in", "errors.yaml"))
	res, err := Translate(in)
	if err == nil || res == nil || len(res.Listeners) != 1 {
		t.Fatalf("Translate = %v, %v; want resources and an error", res, err)
	}
	var ids []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ee *EntityError
		if !errors.As(e, &ee) || ee.Entity != "route" {
			t.Errorf("error %v is not a route EntityError", e)
			continue
		}
		ids = append(ids, ee.ID)
	}
	if diff := cmp.Diff([]string{"r2", "r3", "r4", "r5"}, ids); diff != "" {
		t.Errorf("failed routes (-want +got):\n%s", diff)
	}
	if _, err := Translate(nil); err == nil {
		t.Error("Translate(nil): no error")
	}
}

// inputBatch is one store batch writing a fixture's entities in
// reference order (upstreams and targets before the services and routes
// that name them).
func inputBatch(in *Input) *store.Mutation {
	batch := &store.Mutation{Op: store.OpBatch}
	for _, u := range in.Upstreams {
		batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpUpsertUpstream, Upstream: u})
	}
	for _, tg := range in.Targets {
		batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpUpsertTarget, Target: tg})
	}
	for _, h := range in.TargetHealth {
		batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpSetTargetHealth, TargetHealth: h})
	}
	for _, svc := range in.Services {
		batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpUpsertService, Service: svc})
	}
	for _, r := range in.Routes {
		batch.Batch = append(batch.Batch, store.Mutation{Op: store.OpUpsertRoute, Route: r})
	}
	return batch
}
