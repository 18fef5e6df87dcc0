package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// samples builds rows for every production table: sample(i) references
// sample 0 of each parent table, so creating tables in registry order
// satisfies every reference.
var samples = map[string]func(i int) Row{
	tableServices: func(i int) Row {
		return &Service{ID: fmt.Sprintf("services-%d", i), Name: strp(fmt.Sprintf("svc-%d", i)), Host: "h.test", CreatedAt: int64(10 + i), CACertificates: []string{}}
	},
	tableRoutes: func(i int) Row {
		return &Route{ID: fmt.Sprintf("routes-%d", i), Name: strp(fmt.Sprintf("route-%d", i)), Service: &ForeignKey{ID: "services-0"}, CreatedAt: int64(10 + i)}
	},
	tableUpstreams: func(i int) Row {
		return &Upstream{ID: fmt.Sprintf("upstreams-%d", i), Name: fmt.Sprintf("up-%d", i), CreatedAt: int64(10 + i)}
	},
	tableTargets: func(i int) Row {
		return &Target{ID: fmt.Sprintf("targets-%d", i), Upstream: ForeignKey{ID: "upstreams-0"}, Target: fmt.Sprintf("10.0.0.%d:80", i), CreatedAt: float64(10 + i)}
	},
	tableTargetHealth: func(i int) Row {
		return &TargetHealth{TargetID: "targets-0", Address: fmt.Sprintf("10.0.0.%d:80", i)}
	},
	tableConsumers: func(i int) Row {
		return &Consumer{ID: fmt.Sprintf("consumers-%d", i), Username: strp(fmt.Sprintf("user-%d", i)), CustomID: strp(fmt.Sprintf("c-%d", i)), CreatedAt: int64(10 + i)}
	},
	tablePlugins: func(i int) Row {
		return &Plugin{ID: fmt.Sprintf("plugins-%d", i), Name: fmt.Sprintf("plugin-%d", i), InstanceName: strp(fmt.Sprintf("inst-%d", i)),
			Route: &ForeignKey{ID: "routes-0"}, Service: &ForeignKey{ID: "services-0"}, Consumer: &ForeignKey{ID: "consumers-0"},
			Config: []byte(`{"a":1}`), Enabled: true, CreatedAt: int64(10 + i)}
	},
	tableKeyAuthCred: func(i int) Row {
		return &KeyAuthCredential{ID: fmt.Sprintf("keyauth_credentials-%d", i), Consumer: ForeignKey{ID: "consumers-0"}, Key: fmt.Sprintf("key-%d", i), CreatedAt: int64(10 + i)}
	},
	tableCertificates: func(i int) Row {
		return &Certificate{ID: fmt.Sprintf("certificates-%d", i), Cert: "c", Key: "k", CreatedAt: int64(10 + i)}
	},
	tableSNIs: func(i int) Row {
		return &SNI{ID: fmt.Sprintf("snis-%d", i), Name: fmt.Sprintf("sni-%d.test", i), Certificate: ForeignKey{ID: "certificates-0"}, CreatedAt: int64(10 + i)}
	},
	tableCACertificates: func(i int) Row {
		return &CACertificate{ID: fmt.Sprintf("ca_certificates-%d", i), Cert: "c", CertDigest: fmt.Sprintf("d%d", i), CreatedAt: int64(10 + i)}
	},
	tableDefaultCertificate: func(i int) Row {
		return &DefaultCertificate{ID: fmt.Sprintf("default-%d", i), Cert: "c", Key: "k", CertAlt: "ca", KeyAlt: "ka"}
	},
}

// generic runs every write through JSON, as the raft log carries it.
func generic(t *testing.T, s *Store, m *Mutation) error {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Mutation
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	_, err = s.Apply(&back)
	return err
}

