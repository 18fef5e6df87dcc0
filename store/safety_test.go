package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// The store's safety net: every rule the Admin API relies on, checked over
// every table. These tests use only the typed API and the legacy ops, so
// they ran unchanged against the pre-registry store too.

func newTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func svcM(id, name string) *Mutation {
	sv := &Service{ID: id, Host: "h.test", Port: 80, Protocol: "http", CreatedAt: 100, UpdatedAt: 100}
	if name != "" {
		sv.Name = strp(name)
	}
	return &Mutation{Op: OpUpsertService, Service: sv}
}

func routeM(id, name, service string) *Mutation {
	r := &Route{ID: id, Paths: []string{"/" + id}, CreatedAt: 100}
	if name != "" {
		r.Name = strp(name)
	}
	if service != "" {
		r.Service = &ForeignKey{ID: service}
	}
	return &Mutation{Op: OpUpsertRoute, Route: r}
}

func upM(id, name string) *Mutation {
	return &Mutation{Op: OpUpsertUpstream, Upstream: &Upstream{ID: id, Name: name, Algorithm: "round-robin", CreatedAt: 100}}
}

func tgtM(id, upstream, addr string) *Mutation {
	return &Mutation{Op: OpUpsertTarget, Target: &Target{ID: id, Upstream: ForeignKey{ID: upstream}, Target: addr, Weight: 100, CreatedAt: 100.5}}
}

func consumerM(id, username string) *Mutation {
	return Upsert(tableConsumers, &Consumer{ID: id, Username: strp(username), CreatedAt: 100})
}

// pluginM scopes a plugin to a service, route and consumer ("" for none).
func pluginM(id, name, service, route, consumer string) *Mutation {
	fk := func(id string) *ForeignKey {
		if id == "" {
			return nil
		}
		return &ForeignKey{ID: id}
	}
	return Upsert(tablePlugins, &Plugin{ID: id, Name: name, Service: fk(service), Route: fk(route), Consumer: fk(consumer),
		Config: []byte(`{"minute":5}`), Enabled: true, Protocols: []string{"http"}, CreatedAt: 100})
}

func keyM(id, consumer, key string) *Mutation {
	return Upsert(tableKeyAuthCred, &KeyAuthCredential{ID: id, Consumer: ForeignKey{ID: consumer}, Key: key, CreatedAt: 100})
}

func certM(id string) *Mutation {
	return Upsert(tableCertificates, &Certificate{ID: id, Cert: "c", Key: "k", CreatedAt: 100})
}

func sniM(id, name, cert string) *Mutation {
	return Upsert(tableSNIs, &SNI{ID: id, Name: name, Certificate: ForeignKey{ID: cert}, CreatedAt: 100})
}

func caM(id, digest string) *Mutation {
	return Upsert(tableCACertificates, &CACertificate{ID: id, Cert: "c", CertDigest: digest, CreatedAt: 100})
}

// tlsSvcM is a generic (not legacy: those keep dangling TLS ids) service
// write with a client certificate and CA certificates.
func tlsSvcM(id, cert string, cas ...string) *Mutation {
	sv := &Service{ID: id, Host: "h.test", Port: 443, Protocol: "https", CreatedAt: 100, UpdatedAt: 100, CACertificates: cas}
	if cert != "" {
		sv.ClientCertificate = &ForeignKey{ID: cert}
	}
	return Upsert(tableServices, sv)
}

func tlsUpM(id, cert string) *Mutation {
	return Upsert(tableUpstreams, &Upstream{ID: id, Name: id + ".test", Algorithm: "round-robin", CreatedAt: 100,
		ClientCertificate: &ForeignKey{ID: cert}})
}

func healthM(target, addr string, healthy bool) *Mutation {
	return &Mutation{Op: OpSetTargetHealth, TargetHealth: &TargetHealth{TargetID: target, Address: addr, Healthy: healthy}}
}

