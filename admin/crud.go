package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// The generic handlers: Kong's list/create/read/upsert/update/delete
// semantics once, for every entity.

// lookup finds a row by UUID or endpoint key, as Kong does: a valid UUID is
// only ever an id; anything else is an endpoint key that must pass its
// field's validator (400 "invalid unique" otherwise). parent is the row of
// a nested path (nil at top level). Missing → nil.
func (e *entity) lookup(snap *store.Snapshot, parent store.Row, key string) (store.Row, error) {
	row, err := e.lookupAny(snap, parent, key)
	if err == nil && row != nil && e.hidden != nil && e.hidden(row, e.now()) {
		return nil, nil
	}
	return row, err
}

// visible extends a list filter to leave hidden rows out.
func (e *entity) visible(keep func(store.Row) bool) func(store.Row) bool {
	if e.hidden == nil {
		return keep
	}
	now := e.now()
	return func(row store.Row) bool { return !e.hidden(row, now) && (keep == nil || keep(row)) }
}

func (e *entity) lookupAny(snap *store.Snapshot, parent store.Row, key string) (store.Row, error) {
	if schema.IsUUID(key) {
		return snap.Get(e.table(), key)
	}
	if e.byKey != nil {
		return e.byKey(snap, parent, key)
	}
	if e.schema.EndpointKey() == "" {
		return nil, nil // addressed by id only (ca_certificates)
	}
	if msg := e.schema.ValidateKey(key); msg != "" {
		return nil, errInvalidUnique(e.schema.EndpointKey(), msg)
	}
	return snap.GetUnique(e.table(), e.schema.EndpointKey(), key)
}

// find is lookup at top level, writing 404 (or the lookup error) when there
// is no such row.
func (e *entity) find(s *Server, w http.ResponseWriter, r *http.Request, snap *store.Snapshot, key string) store.Row {
	row, err := e.lookup(snap, nil, key)
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	if row == nil {
		s.writeError(w, r, errNotFound)
	}
	return row
}

// prepare resolves foreign keys given by endpoint key, validates and
// converts an input into a row.
func (e *entity) prepare(s *Server, snap *store.Snapshot, input, base map[string]any) (store.Row, error) {
	var state any
	if e.before != nil {
		var err error
		if state, err = e.before(s, input, base); err != nil {
			return nil, err
		}
	}
	if err := s.resolveForeign(snap, e, input); err != nil {
		return nil, err
	}
	m, errs := e.schema.Build(input, base)
	if errs != nil {
		return nil, schemaViolation(errs)
	}
	if err := s.unservedRefs(e, m); err != nil {
		return nil, err
	}
	row, err := e.mapToRow(m)
	if err == nil && e.after != nil {
		err = e.after(s, snap, row, state)
	}
	return row, err
}

// newRow validates an insert or replacement into a row with an id (a new
// one when the input names none) and Kong's timestamps, created_at from prev
// when it replaces one. sent is the input as the client sent it, for the
// entity's companion writes.
func (e *entity) newRow(s *Server, snap *store.Snapshot, input map[string]any, prev store.Row) (store.Row, map[string]any, error) {
	sent := maps.Clone(input)
	row, err := e.prepare(s, snap, input, nil)
	if err != nil {
		return nil, nil, err
	}
	id := e.id(row)
	if id == "" {
		id = uuid.NewString()
	}
	stampRow(row, id, prev, s.opts.Now())
	return row, sent, nil
}

func (e *entity) id(row store.Row) string { return e.kind.RowID(row) }

func (e *entity) upsert(row store.Row, create bool) store.Mutation {
	return store.Mutation{Op: store.OpUpsert, Table: e.table(), Row: row, Create: create}
}

func (e *entity) remove(id string) store.Mutation {
	return store.Mutation{Op: store.OpDelete, Table: e.table(), ID: id}
}

