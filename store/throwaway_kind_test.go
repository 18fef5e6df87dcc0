package store

import (
	"errors"
	"fmt"
	"testing"
)

// The descriptor experiment: a new entity is a struct and a
// Kind literal, and gets CRUD, reads, unique keys, references and
// dump/restore from kindSuite with nothing else written.

// widget has one foreign key (a service, Cascade) and a required unique
// name.
type widget struct {
	ID        string     `json:"id"`
	CreatedAt int64      `json:"created_at"`
	Name      string     `json:"name"`
	Service   ForeignKey `json:"service"`
	Tags      []string   `json:"tags"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

var widgetKind = &Kind{
	Table:  "widgets",
	New:    func() Row { return new(widget) },
	Unique: []UniqueKey{{Name: "name", Fields: []string{"name"}, Values: func(r Row) []any { return []any{r.(*widget).Name} }}},
	Refs: []Ref{{Field: "service", Table: tableServices, OnDelete: Cascade,
		IDs: func(r Row) []string { return []string{r.(*widget).Service.ID} }}},
	Tagged: true,
}

// gizmo has the shapes the plugin and TLS entities need: nullable foreign
// keys that cascade (plugin → service/route), a composite unique key with
// nulls (one plugin name per scope; the global scope is all nulls), and an
// array-valued reference that restricts (service.ca_certificates).
type gizmo struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Service *ForeignKey `json:"service"`
	Route   *ForeignKey `json:"route"`
	Widgets []string    `json:"widgets"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

var gizmoKind = &Kind{
	Table: "gizmos",
	New:   func() Row { return new(gizmo) },
	Unique: []UniqueKey{{Name: "scope", Fields: []string{"name", "service", "route"}, Values: func(r Row) []any {
		g := r.(*gizmo)
		return []any{g.Name, g.Service, g.Route}
	}}},
	Refs: []Ref{
		{Field: "service", Table: tableServices, OnDelete: Cascade, IDs: func(r Row) []string { return fkIDs(r.(*gizmo).Service) }},
		{Field: "route", Table: tableRoutes, OnDelete: Cascade, IDs: func(r Row) []string { return fkIDs(r.(*gizmo).Route) }},
		{Field: "widgets", Table: "widgets", OnDelete: Restrict, IDs: func(r Row) []string { return r.(*gizmo).Widgets }},
	},
}

func throwawayRegistry() *registry {
	return newRegistry(append(Kinds(), widgetKind, gizmoKind)...)
}

func throwawaySamples() map[string]func(int) Row {
	out := map[string]func(int) Row{}
	for t, f := range samples {
		out[t] = f
	}
	out["widgets"] = func(i int) Row {
		return &widget{ID: fmt.Sprintf("widgets-%d", i), Name: fmt.Sprintf("w-%d", i), Service: ForeignKey{ID: "services-1"}, CreatedAt: 5}
	}
	out["gizmos"] = func(i int) Row {
		return &gizmo{ID: fmt.Sprintf("gizmos-%d", i), Name: "rate-limiting", Service: &ForeignKey{ID: fmt.Sprintf("services-%d", i)},
			Widgets: []string{"widgets-0", "widgets-1"}}
	}
	return out
}

func TestRegistry_ThrowawayKinds(t *testing.T) {
	kindSuite(t, throwawayRegistry(), throwawaySamples())
}

func TestRegistry_ThrowawayScopesAndArrays(t *testing.T) {
	s, err := NewWithKinds(widgetKind, gizmoKind)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(m *Mutation) error { _, err := s.Apply(m); return err }
	for _, m := range []*Mutation{svcM("s1", "a"), routeM("r1", "", "s1"),
		Upsert("widgets", &widget{ID: "w1", Name: "w1", Service: ForeignKey{ID: "s1"}}),
		Upsert("widgets", &widget{ID: "w2", Name: "w2", Service: ForeignKey{ID: "s1"}}),
	} {
		if err := apply(m); err != nil {
			t.Fatal(err)
		}
	}
	g := func(id string, svc, route string) *Mutation {
		row := &gizmo{ID: id, Name: "acl", Widgets: []string{"w2"}}
		if svc != "" {
			row.Service = &ForeignKey{ID: svc}
		}
		if route != "" {
			row.Route = &ForeignKey{ID: route}
		}
		return Upsert("gizmos", row)
	}
	// One name per scope: global, per service, per route, per service+route.
	for _, m := range []*Mutation{g("global", "", ""), g("svc", "s1", ""), g("route", "", "r1"), g("both", "s1", "r1")} {
		if err := apply(m); err != nil {
			t.Fatalf("%s: %v", m.Row.(*gizmo).ID, err)
		}
	}
	var ue *UniqueError
	if err := apply(g("global2", "", "")); !errors.As(err, &ue) || fmt.Sprint(ue.Fields) != "[{name acl} {service <nil>} {route <nil>}]" {
		t.Fatalf("second global: %v", err)
	}
	if err := apply(g("svc2", "s1", "")); !errors.As(err, &ue) {
		t.Fatalf("second per-service: %v", err)
	}
	// An array reference checks every element and restricts deletes of each.
	bad := g("bad", "", "")
	bad.Row.(*gizmo).Name, bad.Row.(*gizmo).Widgets = "other", []string{"w2", "nope"}
	var fe *ForeignKeyError
	if err := apply(bad); !errors.As(err, &fe) || fe.Field != "widgets" || fe.ID != "nope" {
		t.Fatalf("dangling array element: %v", err)
	}
	if err := apply(Delete("widgets", "w2")); !errors.As(err, new(*ReferencedError)) {
		t.Fatalf("delete of an array-referenced row: %v", err)
	}
	if err := apply(Delete("widgets", "w1")); err != nil {
		t.Fatalf("delete of an unreferenced widget: %v", err)
	}
	// Deleting the route cascades to the route-scoped gizmos only.
	if err := apply(Delete(tableRoutes, "r1")); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.Snapshot().List("gizmos")
	if len(rows) != 2 {
		t.Fatalf("%d gizmos after the route delete, want global and svc", len(rows))
	}
	if got, _ := s.Snapshot().GetUnique("gizmos", "scope", "acl", nil, nil); got == nil || got.(*gizmo).ID != "global" {
		t.Fatalf("global gizmo by scope: %v", got)
	}
	// The service's delete cascades to widget w2 and to gizmo "svc"; w2 is
	// still referenced by the global gizmo (Restrict), so nothing goes.
	before := s.Revision()
	if err := apply(Delete(tableServices, "s1")); !errors.As(err, new(*ReferencedError)) || s.Revision() != before {
		t.Fatalf("cascade into a restricted row: %v", err)
	}
	// Without the global gizmo, the same delete takes w2 and "svc" along,
	// whichever cascade reaches them first.
	if err := apply(Delete("gizmos", "global")); err != nil {
		t.Fatal(err)
	}
	if err := apply(Delete(tableServices, "s1")); err != nil {
		t.Fatalf("cascade: %v", err)
	}
	for _, table := range []string{"widgets", "gizmos", tableServices} {
		if rows, _ := s.Snapshot().List(table); len(rows) != 0 {
			t.Fatalf("%d %s left", len(rows), table)
		}
	}
}