// fixture fills every table with a few rows. A table added to the store
// without rows here fails TestStore_DumpRestoreRoundTrip.
func fixture(t *testing.T) *Store {
	t.Helper()
	s := newTestStore(t)
	for _, m := range []*Mutation{
		svcM("s1", "one"), svcM("s2", "two"), svcM("s3", ""),
		routeM("r1", "r-one", "s1"), routeM("r2", "", "s1"), routeM("r3", "r-three", ""),
		upM("u1", "up1.test"), upM("u2", "up2.test"),
		tgtM("t1", "u1", "10.0.0.1:80"), tgtM("t2", "u1", "10.0.0.2:80"), tgtM("t3", "u2", "h.test:8000"),
		healthM("t1", "", false), healthM("t3", "10.9.9.9:8000", false), healthM("t3", "10.9.9.8:8000", true),
		consumerM("c1", "alice"), consumerM("c2", "bob"),
		pluginM("p1", "rate-limiting", "", "", ""), pluginM("p2", "rate-limiting", "s1", "", ""),
		pluginM("p3", "key-auth", "s1", "r1", ""), pluginM("p4", "rate-limiting", "", "", "c1"),
		keyM("k1", "c1", "alice-key"), keyM("k2", "c2", "bob-key"),
		certM("cert1"), certM("cert2"), sniM("sni1", "a.test", "cert1"), sniM("sni2", "*.b.test", "cert1"),
		caM("ca1", "d1"), caM("ca2", "d2"), tlsSvcM("s4", "cert2", "ca1", "ca2"), tlsUpM("u3", "cert2"),
		Upsert(tableDefaultCertificate, &DefaultCertificate{ID: DefaultCertificateID, Cert: "c", Key: "k", CertAlt: "ca", KeyAlt: "ka"}),
	} {
		mustApply(t, s, m)
	}
	return s
}