// list serves a top-level collection: cursor pagination over the store in
// id order, optional tag filter, relative next link.
func (e *entity) list(s *Server, w http.ResponseWriter, r *http.Request) {
	if e.listQuery != nil && e.listQuery(s, w, r) {
		return
	}
	pq, err := parsePageQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tf, err := parseTagFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after, err := pq.cursor()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	snap := s.store.Snapshot()
	var keep func(store.Row) bool
	if tf != nil {
		keep = func(row store.Row) bool { return tf.match(rowTags(row)) }
	}
	keep = e.visible(keep)
	walk := func(after string, fn func(store.Row) bool) error { return snap.Walk(e.table(), after, fn) }
	rows, next, err := walkPage(walk, after, pq.size, keep, e.id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e.writePage(s, w, r, snap, rows, next, nextLink("/"+e.path(), next, tf.rawValue(), pq, true))
}

// create is POST on a collection; forced fields (the parent of a nested
// collection) override the body.
func (e *entity) create(s *Server, w http.ResponseWriter, r *http.Request, forced map[string]any) {
	input, err := decodeInput(r, e.schema, forced)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	snap := s.store.Snapshot()
	row, sent, err := e.newRow(s, snap, input, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if e.write(s, w, r, snap, e.upsert(row, true), row, sent) {
		e.writeRow(s, w, r, http.StatusCreated, row)
	}
}

// read is GET on a top-level entity.
func (e *entity) read(s *Server, w http.ResponseWriter, r *http.Request, key string) {
	if row := e.find(s, w, r, s.store.Snapshot(), key); row != nil {
		s.markQuarantined(w, e.id(row))
		e.writeRow(s, w, r, http.StatusOK, row)
	}
}

// put is Kong's upsert: full replacement when the entity exists (keeping
// id and created_at), creation otherwise. Addressed by UUID the id comes
// from the URL; addressed by name, the name does, and the write is an
// upsert by that key in one store transaction, so that concurrent PUTs of
// a new name all succeed (one creates, the others update).
func (e *entity) put(s *Server, w http.ResponseWriter, r *http.Request, key string, forced map[string]any) {
	snap := s.store.Snapshot()
	existing, err := e.lookup(snap, nil, key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	input, err := decodeInput(r, e.schema, forced)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	byKey := !schema.IsUUID(key)
	if byKey {
		input[e.schema.EndpointKey()] = key
		if existing != nil {
			input["id"] = e.id(existing)
		}
	} else {
		input["id"] = key
	}
	row, sent, err := e.newRow(s, snap, input, existing)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m := e.upsert(row, false)
	if byKey {
		// The row found above may be deleted, and the name taken by a new
		// row, before this write commits: the store resolves the name again
		// inside the write transaction.
		m.UpsertBy = e.schema.EndpointKey()
	}
	if !e.write(s, w, r, snap, m, row, sent) {
		return
	}
	if m.UpsertBy != "" {
		// Another write may have given the name to a row first: the store
		// then kept that row's id and creation time. Answer with the row as
		// stored.
		if stored, err := s.store.Snapshot().GetUnique(e.table(), m.UpsertBy, key); err == nil && stored != nil {
			row = stored
		}
	}
	e.writeRow(s, w, r, http.StatusOK, row)
}

// patch is Kong's update: the body is deep-merged into the stored entity.
// set holds fields of a nested entity's parent: they override the body when
// override is true, and only fill in what the body leaves out otherwise.
func (e *entity) patch(s *Server, w http.ResponseWriter, r *http.Request, existing store.Row, set map[string]any, override bool) {
	base, err := entityToMap(existing)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// A form PATCH is typed by the stored entity's subschema (a plugin's
	// config.* by its name) unless the body names another.
	input, err := decodeBody(r, e.schema.Typed(base))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for k, v := range set {
		if _, given := input[k]; override || !given {
			input[k] = v
		}
	}
	snap := s.store.Snapshot()
	sent := maps.Clone(input)
	row, err := e.prepare(s, snap, input, base)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stampRow(row, e.id(existing), existing, s.opts.Now())
	if e.write(s, w, r, snap, e.upsert(row, false), row, sent) {
		e.writeRow(s, w, r, http.StatusOK, row)
	}
}

// patchByKey is PATCH on a top-level entity: 404 when absent.
func (e *entity) patchByKey(s *Server, w http.ResponseWriter, r *http.Request, key string) {
	if existing := e.find(s, w, r, s.store.Snapshot(), key); existing != nil {
		e.patch(s, w, r, existing, nil, false)
	}
}

// del is DELETE on a top-level entity: 204 whether or not it existed.
func (e *entity) del(s *Server, w http.ResponseWriter, r *http.Request, key string) {
	existing, err := e.lookup(s.store.Snapshot(), nil, key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if existing != nil {
		if !s.apply(w, r, e.remove(e.id(existing)), store.ErrNotFound) {
			return
		}
	}
	s.writeJSON(w, r, http.StatusNoContent, nil)
}

// write commits m, the write of row, in one batch with the entity's
// companion writes when it has any.
func (e *entity) write(s *Server, w http.ResponseWriter, r *http.Request, snap *store.Snapshot, m store.Mutation, row store.Row, sent map[string]any) bool {
	if e.companions != nil {
		more, err := e.companions(snap, row, sent)
		if err != nil {
			s.writeError(w, r, err)
			return false
		}
		switch {
		case len(more) == 0:
		case m.Op == store.OpBatch:
			m.Batch = append(m.Batch, more...)
		default:
			m = store.Mutation{Op: store.OpBatch, Batch: append([]store.Mutation{m}, more...)}
		}
	}
	return s.apply(w, r, m)
}

// writeRow answers with one row as the entity's view renders it (from the
// store as it is now, so that companion rows just written show).
func (e *entity) writeRow(s *Server, w http.ResponseWriter, r *http.Request, status int, row store.Row) {
	if e.view == nil {
		s.writeJSON(w, r, status, row)
		return
	}
	v, err := e.view(s.store.Snapshot(), row)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, status, v)
}

// writePage answers with a list envelope of rows in the entity's view.
func (e *entity) writePage(s *Server, w http.ResponseWriter, r *http.Request, snap *store.Snapshot, rows []store.Row, offset, next string) {
	if e.view == nil {
		s.writeJSON(w, r, http.StatusOK, newPage(rows, offset, next))
		return
	}
	views := make([]any, len(rows))
	for i, row := range rows {
		v, err := e.view(snap, row)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		views[i] = v
	}
	s.writeJSON(w, r, http.StatusOK, newPage(views, offset, next))
}

// decodeInput decodes the body; forced fields (the parent of a nested
// path) override it.
func decodeInput(r *http.Request, es *schema.Entity, forced map[string]any) (map[string]any, error) {
	input, err := decodeBody(r, es)
	if err != nil {
		return nil, err
	}
	for k, v := range forced {
		input[k] = v
	}
	return input, nil
}

// apply commits one mutation and records the revision for the response
// header. Errors listed in ignore count as success (a delete racing another
// delete). It writes the error response itself and reports success.
func (s *Server) apply(w http.ResponseWriter, r *http.Request, m store.Mutation, ignore ...error) bool {
	rev, err := s.store.Apply(&m)
	if err != nil {
		for _, ig := range ignore {
			if errors.Is(err, ig) {
				return true
			}
		}
		s.writeError(w, r, err)
		return false
	}
	committed(r, rev)
	return true
}

// entityToMap renders a stored entity as the generic map a PATCH merges
// into.
func entityToMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("admin: encode entity: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("admin: decode entity: %w", err)
	}
	return m, nil
}

// mapToRow converts a validated entity map into its store row. The map
// holds only schema-checked values, so a failure is a programmer error. It
// is strict: a schema field that the store type does not carry fails here
// instead of being dropped without a word (TestAdmin_SchemaFieldsMatchStore
// checks every entity both ways).
func (e *entity) mapToRow(m map[string]any) (store.Row, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("admin: encode validated entity: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	row := e.kind.New()
	if err := dec.Decode(row); err != nil {
		return nil, fmt.Errorf("admin: decode validated %s: %w", e.table(), err)
	}
	return row, nil
}

// pathVar returns a URL-unescaped path variable (Kong unescapes keys, so
// /services/%E5%86%86 finds the service named 円).
func pathVar(r *http.Request, name string) string {
	raw := mux.Vars(r)[name]
	if v, err := url.PathUnescape(raw); err == nil {
		return v
	}
	return raw
}

// mapVar returns an optional, unescaped path variable.
func mapVar(r *http.Request, name string) (string, bool) {
	raw, ok := mux.Vars(r)[name]
	if !ok {
		return "", false
	}
	if v, err := url.PathUnescape(raw); err == nil {
		return v, true
	}
	return raw, true
}

// rawPathVar is the variable as the client wrote it, for next links.
func rawPathVar(r *http.Request, name string) string { return mux.Vars(r)[name] }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// sliceWalk makes a cursor over rows already sorted by id.
func sliceWalk(rows []store.Row, id func(store.Row) string) walkFunc {
	return func(after string, fn func(store.Row) bool) error {
		for _, row := range rows {
			if after != "" && id(row) <= after {
				continue
			}
			if !fn(row) {
				return nil
			}
		}
		return nil
	}
}
