package admin

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// registerForeign generates, for child's foreign field to parent, the
// three endpoint families of kong/api/endpoints.lua generate_endpoints:
//
//	/{parents}/{p}/{children}       list and create under the parent
//	/{parents}/{p}/{children}/{c}   read, upsert, update, delete under it
//	/{children}/{c}/{field}         the parent seen from the child
//
// The last one only exists for children with a collection of their own.
func (s *Server) registerForeign(child *entity, field string, parent *entity) {
	rel := &relation{child: child, field: field, parent: parent, name: child.table()}
	if p, ok := child.nestedPath[field]; ok {
		rel.name = p
	}
	coll := "/" + parent.path() + "/{" + parent.table() + "}/" + rel.name
	item := coll + "/{" + child.table() + "}"
	if s.relations == nil {
		s.relations = map[string]*relation{}
	}
	s.relations[child.table()+"."+field] = rel
	s.handleFunc(coll, http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		rel.list(s, w, r, rel.child.newestFirst, "")
	})
	s.handleFunc(coll, http.MethodPost, func(w http.ResponseWriter, r *http.Request) { rel.create(s, w, r) })
	s.handleFunc(item, http.MethodGet, func(w http.ResponseWriter, r *http.Request) { rel.read(s, w, r) })
	s.handleFunc(item, http.MethodPut, func(w http.ResponseWriter, r *http.Request) { rel.put(s, w, r) })
	s.handleFunc(item, http.MethodPatch, func(w http.ResponseWriter, r *http.Request) { rel.patch(s, w, r) })
	s.handleFunc(item, http.MethodDelete, func(w http.ResponseWriter, r *http.Request) { rel.del(s, w, r) })
	if child.nestedOnly {
		return
	}
	up := "/" + child.path() + "/{" + child.table() + "}/" + field
	s.handleFunc(up, http.MethodGet, func(w http.ResponseWriter, r *http.Request) { rel.parentGet(s, w, r) })
	s.handleFunc(up, http.MethodPut, func(w http.ResponseWriter, r *http.Request) { rel.parentPut(s, w, r) })
	s.handleFunc(up, http.MethodPatch, func(w http.ResponseWriter, r *http.Request) { rel.parentPatch(s, w, r) })
	s.handleFunc(up, http.MethodDelete, func(w http.ResponseWriter, r *http.Request) { rel.parentDelete(s, w, r) })
}

// relation is one foreign key: child.field references parent; name is
// the child collection's path segment under the parent.
type relation struct {
	child  *entity
	field  string
	parent *entity
	name   string
}

// ref is the foreign-key value that points at parent row p.
func (rel *relation) ref(p store.Row) map[string]any {
	return map[string]any{rel.field: map[string]any{"id": rel.parent.id(p)}}
}

// parentOf finds the parent of a nested path, writing 404 (or the lookup
// error) when there is none.
func (rel *relation) parentOf(s *Server, w http.ResponseWriter, r *http.Request, snap *store.Snapshot) store.Row {
	return rel.parent.find(s, w, r, snap, pathVar(r, rel.parent.table()))
}

// childOf finds the child of a nested path under its parent; a child of
// another parent is 404, as in Kong.
func (rel *relation) childOf(s *Server, w http.ResponseWriter, r *http.Request) (store.Row, store.Row) {
	snap := s.store.Snapshot()
	p := rel.parentOf(s, w, r, snap)
	if p == nil {
		return nil, nil
	}
	c, err := rel.child.lookup(snap, p, pathVar(r, rel.child.table()))
	if err != nil {
		s.writeError(w, r, err)
		return nil, nil
	}
	if c == nil || refID(rel.child.kind, rel.field, c) != rel.parent.id(p) {
		s.writeError(w, r, errNotFound)
		return nil, nil
	}
	return p, c
}