func dumpJSON(t *testing.T, s *Store) []byte {
	t.Helper()
	d, err := s.Snapshot().Dump()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStore_DumpRestoreRoundTrip(t *testing.T) {
	src := fixture(t)
	first := dumpJSON(t, src)
	var tables map[string]json.RawMessage
	if err := json.Unmarshal(first, &tables); err != nil {
		t.Fatal(err)
	}
	for _, table := range Tables {
		var rows []json.RawMessage
		if err := json.Unmarshal(tables[table], &rows); err != nil || len(rows) == 0 {
			t.Errorf("table %s: %d rows in the dump (err %v): it is not dumped, or the fixture has no rows for it", table, len(rows), err)
		}
	}
	if t.Failed() {
		return
	}
	var d Dump
	if err := json.Unmarshal(first, &d); err != nil {
		t.Fatal(err)
	}
	dst := newTestStore(t)
	mustApply(t, dst, upM("stale", "stale.test")) // replaced by the restore
	if err := dst.Restore(0, &d); err != nil {
		t.Fatal(err)
	}
	if second := dumpJSON(t, dst); !bytes.Equal(first, second) {
		t.Fatalf("round trip differs:\n%s\n%s", first, second)
	}
	snap := dst.Snapshot()
	if snap.Revision() != src.Revision() {
		t.Fatalf("revision %d, want %d", snap.Revision(), src.Revision())
	}
	for _, table := range Tables {
		if got := snap.TableIndex(table); got != snap.Revision() {
			t.Errorf("table %s index %d after restore, want the revision %d", table, got, snap.Revision())
		}
	}
	// The secondary indexes are rebuilt, not just the rows.
	checks := []struct {
		name string
		ok   func() bool
	}{
		{"service by name", func() bool { v, _ := snap.ServiceByName("two"); return v != nil && v.ID == "s2" }},
		{"route by name", func() bool { v, _ := snap.RouteByName("r-one"); return v != nil && v.ID == "r1" }},
		{"routes by service", func() bool { v, _ := snap.RoutesByService("s1"); return len(v) == 2 }},
		{"upstream by name", func() bool { v, _ := snap.UpstreamByName("up2.test"); return v != nil && v.ID == "u2" }},
		{"targets by upstream", func() bool { v, _ := snap.TargetsByUpstream("u1"); return len(v) == 2 }},
		{"target by address", func() bool { v, _ := snap.TargetByAddress("u2", "h.test:8000"); return v != nil && v.ID == "t3" }},
		{"health by upstream", func() bool { v, _ := snap.TargetHealthByUpstream("u2"); return len(v) == 2 }},
		{"stale row gone", func() bool { v, _ := snap.UpstreamByID("stale"); return v == nil }},
		{"consumer by username", func() bool { v, _ := snap.ConsumerByUsername("bob"); return v != nil && v.ID == "c2" }},
		{"plugins by service", func() bool { v, _ := snap.ListReferencing(tablePlugins, indexService, "s1"); return len(v) == 2 }},
		{"plugin by scope", func() bool {
			v, _ := snap.GetUnique(tablePlugins, indexPluginScope, nil, "rate-limiting", nil, ForeignKey{ID: "s1"})
			return v != nil && v.(*Plugin).ID == "p2"
		}},
		{"credential by key", func() bool { v, _ := snap.KeyAuthCredentialByKey("bob-key"); return v != nil && v.ID == "k2" }},
		{"create index kept", func() bool {
			a, _ := src.Snapshot().ServiceByID("s1")
			b, _ := snap.ServiceByID("s1")
			return b != nil && a.CreateIndex == b.CreateIndex && a.ModifyIndex == b.ModifyIndex && b.CreateIndex != 0
		}},
	}
	for _, c := range checks {
		if !c.ok() {
			t.Errorf("after restore: %s", c.name)
		}
	}
	// A write after the restore continues from the restored revision.
	if idx := mustApply(t, dst, svcM("s9", "nine")); idx != src.Revision()+1 {
		t.Fatalf("first write after restore at %d, want %d", idx, src.Revision()+1)
	}
}

// relation is one foreign key, with a parent, a child that references it,
// and what deleting the parent does.
type relation struct {
	child, field string // referencing table and Kong field
	parent       string
	onDelete     OnDelete
	setup        []*Mutation // parent and child rows
	dangling     *Mutation   // a child naming a missing parent
	danglingErr  func(error) bool
	deleteParent *Mutation
	childGone    func(*Snapshot) bool
}

func isFK(err error) bool { return errors.As(err, new(*ForeignKeyError)) }

func relations() []relation {
	return []relation{
		{
			child: tableRoutes, field: "service", parent: tableServices, onDelete: Restrict,
			setup:        []*Mutation{svcM("s1", "a"), routeM("r1", "", "s1")},
			dangling:     routeM("r2", "", "missing"),
			danglingErr:  isFK,
			deleteParent: &Mutation{Op: OpDeleteService, ID: "s1"},
			childGone:    func(s *Snapshot) bool { v, _ := s.RouteByID("r1"); return v == nil },
		},
		{
			child: tableTargets, field: "upstream", parent: tableUpstreams, onDelete: Cascade,
			setup:        []*Mutation{upM("u1", "u.test"), tgtM("t1", "u1", "a:1"), tgtM("t2", "u1", "b:1")},
			dangling:     tgtM("t3", "missing", "a:1"),
			danglingErr:  isFK,
			deleteParent: &Mutation{Op: OpDeleteUpstream, ID: "u1"},
			childGone:    func(s *Snapshot) bool { v, _ := s.Targets(); return len(v) == 0 },
		},
		{
			child: tableTargetHealth, field: "target", parent: tableTargets, onDelete: Cascade,
			setup:        []*Mutation{upM("u1", "u.test"), tgtM("t1", "u1", "a:1"), healthM("t1", "", false), healthM("t1", "1.1.1.1:1", true)},
			dangling:     healthM("missing", "", false),
			danglingErr:  func(err error) bool { return errors.Is(err, ErrNotFound) }, // the Admin API's 404
			deleteParent: &Mutation{Op: OpDeleteTarget, ID: "t1"},
			childGone:    func(s *Snapshot) bool { v, _ := s.TargetHealth(); return len(v) == 0 },
		},
		{
			child: tablePlugins, field: "service", parent: tableServices, onDelete: Cascade,
			setup:        []*Mutation{svcM("s1", "a"), pluginM("p1", "key-auth", "s1", "", ""), pluginM("p2", "rate-limiting", "s1", "", "")},
			dangling:     pluginM("p3", "key-auth", "missing", "", ""),
			danglingErr:  isFK,
			deleteParent: &Mutation{Op: OpDeleteService, ID: "s1"},
			childGone:    func(s *Snapshot) bool { v, _ := s.Plugins(); return len(v) == 0 },
		},
		{
			child: tablePlugins, field: "route", parent: tableRoutes, onDelete: Cascade,
			setup:        []*Mutation{svcM("s1", "a"), routeM("r1", "", "s1"), pluginM("p1", "key-auth", "s1", "r1", ""), pluginM("p2", "key-auth", "", "r1", "")},
			dangling:     pluginM("p3", "key-auth", "", "missing", ""),
			danglingErr:  isFK,
			deleteParent: &Mutation{Op: OpDeleteRoute, ID: "r1"},
			childGone:    func(s *Snapshot) bool { v, _ := s.Plugins(); return len(v) == 0 },
		},
		{
			child: tablePlugins, field: "consumer", parent: tableConsumers, onDelete: Cascade,
			setup:        []*Mutation{consumerM("c1", "alice"), pluginM("p1", "rate-limiting", "", "", "c1")},
			dangling:     pluginM("p3", "rate-limiting", "", "", "missing"),
			danglingErr:  isFK,
			deleteParent: Delete(tableConsumers, "c1"),
			childGone:    func(s *Snapshot) bool { v, _ := s.Plugins(); return len(v) == 0 },
		},
		{
			child: tableKeyAuthCred, field: "consumer", parent: tableConsumers, onDelete: Cascade,
			setup:        []*Mutation{consumerM("c1", "alice"), keyM("k1", "c1", "a"), keyM("k2", "c1", "b")},
			dangling:     keyM("k3", "missing", "c"),
			danglingErr:  isFK,
			deleteParent: Delete(tableConsumers, "c1"),
			childGone:    func(s *Snapshot) bool { v, _ := s.KeyAuthCredentials(); return len(v) == 0 },
		},
		{
			child: tableSNIs, field: "certificate", parent: tableCertificates, onDelete: Cascade,
			setup:        []*Mutation{certM("c1"), sniM("n1", "a.test", "c1"), sniM("n2", "*.a.test", "c1")},
			dangling:     sniM("n3", "b.test", "missing"),
			danglingErr:  isFK,
			deleteParent: Delete(tableCertificates, "c1"),
			childGone:    func(s *Snapshot) bool { v, _ := s.SNIs(); return len(v) == 0 },
		},
		{
			child: tableServices, field: "client_certificate", parent: tableCertificates, onDelete: Restrict,
			setup:        []*Mutation{certM("c1"), sniM("n1", "a.test", "c1"), tlsSvcM("s1", "c1")},
			dangling:     tlsSvcM("s2", "missing"),
			danglingErr:  isFK,
			deleteParent: Delete(tableCertificates, "c1"),
			// The refused delete keeps the certificate's SNIs too (one
			// transaction; Kong deletes them first).
			childGone: func(s *Snapshot) bool { v, _ := s.SNIByName("a.test"); return v == nil },
		},
		{
			child: tableServices, field: "ca_certificates", parent: tableCACertificates, onDelete: Restrict,
			setup:        []*Mutation{caM("ca1", "d1"), caM("ca2", "d2"), tlsSvcM("s1", "", "ca2", "ca1")},
			dangling:     tlsSvcM("s2", "", "ca1", "missing"),
			danglingErr:  isFK,
			deleteParent: Delete(tableCACertificates, "ca1"),
			childGone:    func(s *Snapshot) bool { v, _ := s.ServiceByID("s1"); return v == nil },
		},
		{
			child: tableUpstreams, field: "client_certificate", parent: tableCertificates, onDelete: Restrict,
			setup:        []*Mutation{certM("c1"), tlsUpM("u1", "c1")},
			dangling:     tlsUpM("u2", "missing"),
			danglingErr:  isFK,
			deleteParent: Delete(tableCertificates, "c1"),
			childGone:    func(s *Snapshot) bool { v, _ := s.UpstreamByID("u1"); return v == nil },
		},
	}
}

func TestStore_References(t *testing.T) {
	for _, rel := range relations() {
		t.Run(rel.child+"."+rel.field, func(t *testing.T) {
			s := newTestStore(t)
			for _, m := range rel.setup {
				mustApply(t, s, m)
			}
			before := s.Revision()
			if _, err := s.Apply(rel.dangling); !rel.danglingErr(err) {
				t.Fatalf("dangling reference: got %v", err)
			}
			_, err := s.Apply(rel.deleteParent)
			switch rel.onDelete {
			case Restrict:
				var re *ReferencedError
				if !errors.As(err, &re) || re.Entity != rel.parent || re.ReferencedBy != rel.child {
					t.Fatalf("restrict: got %v", err)
				}
				if s.Revision() != before || rel.childGone(s.Snapshot()) {
					t.Fatal("a refused delete wrote something")
				}
			case Cascade:
				if err != nil {
					t.Fatalf("cascade: %v", err)
				}
				snap := s.Snapshot()
				if !rel.childGone(snap) {
					t.Fatal("children survived their parent")
				}
				if snap.TableIndex(rel.child) != snap.Revision() {
					t.Fatalf("cascade did not move the %s index", rel.child)
				}
			}
		})
	}
}

func TestStore_UniqueKeys(t *testing.T) {
	tests := []struct {
		name   string
		setup  []*Mutation
		dup    *Mutation
		fields []Field
		ok     []*Mutation // writes that must not conflict
	}{
		{
			name: "service name", setup: []*Mutation{svcM("s1", "a")}, dup: svcM("s2", "a"),
			fields: []Field{{Name: "name", Value: "a"}},
			ok:     []*Mutation{svcM("s1", "a"), svcM("s3", ""), svcM("s4", ""), svcM("s1", "b"), svcM("s2", "a")},
		},
		{
			name: "route name", setup: []*Mutation{routeM("r1", "a", "")}, dup: routeM("r2", "a", ""),
			fields: []Field{{Name: "name", Value: "a"}},
			ok:     []*Mutation{routeM("r1", "a", ""), routeM("r3", "", ""), routeM("r4", "", ""), svcM("s1", "a")},
		},
		{
			name:  "plugin per scope",
			setup: []*Mutation{svcM("s1", "a"), pluginM("p1", "key-auth", "s1", "", "")}, dup: pluginM("p2", "key-auth", "s1", "", ""),
			fields: []Field{{Name: "consumer", Value: nil}, {Name: "name", Value: "key-auth"}, {Name: "route", Value: nil},
				{Name: "service", Value: ForeignKey{ID: "s1"}}},
			ok: []*Mutation{pluginM("p1", "key-auth", "s1", "", ""), pluginM("p2", "key-auth", "", "", ""), pluginM("p3", "rate-limiting", "s1", "", "")},
		},
		{
			name: "consumer username", setup: []*Mutation{consumerM("c1", "a")}, dup: consumerM("c2", "a"),
			fields: []Field{{Name: "username", Value: "a"}},
			ok:     []*Mutation{consumerM("c1", "a"), consumerM("c2", "b")},
		},
		{
			name: "credential key", setup: []*Mutation{consumerM("c1", "a"), consumerM("c2", "b"), keyM("k1", "c1", "x")}, dup: keyM("k2", "c2", "x"),
			fields: []Field{{Name: "key", Value: "x"}},
			ok:     []*Mutation{keyM("k1", "c1", "x"), keyM("k2", "c2", "y")},
		},
		{
			name: "upstream name", setup: []*Mutation{upM("u1", "a")}, dup: upM("u2", "a"),
			fields: []Field{{Name: "name", Value: "a"}},
			ok:     []*Mutation{upM("u1", "a"), upM("u1", "b"), upM("u2", "a")},
		},
		{
			name:  "target per upstream",
			setup: []*Mutation{upM("u1", "a"), upM("u2", "b"), tgtM("t1", "u1", "x:1")}, dup: tgtM("t2", "u1", "x:1"),
			fields: []Field{{Name: "upstream", Value: ForeignKey{ID: "u1"}}, {Name: "target", Value: "x:1"}},
			ok:     []*Mutation{tgtM("t1", "u1", "x:1"), tgtM("t2", "u2", "x:1"), tgtM("t3", "u1", "x:2")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			for _, m := range tc.setup {
				mustApply(t, s, m)
			}
			_, err := s.Apply(tc.dup)
			var ue *UniqueError
			if !errors.As(err, &ue) || fmt.Sprint(ue.Fields) != fmt.Sprint(tc.fields) {
				t.Fatalf("duplicate: got %v, want fields %v", err, tc.fields)
			}
			for _, m := range tc.ok {
				mustApply(t, s, m)
			}
		})
	}
	// A client-supplied id that exists refuses a create, for every table
	// with create semantics.
	s := fixture(t)
	for _, m := range []*Mutation{svcM("s1", "zz"), routeM("r1", "zz", ""), upM("u1", "zz"), tgtM("t1", "u1", "zz:1")} {
		m.Create = true
		if _, err := s.Apply(m); !errors.As(err, new(*PrimaryKeyError)) {
			t.Errorf("%s create over an existing id: got %v", m.Op, err)
		}
	}
}

func TestStore_WalkAcrossCursor(t *testing.T) {
	ids := []string{"c", "a", "e", "b", "d"}
	s := newTestStore(t)
	mustApply(t, s, svcM("svc", "svc"))
	mustApply(t, s, upM("up", "up"))
	for _, id := range ids {
		mustApply(t, s, svcM(id, ""))
		mustApply(t, s, routeM(id, "", ""))
		mustApply(t, s, upM(id, "up-"+id))
		mustApply(t, s, tgtM(id, "up", id+":1"))
	}
	snap := s.Snapshot()
	walks := map[string]func(after string, fn func(id string) bool) error{
		tableServices: func(after string, fn func(string) bool) error {
			return snap.WalkServices(after, func(r *Service) bool { return fn(r.ID) })
		},
		tableRoutes: func(after string, fn func(string) bool) error {
			return snap.WalkRoutes(after, func(r *Route) bool { return fn(r.ID) })
		},
		tableUpstreams: func(after string, fn func(string) bool) error {
			return snap.WalkUpstreams(after, func(r *Upstream) bool { return fn(r.ID) })
		},
		tableTargets: func(after string, fn func(string) bool) error {
			return snap.WalkTargets(after, func(r *Target) bool { return fn(r.ID) })
		},
	}
	cases := []struct {
		after string
		limit int
		want  []string
	}{
		{"", 0, []string{"a", "b", "c", "d", "e"}},
		{"b", 0, []string{"c", "d", "e"}},  // the cursor row itself is skipped
		{"bb", 0, []string{"c", "d", "e"}}, // a deleted cursor row still works
		{"b", 2, []string{"c", "d"}},       // fn stops the walk
		{"e", 0, nil},
	}
	for table, walk := range walks {
		for _, c := range cases {
			var got []string
			err := walk(c.after, func(id string) bool {
				if id == "svc" || id == "up" {
					return true
				}
				got = append(got, id)
				return c.limit == 0 || len(got) < c.limit
			})
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("%s after %q limit %d: %v (%v), want %v", table, c.after, c.limit, got, err, c.want)
			}
		}
	}
}

