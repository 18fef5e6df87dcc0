package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// A throw-away entity with one foreign key proves the claim of the entity
// registry: a store descriptor and a schema, and nothing else, give CRUD,
// the nested endpoint families, paging, tags, /schemas and dump/restore.

// widget is the test entity's row.
type widget struct {
	ID        string            `json:"id"`
	CreatedAt int64             `json:"created_at"`
	UpdatedAt int64             `json:"updated_at"`
	Name      *string           `json:"name"`
	Size      int64             `json:"size"`
	Service   *store.ForeignKey `json:"service"`
	Tags      []string          `json:"tags"`

	CreateIndex uint64 `json:"-"`
	ModifyIndex uint64 `json:"-"`
}

// widgetKind is the store descriptor.
func widgetKind() *store.Kind {
	return &store.Kind{
		Table: "widgets",
		New:   func() store.Row { return new(widget) },
		Unique: []store.UniqueKey{{Name: "name", Fields: []string{"name"}, Values: func(r store.Row) []any {
			if n := r.(*widget).Name; n != nil {
				return []any{*n}
			}
			return nil
		}}},
		Refs: []store.Ref{{Field: "service", Table: "services", OnDelete: store.Cascade, IDs: func(r store.Row) []string {
			if fk := r.(*widget).Service; fk != nil {
				return []string{fk.ID}
			}
			return nil
		}}},
		Tagged: true,
	}
}

// widgetSchema is the Kong schema.
var widgetSchema = schema.New("widgets", "name", []*schema.Field{
	schema.ID(),
	schema.Timestamp("created_at", schema.KInteger),
	schema.Timestamp("updated_at", schema.KInteger),
	schema.String("name").Unique(),
	schema.Integer("size").Default(int64(1)).Between(0, 100),
	schema.Foreign("service", "services"),
	schema.Tags(),
})

var registerWidgets sync.Once

func newWidgetServer(t *testing.T) *testServer {
	t.Helper()
	registerWidgets.Do(func() { schema.Register(widgetSchema) })
	st, err := store.NewWithKinds(widgetKind())
	if err != nil {
		t.Fatal(err)
	}
	srv := New(st, Options{
		NodeID: "4d3a8a3f-5c0b-4e0a-9b6e-6a3cf2b7b001", Hostname: "test-host",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    func() time.Time { return testNow },
	})
	return &testServer{t: t, store: st, srv: srv, h: srv.Handler()}
}

