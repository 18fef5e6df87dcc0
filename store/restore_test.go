package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestStore_RestoreRefusesBadDumps: a dump is refused as a whole, with an
// error naming the table, row and reason, when a write could not have
// produced it; the store keeps its state and revision.
func TestStore_RestoreRefusesBadDumps(t *testing.T) {
	var good map[string]json.RawMessage
	if err := json.Unmarshal(dumpJSON(t, fixture(t)), &good); err != nil {
		t.Fatal(err)
	}
	// patch replaces one table of the fixture's dump.
	patch := func(table, rows string) []byte {
		m := map[string]json.RawMessage{}
		for k, v := range good {
			m[k] = v
		}
		m[table] = json.RawMessage(rows)
		b, _ := json.Marshal(m)
		return b
	}
	svc := func(id, name string) string {
		return `{"entity":{"id":"` + id + `","name":` + name + `,"host":"h"},"create_index":1,"modify_index":1}`
	}
	tests := []struct {
		name string
		dump []byte
		want string // in the message
		as   any    // an error type it wraps, if any
	}{
		{"null entity", patch(tableServices, `[`+svc("s1", `"one"`)+`,{"entity":null,"modify_index":1}]`), "services row 1", nil},
		{"missing entity", patch(tableRoutes, `[{"modify_index":1}]`), "routes row 0", nil},
		{"entity of the wrong shape", patch(tableUpstreams, `[{"entity":[1,2],"modify_index":1}]`), "upstreams row 0", nil},
		{"no id", patch(tableServices, `[`+svc("", `"x"`)+`]`), "without an id", nil},
		{"duplicate id", patch(tableServices, `[`+svc("s1", `"a"`)+`,`+svc("s1", `"b"`)+`]`), "duplicate id", nil},
		{"duplicate name", patch(tableServices, `[`+svc("s1", `"a"`)+`,`+svc("s2", `"a"`)+`]`), "services row 1", new(*UniqueError)},
		{"duplicate target", patch(tableTargets, `[{"entity":{"id":"t1","upstream":{"id":"u1"},"target":"a:1"},"modify_index":1},`+
			`{"entity":{"id":"t2","upstream":{"id":"u1"},"target":"a:1"},"modify_index":1}]`), "targets row 1", new(*UniqueError)},
		{"upstream without a name", patch(tableUpstreams, `[{"entity":{"id":"u1"},"modify_index":1}]`), "name is required", nil},
		{"dangling route service", patch(tableRoutes, `[{"entity":{"id":"r1","service":{"id":"nope"}},"modify_index":1}]`), "routes row 0", new(*ForeignKeyError)},
		{"dangling target upstream", patch(tableTargets, `[{"entity":{"id":"t1","upstream":{"id":"nope"},"target":"a:1"},"modify_index":1}]`), "targets row 0", new(*ForeignKeyError)},
		{"dangling health target", patch(tableTargetHealth, `[{"entity":{"target_id":"nope","upstream_id":"u1"},"modify_index":1}]`), "target_health row 0", new(*ForeignKeyError)},
		{"health on the wrong upstream", patch(tableTargetHealth, `[{"entity":{"target_id":"t1","upstream_id":"u2"},"modify_index":1}]`), "not its target's upstream", nil},
		{"unknown table", patch("gadgets", `[]`), `table "gadgets"`, nil},
		{"not an array", patch(tableServices, `{}`), "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := fixture(t)
			before, rev := dumpJSON(t, s), s.Revision()
			var d Dump
			err := json.Unmarshal(tc.dump, &d)
			if err == nil {
				err = s.Restore(rev+10, &d)
			}
			if err == nil {
				t.Fatal("restore accepted")
			}
			if tc.want != "" && (!errors.Is(err, ErrInvalidDump) || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want ErrInvalidDump naming %q", err, tc.want)
			}
			if tc.as != nil && !errors.As(err, tc.as) {
				t.Fatalf("got %v, want it to wrap %T", err, tc.as)
			}
			if !bytes.Equal(before, dumpJSON(t, s)) || s.Revision() != rev {
				t.Fatal("a refused restore changed the store")
			}
		})
	}
	// A reference to a row later in the dump is fine (references are checked
	// once every row is in).
	var d Dump
	if err := json.Unmarshal(patch(tableServices, `[`+svc("s1", `"one"`)+`]`), &d); err != nil {
		t.Fatal(err)
	}
	d.Tables[tableRoutes] = []DumpRow{{Entity: &Route{ID: "r1", Service: &ForeignKey{ID: "s1"}}, CreateIndex: 1, ModifyIndex: 1}}
	if err := fixture(t).Restore(0, &d); err != nil {
		t.Fatalf("valid restore: %v", err)
	}
	// In-process dumps are checked alike.
	d.Tables[tableRoutes] = []DumpRow{{Entity: (*Route)(nil)}}
	if err := fixture(t).Restore(0, &d); !errors.Is(err, ErrInvalidDump) {
		t.Fatalf("nil row: %v", err)
	}
}

// TestStore_BatchRefusesAsAWhole: a batch is checked write by write inside
// one transaction, so any bad element leaves nothing behind.
func TestStore_BatchRefusesAsAWhole(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  Mutation
		is   func(error) bool
	}{
		{"null row", Mutation{Op: OpUpsert, Table: tableServices, Row: json.RawMessage(`null`)}, func(err error) bool { return errors.Is(err, ErrInvalidMutation) }},
		{"duplicate name", *svcM("s2", "a"), func(err error) bool { return errors.As(err, new(*UniqueError)) }},
		{"dangling reference", *routeM("r2", "", "nope"), func(err error) bool { return errors.As(err, new(*ForeignKeyError)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			_, err := s.Apply(&Mutation{Op: OpBatch, Batch: []Mutation{*svcM("s1", "a"), *routeM("r1", "", "s1"), tc.bad}})
			if !tc.is(err) {
				t.Fatalf("got %v", err)
			}
			if s.Revision() != 0 {
				t.Fatal("a refused batch wrote")
			}
		})
	}
}