func TestStore_TargetHealthRules(t *testing.T) {
	keys := func(s *Store) []string {
		rows, _ := s.Snapshot().TargetHealth()
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s|%s=%v", r.TargetID, r.Address, r.Healthy))
		}
		return out
	}
	base := []*Mutation{upM("u1", "u1"), upM("u2", "u2"), tgtM("t1", "u1", "a:1"), tgtM("t2", "u1", "b:1")}
	tests := []struct {
		name  string
		steps []*Mutation
		want  []string
	}{
		{"per address", []*Mutation{healthM("t1", "1.1.1.1:1", false), healthM("t1", "1.1.1.2:1", true)},
			[]string{"t1|1.1.1.1:1=false", "t1|1.1.1.2:1=true"}},
		{"wider statement clears narrower", []*Mutation{healthM("t1", "1.1.1.1:1", false), healthM("t2", "2.2.2.2:1", false), healthM("t1", "", true)},
			[]string{"t1|=true", "t2|2.2.2.2:1=false"}},
		{"narrower after wider is kept beside it", []*Mutation{healthM("t1", "", false), healthM("t1", "1.1.1.1:1", true)},
			[]string{"t1|=false", "t1|1.1.1.1:1=true"}},
		{"same key replaces", []*Mutation{healthM("t1", "", false), healthM("t1", "", true)},
			[]string{"t1|=true"}},
		{"address move drops overrides", []*Mutation{healthM("t1", "", false), healthM("t2", "", false), tgtM("t1", "u1", "c:1")},
			[]string{"t2|=false"}},
		{"upstream move drops overrides", []*Mutation{healthM("t1", "1.1.1.1:1", false), tgtM("t1", "u2", "a:1")},
			nil},
		{"weight change keeps overrides", []*Mutation{healthM("t1", "", false),
			{Op: OpUpsertTarget, Target: &Target{ID: "t1", Upstream: ForeignKey{ID: "u1"}, Target: "a:1", Weight: 5}}},
			[]string{"t1|=false"}},
		{"target delete drops overrides", []*Mutation{healthM("t1", "", false), healthM("t2", "", true), {Op: OpDeleteTarget, ID: "t1"}},
			[]string{"t2|=true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(t)
			for _, m := range append(slices.Clone(base), tc.steps...) {
				mustApply(t, s, m)
			}
			if got := keys(s); !slices.Equal(got, tc.want) {
				t.Fatalf("overrides %v, want %v", got, tc.want)
			}
			rows, _ := s.Snapshot().TargetHealth()
			for _, r := range rows {
				tg, _ := s.Snapshot().TargetByID(r.TargetID)
				if tg == nil || r.UpstreamID != tg.Upstream.ID {
					t.Fatalf("override %+v does not carry its target's upstream", r)
				}
			}
		})
	}
}