func TestAdmin_RegistryThrowAwayEntity(t *testing.T) {
	ts := newWidgetServer(t)
	svc := ts.do(http.MethodPost, "/services", obj("name", "s", "host", "s.test"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodPost, "/services", obj("name", "other", "host", "o.test"), encJSON).mustStatus(t, http.StatusCreated)

	// Endpoints: the collection, the entity, and the three families of its
	// foreign key.
	var paths []string
	for _, p := range ts.do(http.MethodGet, "/endpoints", nil, encJSON).obj()["data"].([]any) {
		paths = append(paths, p.(string))
	}
	for _, want := range []string{"/widgets", "/widgets/{widgets}", "/services/{services}/widgets",
		"/services/{services}/widgets/{widgets}", "/widgets/{widgets}/service"} {
		if !slices.Contains(paths, want) {
			t.Errorf("no endpoint %s", want)
		}
	}

	// CRUD with defaults, FK by name, and every encoding.
	for _, enc := range allEncodings {
		name := "w-" + string(enc)
		r := ts.do(http.MethodPost, "/widgets", obj("name", name, "service", obj("name", "s"), "tags", list("t1")), enc).mustStatus(t, http.StatusCreated)
		subset(t, r.obj(), `{"size": 1, "tags": ["t1"], "created_at": 1700000000}`)
		if r.obj()["service"].(map[string]any)["id"] != svc.str("id") {
			t.Errorf("%s: service %v", enc, r.obj()["service"])
		}
	}
	ts.do(http.MethodPost, "/widgets", obj("name", "x", "service", obj("name", "nope")), encJSON).mustStatus(t, http.StatusBadRequest)
	ts.do(http.MethodPost, "/widgets", obj("name", "w-json"), encJSON).mustStatus(t, http.StatusConflict)
	r := ts.do(http.MethodPost, "/widgets", obj("name", "big", "size", 101), encJSON).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"code": 2, "fields": {"size": "value should be between 0 and 100"}}`)
	ts.do(http.MethodGet, "/widgets/w-json", nil, encJSON).mustStatus(t, http.StatusOK)
	subset(t, ts.do(http.MethodPatch, "/widgets/w-json", obj("size", 7), encJSON).mustStatus(t, http.StatusOK).obj(), `{"size": 7, "name": "w-json"}`)
	subset(t, ts.do(http.MethodPut, "/widgets/fresh", obj("size", 3), encJSON).mustStatus(t, http.StatusOK).obj(), `{"size": 3, "name": "fresh", "service": null}`)

	// Paging and tags.
	p1 := ts.do(http.MethodGet, "/widgets?size=2", nil, encJSON).mustStatus(t, http.StatusOK)
	if n := len(p1.obj()["data"].([]any)); n != 2 || p1.obj()["offset"] == nil {
		t.Fatalf("page 1: %d rows, offset %v", n, p1.obj()["offset"])
	}
	p2 := ts.do(http.MethodGet, p1.obj()["next"].(string), nil, encJSON).mustStatus(t, http.StatusOK)
	if n := len(p2.obj()["data"].([]any)); n != 2 {
		t.Errorf("page 2: %d rows", n)
	}
	if n := len(ts.do(http.MethodGet, "/widgets?tags=t1", nil, encJSON).obj()["data"].([]any)); n != 3 {
		t.Errorf("tags=t1: %d rows", n)
	}

	// Nested under the parent, and the parent seen from the child.
	if n := len(ts.do(http.MethodGet, "/services/s/widgets", nil, encJSON).obj()["data"].([]any)); n != 3 {
		t.Errorf("/services/s/widgets: %d rows", n)
	}
	ts.do(http.MethodPost, "/services/other/widgets", obj("name", "o1"), encJSON).mustStatus(t, http.StatusCreated)
	ts.do(http.MethodGet, "/services/s/widgets/o1", nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodGet, "/services/other/widgets/o1", nil, encJSON).mustStatus(t, http.StatusOK)
	if got := ts.do(http.MethodGet, "/widgets/o1/service", nil, encJSON).mustStatus(t, http.StatusOK).str("name"); got != "other" {
		t.Errorf("/widgets/o1/service: %q", got)
	}
	ts.do(http.MethodGet, "/widgets/fresh/service", nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodDelete, "/widgets/o1/service", nil, encJSON).mustStatus(t, http.StatusMethodNotAllowed)

	// /schemas from the same definition.
	sch := ts.do(http.MethodGet, "/schemas/widgets", nil, encJSON).mustStatus(t, http.StatusOK)
	if n := len(sch.obj()["fields"].([]any)); n != 7 {
		t.Errorf("/schemas/widgets: %d fields", n)
	}

	// Dump and restore carry the table; the relation cascades.
	d, err := ts.store.Snapshot().Dump()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back store.Dump
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	ts2 := newWidgetServer(t)
	if err := ts2.store.Restore(0, &back); err != nil {
		t.Fatal(err)
	}
	if n := len(ts2.do(http.MethodGet, "/widgets", nil, encJSON).obj()["data"].([]any)); n != 5 {
		t.Errorf("restored: %d widgets", n)
	}
	ts2.do(http.MethodDelete, "/services/s", nil, encJSON).mustStatus(t, http.StatusNoContent)
	if n := len(ts2.do(http.MethodGet, "/widgets", nil, encJSON).obj()["data"].([]any)); n != 2 {
		t.Errorf("after the cascade: %d widgets", n)
	}
}

// A shorthand that writes rows of another table, the way certificates'
// snis create SNI rows: "parts" on a widget are gizmo rows, written in the
// widget's transaction and shown on every read of the widget.

type gizmo struct {
	ID     string           `json:"id"`
	Name   string           `json:"name"`
	Widget store.ForeignKey `json:"widget"`

	ModifyIndex uint64 `json:"-"`
}

func gizmoKind() *store.Kind {
	return &store.Kind{
		Table: "gizmos",
		New:   func() store.Row { return new(gizmo) },
		Unique: []store.UniqueKey{{Name: "name", Fields: []string{"name"}, Values: func(r store.Row) []any {
			return []any{r.(*gizmo).Name}
		}}},
		Refs: []store.Ref{{Field: "widget", Table: "widgets", OnDelete: store.Cascade, IDs: func(r store.Row) []string {
			return []string{r.(*gizmo).Widget.ID}
		}}},
	}
}

var partsOptions = entityOptions{
	view: func(snap *store.Snapshot, row store.Row) (any, error) {
		m, err := entityToMap(row)
		if err != nil {
			return nil, err
		}
		rows, err := snap.ListReferencing("gizmos", "widget", row.(*widget).ID)
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, g := range rows {
			names = append(names, g.(*gizmo).Name)
		}
		slices.Sort(names)
		m["parts"] = names
		return m, nil
	},
	companions: func(snap *store.Snapshot, row store.Row, input map[string]any) ([]store.Mutation, error) {
		parts, given := input["parts"]
		if !given {
			return nil, nil // PATCH without parts leaves them alone
		}
		want := map[string]bool{}
		list, _ := parts.([]any)
		for _, p := range list {
			want[p.(string)] = true
		}
		id := row.(*widget).ID
		have, err := snap.ListReferencing("gizmos", "widget", id)
		if err != nil {
			return nil, err
		}
		var out []store.Mutation
		for _, g := range have {
			if name := g.(*gizmo).Name; want[name] {
				delete(want, name)
			} else {
				out = append(out, store.Mutation{Op: store.OpDelete, Table: "gizmos", ID: g.(*gizmo).ID})
			}
		}
		for _, name := range slices.Sorted(maps.Keys(want)) {
			out = append(out, store.Mutation{Op: store.OpUpsert, Table: "gizmos", Create: true,
				Row: &gizmo{ID: uuid.NewString(), Name: name, Widget: store.ForeignKey{ID: id}}})
		}
		return out, nil
	},
}

func TestAdmin_RegistryShorthandWritesCompanionRows(t *testing.T) {
	registerWidgets.Do(func() { schema.Register(widgetSchema) })
	partsSchema := schema.New("widgets", "name", widgetSchema.Fields()).
		Shorthand(schema.Array("parts", schema.String("")))
	st, err := store.NewWithKinds(widgetKind(), gizmoKind())
	if err != nil {
		t.Fatal(err)
	}
	srv := New(st, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
	// The same widgets, served with the shorthand and its view.
	srv.registerEntity(&entity{schema: partsSchema, kind: srv.entities["widgets"].kind, entityOptions: partsOptions})
	ts := &testServer{t: t, store: st, srv: srv, h: srv.Handler()}

	for _, enc := range allEncodings {
		name := "w-" + string(enc)
		r := ts.do(http.MethodPost, "/widgets", obj("name", name, "parts", list(name+"-b", name+"-a")), enc).mustStatus(t, http.StatusCreated)
		subset(t, r.obj(), fmt.Sprintf(`{"parts": [%q, %q]}`, name+"-a", name+"-b"))
	}
	r := ts.do(http.MethodPost, "/widgets", obj("name", "single", "parts", "one"), encForm).mustStatus(t, http.StatusCreated)
	subset(t, r.obj(), `{"parts": ["one"]}`)
	subset(t, ts.do(http.MethodPatch, "/widgets/single", obj("size", 2), encJSON).mustStatus(t, http.StatusOK).obj(), `{"size": 2, "parts": ["one"]}`)
	subset(t, ts.do(http.MethodPatch, "/widgets/single", obj("parts", list("two")), encJSON).mustStatus(t, http.StatusOK).obj(), `{"parts": ["two"]}`)
	ts.do(http.MethodPost, "/widgets", obj("name", "clash", "parts", list("two")), encJSON).mustStatus(t, http.StatusConflict)
	if ts.do(http.MethodGet, "/widgets/clash", nil, encJSON).status != http.StatusNotFound {
		t.Error("a refused companion write left its widget behind")
	}
	r = ts.do(http.MethodPost, "/widgets", obj("name", "bad", "parts", obj("x", 1)), encJSON).mustStatus(t, http.StatusBadRequest)
	subset(t, r.obj(), `{"fields": {"parts": "expected an array"}}`)
	page := ts.do(http.MethodGet, "/widgets", nil, encJSON).mustStatus(t, http.StatusOK)
	for _, row := range page.obj()["data"].([]any) {
		if _, ok := row.(map[string]any)["parts"]; !ok {
			t.Errorf("list row without parts: %v", row)
		}
	}
	// Gizmos served without an endpoint key: ids only, any other key is 404.
	i := slices.IndexFunc(st.Kinds(), func(k *store.Kind) bool { return k.Table == "gizmos" })
	srv.registerEntity(&entity{kind: st.Kinds()[i], schema: schema.New("gizmos", "",
		[]*schema.Field{schema.ID(), schema.String("name"), schema.Foreign("widget", "widgets")})})
	g, _ := st.Snapshot().GetUnique("gizmos", "name", "two")
	ts.do(http.MethodGet, "/gizmos/"+g.(*gizmo).ID, nil, encJSON).mustStatus(t, http.StatusOK)
	ts.do(http.MethodGet, "/gizmos/two", nil, encJSON).mustStatus(t, http.StatusNotFound)
	ts.do(http.MethodGet, "/widgets/single/gizmos", nil, encJSON).mustStatus(t, http.StatusOK)

	ts.do(http.MethodDelete, "/widgets/single", nil, encJSON).mustStatus(t, http.StatusNoContent)
	if g, _ := st.Snapshot().GetUnique("gizmos", "name", "two"); g != nil {
		t.Error("deleting the widget left its gizmo")
	}
}
