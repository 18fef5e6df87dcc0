package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// entityOps describes one entity type to the generic handlers, so that
// services, routes and upstreams share one implementation of Kong's
// list/create/read/upsert/update/delete semantics.
type entityOps[T any] struct {
	schema *schema.Entity
	byID   func(*store.Snapshot, string) (*T, error)
	// byKey looks up by endpoint key (name); nil for nested-only entities.
	byKey func(*store.Snapshot, string) (*T, error)
	walk  func(*store.Snapshot) walkFunc[T]
	id    func(*T) string
	tags  func(*T) []string
	// upsert and remove build the store mutations.
	upsert func(t *T, create bool) store.Mutation
	remove store.Op
	// stamp sets the id and Kong's timestamps: created_at from prev when
	// the entity exists, updated_at now.
	stamp func(t *T, id string, prev *T, now time.Time)
	// resolve turns foreign references given by endpoint key into ids
	// (code 13 when nothing matches); nil when the entity has none.
	resolve func(*store.Snapshot, map[string]any) error
	// refs rejects references to entity types switchboard does not store
	// (certificates); runs after validation, as Kong checks references
	// after the schema.
	refs func(m map[string]any) error
}

// lookup finds an entity by UUID or endpoint key, as Kong does: a valid
// UUID is only ever an id; anything else is an endpoint key that must pass
// its field's validator (400 "invalid unique" otherwise). Missing → nil.
func (e *entityOps[T]) lookup(snap *store.Snapshot, key string) (*T, error) {
	if schema.IsUUID(key) {
		return e.byID(snap, key)
	}
	if msg := e.schema.ValidateKey(key); msg != "" {
		return nil, errInvalidUnique(e.schema.EndpointKey(), msg)
	}
	return e.byKey(snap, key)
}

// prepare resolves, validates and converts an input into an entity.
func (e *entityOps[T]) prepare(snap *store.Snapshot, input, base map[string]any) (*T, error) {
	if e.resolve != nil {
		if err := e.resolve(snap, input); err != nil {
			return nil, err
		}
	}
	m, errs := e.schema.Build(input, base)
	if errs != nil {
		return nil, schemaViolation(errs)
	}
	if e.refs != nil {
		if err := e.refs(m); err != nil {
			return nil, err
		}
	}
	return mapToEntity[T](m)
}

// list serves a top-level collection: cursor pagination over the store in
// id order, optional tag filter, relative next link.
func (e *entityOps[T]) list(s *Server, w http.ResponseWriter, r *http.Request) {
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
	var keep func(*T) bool
	if tf != nil {
		keep = func(t *T) bool { return tf.match(e.tags(t)) }
	}
	rows, next, err := walkPage(e.walk(snap), after, pq.size, keep, e.id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, newPage(rows, next, nextLink("/"+e.schema.Name(), next, tf.rawValue(), pq, true)))
}

// create is POST on a collection; forced fields (the parent of a nested
// collection) override the body.
func (e *entityOps[T]) create(s *Server, w http.ResponseWriter, r *http.Request, forced map[string]any) {
	input, err := decodeBody(r, e.schema)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for k, v := range forced {
		input[k] = v
	}
	t, err := e.prepare(s.store.Snapshot(), input, nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := e.id(t)
	if id == "" {
		id = uuid.NewString()
	}
	e.stamp(t, id, nil, s.opts.Now())
	if !s.apply(w, r, e.upsert(t, true)) {
		return
	}
	s.writeJSON(w, r, http.StatusCreated, t)
}

// read is GET on an entity.
func (e *entityOps[T]) read(s *Server, w http.ResponseWriter, r *http.Request, key string) {
	t, err := e.lookup(s.store.Snapshot(), key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if t == nil {
		s.writeError(w, r, errNotFound)
		return
	}
	s.writeJSON(w, r, http.StatusOK, t)
}

// put is Kong's upsert: full replacement when the entity exists (keeping
// id and created_at), creation otherwise. Addressed by UUID the id comes
// from the URL; addressed by name, the name does.
func (e *entityOps[T]) put(s *Server, w http.ResponseWriter, r *http.Request, key string, forced map[string]any) (*T, bool) {
	snap := s.store.Snapshot()
	existing, err := e.lookup(snap, key)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	input, err := decodeBody(r, e.schema)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	for k, v := range forced {
		input[k] = v
	}
	if schema.IsUUID(key) {
		input["id"] = key
	} else {
		input[e.schema.EndpointKey()] = key
		if existing != nil {
			input["id"] = e.id(existing)
		}
	}
	t, err := e.prepare(snap, input, nil)
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	id := e.id(t)
	if id == "" {
		id = uuid.NewString()
	}
	e.stamp(t, id, existing, s.opts.Now())
	if !s.apply(w, r, e.upsert(t, existing == nil)) {
		return nil, false
	}
	s.writeJSON(w, r, http.StatusOK, t)
	return t, true
}

// patch is Kong's update: the body is deep-merged into the stored entity.
// set holds fields of a nested entity's parent: they override the body when
// override is true, and only fill in what the body leaves out otherwise.
func (e *entityOps[T]) patch(s *Server, w http.ResponseWriter, r *http.Request, existing *T, set map[string]any, override bool) {
	input, err := decodeBody(r, e.schema)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for k, v := range set {
		if _, given := input[k]; override || !given {
			input[k] = v
		}
	}
	base, err := entityToMap(existing)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := e.prepare(s.store.Snapshot(), input, base)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e.stamp(t, e.id(existing), existing, s.opts.Now())
	if !s.apply(w, r, e.upsert(t, false)) {
		return
	}
	s.writeJSON(w, r, http.StatusOK, t)
}

// patchByKey is PATCH on a top-level entity: 404 when absent.
func (e *entityOps[T]) patchByKey(s *Server, w http.ResponseWriter, r *http.Request, key string) {
	existing, err := e.lookup(s.store.Snapshot(), key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if existing == nil {
		s.writeError(w, r, errNotFound)
		return
	}
	e.patch(s, w, r, existing, nil, false)
}

// del is DELETE on a top-level entity: 204 whether or not it existed.
func (e *entityOps[T]) del(s *Server, w http.ResponseWriter, r *http.Request, key string) {
	existing, err := e.lookup(s.store.Snapshot(), key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if existing != nil {
		if !s.apply(w, r, store.Mutation{Op: e.remove, ID: e.id(existing)}, store.ErrNotFound) {
			return
		}
	}
	s.writeJSON(w, r, http.StatusNoContent, nil)
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

// mapToEntity converts a validated entity map into its store type. The map
// holds only schema-checked values, so a failure is a programmer error. It
// is strict: a schema field that the store type does not carry fails here
// instead of being dropped without a word (TestAdmin_SchemaFieldsMatchStore
// checks every entity both ways).
func mapToEntity[T any](m map[string]any) (*T, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("admin: encode validated entity: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	t := new(T)
	if err := dec.Decode(t); err != nil {
		return nil, fmt.Errorf("admin: decode validated entity: %w", err)
	}
	return t, nil
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
func sliceWalk[T any](rows []*T, id func(*T) string) walkFunc[T] {
	return func(after string, fn func(*T) bool) error {
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