// TestStore_TableIndexesAndWatches checks that a write moves exactly the
// indexes of the tables it touched and fires the endpoint watches of the
// upstream it concerns, and only those.
func TestStore_TableIndexesAndWatches(t *testing.T) {
	tests := []struct {
		name    string
		m       *Mutation
		tables  []string
		targets string // upstream whose target watch must fire
		health  string // upstream whose health watch must fire
	}{
		{"service", svcM("s9", "nine"), []string{tableServices}, "", ""},
		{"route", routeM("r9", "", "s1"), []string{tableRoutes}, "", ""},
		{"upstream", upM("u9", "nine"), []string{tableUpstreams}, "", ""},
		{"target", tgtM("t9", "u2", "z:1"), []string{tableTargets}, "u2", ""},
		{"health", healthM("t2", "", false), []string{tableTargetHealth}, "", "u1"},
		{"target move", tgtM("t3", "u1", "h.test:8000"), []string{tableTargets, tableTargetHealth}, "u1", "u2"},
		{"upstream delete", &Mutation{Op: OpDeleteUpstream, ID: "u1"}, []string{tableUpstreams, tableTargets, tableTargetHealth}, "u1", "u1"},
		{"service delete", &Mutation{Op: OpBatch, Batch: []Mutation{{Op: OpDeleteRoute, ID: "r1"}, {Op: OpDeleteRoute, ID: "r2"}, {Op: OpDeleteService, ID: "s1"}}},
			[]string{tableRoutes, tableServices, tablePlugins}, "", ""}, // s1's plugins cascade
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := fixture(t)
			before := s.Snapshot()
			type watch struct{ targets, health <-chan struct{} }
			watches := map[string]watch{}
			for _, u := range []string{"u1", "u2"} {
				tw, hw, err := before.EndpointWatches(u)
				if err != nil {
					t.Fatal(err)
				}
				watches[u] = watch{tw, hw}
			}
			idx := mustApply(t, s, tc.m)
			s.SettleWatches()
			after := s.Snapshot()
			for _, table := range Tables {
				moved := after.TableIndex(table) == idx
				if want := slices.Contains(tc.tables, table); moved != want {
					t.Errorf("table %s index moved=%v, want %v", table, moved, want)
				}
				if before.TableIndex(table) == idx {
					t.Errorf("old snapshot's %s index changed", table)
				}
			}
			if tc.targets != "" && !closed(watches[tc.targets].targets) {
				t.Errorf("targets watch of %s did not fire", tc.targets)
			}
			if tc.health != "" && !closed(watches[tc.health].health) {
				t.Errorf("health watch of %s did not fire", tc.health)
			}
			if tc.targets == "" && tc.health == "" {
				for u, w := range watches {
					if closed(w.targets) || closed(w.health) {
						t.Errorf("endpoint watch of %s fired for a %s write", u, tc.name)
					}
				}
			}
		})
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