// list serves the parent's children: in id order with opaque offsets, or
// newest first with integer offsets (targets). Tag filters are ignored on
// nested lists, as in Kong. suffix extends the collection path of the next
// link (/targets/all).
func (rel *relation) list(s *Server, w http.ResponseWriter, r *http.Request, newest bool, suffix string) {
	pq, err := parsePageQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after := ""
	if !newest {
		if after, err = pq.cursor(); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	snap := s.store.Snapshot()
	p := rel.parentOf(s, w, r, snap)
	if p == nil {
		return
	}
	all, err := snap.ListReferencing(rel.child.table(), rel.field, rel.parent.id(p))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if keep := rel.child.visible(nil); keep != nil {
		all = slices.DeleteFunc(all, func(row store.Row) bool { return !keep(row) })
	}
	var rows []store.Row
	var next string
	if newest {
		all = newestFirst(all)
		rows, next, err = slicePage(all, pq)
	} else {
		rows, next, err = walkPage(sliceWalk(all, rel.child.id), after, pq.size, nil, rel.child.id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := "/" + rel.parent.path() + "/" + rawPathVar(r, rel.parent.table()) + "/" + rel.name + suffix
	rel.child.writePage(s, w, r, snap, rows, next, nextLink(base, next, "", pq, false))
}

func (rel *relation) create(s *Server, w http.ResponseWriter, r *http.Request) {
	if p := rel.parentOf(s, w, r, s.store.Snapshot()); p != nil {
		rel.child.create(s, w, r, rel.ref(p))
	}
}

func (rel *relation) read(s *Server, w http.ResponseWriter, r *http.Request) {
	if _, c := rel.childOf(s, w, r); c != nil {
		rel.child.writeRow(s, w, r, http.StatusOK, c)
	}
}

// put upserts the child under this parent; like Kong it does not require
// the child to belong to the parent already. Children with putUpdates are
// only ever updated.
func (rel *relation) put(s *Server, w http.ResponseWriter, r *http.Request) {
	if rel.child.putUpdates {
		rel.patch(s, w, r)
		return
	}
	if p := rel.parentOf(s, w, r, s.store.Snapshot()); p != nil {
		rel.child.put(s, w, r, pathVar(r, rel.child.table()), rel.ref(p))
	}
}

// patch updates the child; the body may move it to another parent unless
// the child is parentFixed.
func (rel *relation) patch(s *Server, w http.ResponseWriter, r *http.Request) {
	if p, c := rel.childOf(s, w, r); c != nil {
		rel.child.patch(s, w, r, c, rel.ref(p), rel.child.parentFixed)
	}
}

func (rel *relation) del(s *Server, w http.ResponseWriter, r *http.Request) {
	_, c := rel.childOf(s, w, r)
	if c == nil {
		return
	}
	if s.apply(w, r, rel.child.remove(rel.child.id(c))) {
		s.writeJSON(w, r, http.StatusNoContent, nil)
	}
}

// childAndParent finds /{children}/{c} and the parent it references (nil
// when the reference is null).
func (rel *relation) childAndParent(s *Server, w http.ResponseWriter, r *http.Request) (store.Row, store.Row, bool) {
	snap := s.store.Snapshot()
	c := rel.child.find(s, w, r, snap, pathVar(r, rel.child.table()))
	if c == nil {
		return nil, nil, false
	}
	id := refID(rel.child.kind, rel.field, c)
	if id == "" {
		return c, nil, true
	}
	p, err := snap.Get(rel.parent.table(), id)
	if err != nil {
		s.writeError(w, r, err)
		return nil, nil, false
	}
	return c, p, true
}

// parentFound is childAndParent for the methods that need a parent: 404
// when the child has none.
func (rel *relation) parentFound(s *Server, w http.ResponseWriter, r *http.Request) store.Row {
	_, p, ok := rel.childAndParent(s, w, r)
	if ok && p == nil {
		s.writeError(w, r, errNotFound)
	}
	return p
}

func (rel *relation) parentGet(s *Server, w http.ResponseWriter, r *http.Request) {
	if p := rel.parentFound(s, w, r); p != nil {
		rel.parent.writeRow(s, w, r, http.StatusOK, p)
	}
}

func (rel *relation) parentPatch(s *Server, w http.ResponseWriter, r *http.Request) {
	if p := rel.parentFound(s, w, r); p != nil {
		rel.parent.patch(s, w, r, p, nil, false)
	}
}

// parentDelete is always refused: a parent is deleted through its own
// collection. 404 when there is nothing to refuse.
func (rel *relation) parentDelete(s *Server, w http.ResponseWriter, r *http.Request) {
	if p := rel.parentFound(s, w, r); p != nil {
		s.writeError(w, r, errMethodNotAllowed)
	}
}

// parentPut replaces the child's parent, or, when the reference is null,
// creates a parent and links the child to it: both rows in one batch so
// that neither is written alone.
func (rel *relation) parentPut(s *Server, w http.ResponseWriter, r *http.Request) {
	c, p, ok := rel.childAndParent(s, w, r)
	if !ok {
		return
	}
	if p != nil {
		rel.parent.put(s, w, r, rel.parent.id(p), nil)
		return
	}
	input, err := decodeBody(r, rel.parent.schema)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	input["id"] = uuid.NewString()
	snap := s.store.Snapshot()
	newParent, sent, err := rel.parent.newRow(s, snap, input, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	linked, err := rel.link(c, rel.parent.id(newParent))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stampRow(linked, rel.child.id(c), c, s.opts.Now())
	batch := store.Mutation{Op: store.OpBatch, Batch: []store.Mutation{
		rel.parent.upsert(newParent, true),
		rel.child.upsert(linked, false),
	}}
	if rel.parent.write(s, w, r, snap, batch, newParent, sent) {
		rel.parent.writeRow(s, w, r, http.StatusOK, newParent)
	}
}

// link returns a copy of child c whose reference points at parentID.
func (rel *relation) link(c store.Row, parentID string) (store.Row, error) {
	m, err := entityToMap(c)
	if err != nil {
		return nil, err
	}
	m[rel.field] = map[string]any{"id": parentID}
	return rel.child.mapToRow(m)
}

// resolveForeign turns foreign keys given by the referenced entity's
// endpoint key ({"name": "s"}) into ids, as Kong's DAO does before
// validation. An unknown key is code 13; a key its validator refuses, or a
// reference to an entity that is not served, is left for the schema and
// unservedRefs to report.
func (s *Server) resolveForeign(snap *store.Snapshot, e *entity, in map[string]any) error {
	for _, f := range e.schema.Foreign() {
		ref, ok := in[f.Name()].(map[string]any)
		if !ok || ref["id"] != nil {
			continue
		}
		target := s.entities[f.Reference()]
		if target == nil || target.schema.EndpointKey() == "" {
			continue
		}
		keyField := target.schema.EndpointKey()
		key, ok := ref[keyField].(string)
		if !ok || target.schema.ValidateKey(key) != "" {
			continue
		}
		row, err := snap.GetUnique(target.table(), keyField, key)
		if err != nil {
			return err
		}
		if row == nil {
			return errForeignUnresolved(f.Name(), keyField, key, target.table())
		}
		in[f.Name()] = map[string]any{"id": target.id(row)}
	}
	return nil
}

// unservedRefs rejects references to tables switchboard does not serve
// (certificates, today): any such reference would dangle, and Kong answers
// a dangling reference with code 4. References to served tables are the
// store's to check. Runs after validation, as Kong checks references after
// the schema.
func (s *Server) unservedRefs(e *entity, m map[string]any) error {
	for _, f := range e.schema.Fields() {
		name := f.Name()
		if f.Kind() == schema.KForeign && s.entities[f.Reference()] == nil {
			if fk, ok := m[name].(map[string]any); ok {
				id, _ := fk["id"].(string)
				return errForeignKey(name, f.Reference(), id)
			}
		}
		if table, ok := e.arrayRefs[name]; ok && s.entities[table] == nil {
			if list, ok := m[name].([]any); ok && len(list) > 0 {
				id, _ := list[0].(string)
				return errForeignKey(name, table, id)
			}
		}
	}
	return nil
}

// newestFirst is Kong's order for target lists and /health: newest
// created_at first; the store's create index breaks ties in the same
// millisecond.
func newestFirst(rows []store.Row) []store.Row {
	type stamped struct {
		row     store.Row
		created float64
		index   uint64
	}
	list := make([]stamped, len(rows))
	for i, row := range rows {
		list[i] = stamped{row, createdAt(row), createIndex(row)}
	}
	slices.SortFunc(list, func(a, b stamped) int {
		if c := cmp.Compare(b.created, a.created); c != 0 {
			return c
		}
		return cmp.Compare(b.index, a.index)
	})
	out := make([]store.Row, len(list))
	for i, x := range list {
		out[i] = x.row
	}
	return out
}