// kindSuite checks, for every kind of reg, CRUD through the generic
// mutations and reads, unique keys, references, and dump/restore: what a
// new kind gets from its descriptor alone.
func kindSuite(t *testing.T, reg *registry, samples map[string]func(int) Row) {
	const n = 3
	newStore := func(t *testing.T) *Store {
		s, err := newStore(reg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	fill := func(t *testing.T, s *Store) {
		for _, k := range reg.kinds {
			sample := samples[k.Table]
			if sample == nil {
				t.Fatalf("no sample rows for table %s", k.Table)
			}
			for i := range n {
				m := Upsert(k.Table, sample(i))
				m.Create = k.ID == nil
				if err := generic(t, s, m); err != nil {
					t.Fatalf("%s create %d: %v", k.Table, i, err)
				}
			}
		}
	}
	for _, k := range reg.kinds {
		t.Run(k.Table, func(t *testing.T) {
			s := newStore(t)
			fill(t, s)
			snap := s.Snapshot()
			rows, err := snap.List(k.Table)
			if err != nil || len(rows) != n {
				t.Fatalf("list: %d rows, %v", len(rows), err)
			}
			ids := make([]string, 0, n)
			for _, r := range rows {
				ids = append(ids, k.RowID(r))
				got, err := snap.Get(k.Table, k.RowID(r))
				if err != nil || got != r {
					t.Fatalf("get %s: %v %v", k.RowID(r), got, err)
				}
				if c, m := k.indexes(r); m == 0 || (k.fCreateIndex != nil && c == 0) {
					t.Fatalf("row %s not stamped: create %d modify %d", k.RowID(r), c, m)
				}
			}
			if !slices.IsSorted(ids) {
				t.Fatalf("list not in id order: %v", ids)
			}
			var walked []string
			if err := snap.Walk(k.Table, ids[0], func(r Row) bool { walked = append(walked, k.RowID(r)); return true }); err != nil || !slices.Equal(walked, ids[1:]) {
				t.Fatalf("walk after %s: %v %v", ids[0], walked, err)
			}

			// Update: created_at and create_index survive a replace.
			upd := samples[k.Table](0)
			if err := generic(t, s, Upsert(k.Table, upd)); err != nil {
				t.Fatalf("update: %v", err)
			}
			before, _ := snap.Get(k.Table, k.RowID(upd))
			after, _ := s.Snapshot().Get(k.Table, k.RowID(upd))
			c0, m0 := k.indexes(before)
			c1, m1 := k.indexes(after)
			if c0 != c1 || m1 <= m0 {
				t.Fatalf("update indexes: create %d→%d modify %d→%d", c0, c1, m0, m1)
			}
			if k.ID == nil {
				create := Upsert(k.Table, upd)
				create.Create = true
				if err := generic(t, s, create); !errors.As(err, new(*PrimaryKeyError)) {
					t.Fatalf("create over an existing id: %v", err)
				}
			}

			// Unique keys: another id with row 0's key values conflicts.
			for _, u := range k.Unique {
				dup := samples[k.Table](0)
				setField(dup, k.fID, "another-id")
				var ue *UniqueError
				// Row 0 is a duplicate under every key at once; the store names
				// the first key it checks, one of the kind's.
				if err := generic(t, s, Upsert(k.Table, dup)); !errors.As(err, &ue) || ue.Entity != k.Table || !namesAKey(k, ue) {
					t.Fatalf("unique %s: got %v", u.Name, err)
				}
				vals := u.Values(samples[k.Table](0))
				got, err := s.Snapshot().GetUnique(k.Table, u.Name, vals...)
				if err != nil || got == nil || k.RowID(got) != ids[0] && k.RowID(got) != k.RowID(upd) {
					t.Fatalf("get by %s: %v %v", u.Name, got, err)
				}
			}

			// References: a dangling id is refused.
			for _, ref := range k.Refs {
				bad := samples[k.Table](0)
				if err := json.Unmarshal(danglingPatch(t, bad, ref), bad); err != nil {
					t.Fatal(err)
				}
				if err := generic(t, s, Upsert(k.Table, bad)); err == nil {
					t.Fatalf("%s.%s: dangling reference accepted", k.Table, ref.Field)
				}
				refIDs := ref.IDs(samples[k.Table](0))
				if len(refIDs) == 0 {
					continue // a null reference in the sample
				}
				got, err := s.Snapshot().ListReferencing(k.Table, ref.Field, refIDs[0])
				if err != nil || len(got) == 0 {
					t.Fatalf("list by %s: %v %v", ref.Field, got, err)
				}
			}

			// Dump → Restore → Dump, on a fresh store of the same registry.
			d, err := s.Snapshot().Dump()
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(d)
			if !strings.Contains(string(raw), `"`+k.Table+`":[{`) {
				t.Fatalf("dump has no %s rows", k.Table)
			}
			var back Dump
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			s2 := newStore(t)
			if err := s2.Restore(0, &back); err != nil {
				t.Fatal(err)
			}
			if raw2, _ := json.Marshal(mustDump(t, s2)); !bytes.Equal(raw, raw2) {
				t.Fatalf("round trip differs:\n%s\n%s", raw, raw2)
			}

			// Delete: every referrer of row 0 is refused (Restrict) or goes
			// with it (Cascade).
			restricted := false
			for _, b := range reg.refsTo[k.Table] {
				if b.ref.OnDelete == Restrict {
					if got, _ := s.Snapshot().ListReferencing(b.from.Table, b.ref.Field, ids[0]); len(got) > 0 {
						restricted = true
					}
				}
			}
			err = generic(t, s, Delete(k.Table, ids[0]))
			if restricted {
				var re *ReferencedError
				if !errors.As(err, &re) || re.Entity != k.Table {
					t.Fatalf("delete of a restricted row: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("delete: %v", err)
			}
			snap = s.Snapshot()
			if got, _ := snap.Get(k.Table, ids[0]); got != nil {
				t.Fatal("deleted row still there")
			}
			for _, b := range reg.refsTo[k.Table] {
				if got, _ := snap.ListReferencing(b.from.Table, b.ref.Field, ids[0]); len(got) != 0 {
					t.Fatalf("%s rows survived the cascade", b.from.Table)
				}
			}
			if err := generic(t, s, Delete(k.Table, ids[0])); !errors.Is(err, ErrNotFound) {
				t.Fatalf("second delete: %v", err)
			}
		})
	}
}

// namesAKey reports whether ue's fields are those of one of k's unique keys.
func namesAKey(k *Kind, ue *UniqueError) bool {
	for _, u := range k.Unique {
		if len(u.Fields) != len(ue.Fields) {
			continue
		}
		same := true
		for i, f := range ue.Fields {
			same = same && f.Name == u.Fields[i]
		}
		if same {
			return true
		}
	}
	return false
}

// danglingPatch is a JSON patch of row pointing ref at a missing id.
func danglingPatch(t *testing.T, row Row, ref Ref) []byte {
	t.Helper()
	raw, _ := json.Marshal(row)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	key := ref.Field
	if _, ok := m[key]; !ok {
		key += "_id" // target_health.target_id
	}
	switch m[key].(type) {
	case []any:
		m[key] = []any{"missing"}
	case string:
		m[key] = "missing"
	default:
		m[key] = map[string]any{"id": "missing"}
	}
	out, _ := json.Marshal(m)
	return out
}

func mustDump(t *testing.T, s *Store) *Dump {
	t.Helper()
	d, err := s.Snapshot().Dump()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRegistry_EveryKind(t *testing.T) { kindSuite(t, kinds, samples) }

// TestRegistry_SafetyNetCoversEveryRelation ties the hand-written relation
// table of TestStore_References to the descriptors: a new Ref fails here
// until the relation is tested.
func TestRegistry_SafetyNetCoversEveryRelation(t *testing.T) {
	tested := map[string]OnDelete{}
	for _, r := range relations() {
		tested[r.child+"."+r.field+"→"+r.parent] = r.onDelete
	}
	for _, k := range Kinds() {
		for _, ref := range k.Refs {
			key := k.Table + "." + ref.Field + "→" + ref.Table
			if od, ok := tested[key]; !ok || od != ref.OnDelete {
				t.Errorf("relation %s (on delete %d) has no case in relations()", key, ref.OnDelete)
			}
		}
	}
	if got := KindByTable(tableTargets); got == nil || !got.EndpointsOnly {
		t.Error("targets take the endpoints-only path")
	}
	if !slices.Equal(Tables, []string{tableServices, tableRoutes, tableUpstreams, tableTargets, tableTargetHealth,
		tableConsumers, tablePlugins, tableKeyAuthCred, tableCertificates, tableSNIs, tableCACertificates, tableDefaultCertificate}) {
		t.Errorf("table order (the dump order of every release) changed: %v", Tables)
	}
}

func TestRegistry_RestoreRefusesUnknownTable(t *testing.T) {
	var d Dump
	if err := json.Unmarshal([]byte(`{"revision":3,"services":[],"gadgets":[{"entity":{"id":"g"},"modify_index":1}]}`), &d); err != nil {
		t.Fatal(err)
	}
	s := fixture(t)
	before := dumpJSON(t, s)
	if err := s.Restore(0, &d); err == nil || !strings.Contains(err.Error(), "gadgets") {
		t.Fatalf("restore with an unknown table: %v", err)
	}
	if !bytes.Equal(before, dumpJSON(t, s)) {
		t.Fatal("a refused restore changed the store")
	}
}

func TestRegistry_GenericOpsMatchLegacy(t *testing.T) {
	legacy, gen := newTestStore(t), newTestStore(t)
	for _, m := range []*Mutation{svcM("s1", "a"), routeM("r1", "r", "s1"), upM("u1", "u"), tgtM("t1", "u1", "a:1"), healthM("t1", "", false)} {
		mustApply(t, legacy, m)
		l := legacyOps[m.Op]
		if err := generic(t, gen, Upsert(l.table, l.row(m))); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := dumpJSON(t, legacy), dumpJSON(t, gen); !bytes.Equal(a, b) {
		t.Fatalf("generic and legacy ops differ:\n%s\n%s", a, b)
	}
	for _, m := range []*Mutation{
		{Op: OpUpsert, Table: "nope", Row: json.RawMessage(`{}`)},
		{Op: OpUpsert, Table: tableServices},
		{Op: OpUpsert, Table: tableServices, Row: json.RawMessage(`null`)},
		{Op: OpUpsert, Table: tableServices, Row: &Route{ID: "x"}},
		{Op: OpUpsert, Table: tableServices, Row: &Service{}},
		{Op: OpUpsertService},
	} {
		if _, err := gen.Apply(m); !errors.Is(err, ErrInvalidMutation) {
			t.Errorf("%s %s: got %v, want ErrInvalidMutation", m, m.Row, err)
		}
	}
}
