package xds

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboard-gw/switchboard/store"
)

// The endpoint-only tables must exist under these names: if the store
// renames one, this test fails instead of target changes silently taking
// the wrong path.
func TestEndpointTablesExist(t *testing.T) {
	for name := range endpointTables {
		if !slices.Contains(store.Tables, name) {
			t.Fatalf("store has no table %q (tables: %v)", name, store.Tables)
		}
	}
}

func TestEndpointChanges(t *testing.T) {
	// Ids of equal length, as UUIDs are, so that no id prefixes another.
	st := newStore(t,
		upsertUpstream(kongUpstream("ua", "a")),
		upsertUpstream(kongUpstream("ub", "b")),
		upsertUpstream(kongUpstream("uc", "c")),
		upsertTarget(kongTarget("t1", "ua", "127.0.0.2:80", 10)),
		upsertTarget(kongTarget("t2", "ua", "127.0.0.3:80", 10)),
		upsertTarget(kongTarget("t3", "ub", "127.0.0.4:80", 10)),
		upsertTarget(kongTarget("t9", "uc", "127.0.0.9:80", 10)),
	)
	for _, tc := range []struct {
		name string
		m    *store.Mutation
		want []string
	}{
		{"weight change", upsertTarget(kongTarget("t1", "ua", "127.0.0.2:80", 5)), []string{"ua"}},
		{"new target", upsertTarget(kongTarget("t4", "ub", "127.0.0.5:80", 10)), []string{"ub"}},
		{"deleted target", deleteTarget("t4"), []string{"ub"}},
		{"manual health", &store.Mutation{Op: store.OpSetTargetHealth, TargetHealth: &store.TargetHealth{TargetID: "t3"}}, []string{"ub"}},
		{"target moves upstream", upsertTarget(kongTarget("t3", "ua", "127.0.0.4:80", 10)), []string{"ua", "ub"}},
		{"health cleared by a new override", &store.Mutation{Op: store.OpSetTargetHealth, TargetHealth: &store.TargetHealth{TargetID: "t1", Healthy: true}}, []string{"ua"}},
		{"service change", upsertService(kongService("s9", "x", "example.com", 80)), []string{}},
	} {
		c, err := watchEndpoints(st.Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		apply(t, st, tc.m)
		got, err := c.changed(st.Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: fired (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestChangedTables(t *testing.T) {
	st := newStore(t, walkthrough()...)
	before := tableIndexes(st.Snapshot())
	apply(t, st, upsertTarget(kongTarget("t1", "u1", "127.0.0.2:8080", 5)))
	if s, e := changedTables(before, tableIndexes(st.Snapshot())); s || !e {
		t.Fatalf("target write: structural=%v endpoints=%v", s, e)
	}
	before = tableIndexes(st.Snapshot())
	apply(t, st, upsertRoute(kongRoute("r1", "example_route", "s1", "/other")))
	if s, _ := changedTables(before, tableIndexes(st.Snapshot())); !s {
		t.Fatal("route write not structural")
	}
}
