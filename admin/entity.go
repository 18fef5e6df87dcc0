package admin

import (
	"net/http"
	"time"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

// entity is one entity the Admin API serves: its Kong schema (fields,
// endpoint key, foreign keys) and its store descriptor (table, rows,
// unique keys, references). Every endpoint of the entity is derived from
// the two, as kong/api/endpoints.lua derives them from Kong's schemas; what
// Kong writes by hand for an entity goes in its entityOptions.
type entity struct {
	schema *schema.Entity
	kind   *store.Kind
	now    func() time.Time // the server's clock, for hidden
	entityOptions
}

// entityOptions are the ways an entity's endpoints differ from the ones
// generate_endpoints makes. The zero value is Kong's default.
type entityOptions struct {
	// nestedOnly entities have no /{table} collection of their own
	// (targets live under /upstreams/{u}/targets only).
	nestedOnly bool
	// apiName is the collection's path segment when it is not the table
	// name (Kong's admin_api_name: keyauth_credentials at /key-auths).
	apiName string
	// nestedPath names the collection under a parent, by foreign field,
	// when it is not the table name (Kong's admin_api_nested_name:
	// /consumers/{c}/key-auth).
	nestedPath map[string]string
	// arrayRefs are fields holding ids of another table, by field
	// (services.ca_certificates → ca_certificates).
	arrayRefs map[string]string
	// byKey finds a row by its endpoint key under parent (nil for
	// top-level lookups); nil means the store's unique key named like the
	// endpoint key.
	byKey func(snap *store.Snapshot, parent store.Row, key string) (store.Row, error)
	// putUpdates makes PUT an update of an existing row, 404 when absent
	// (Kong's targets never get created by PUT).
	putUpdates bool
	// parentFixed keeps a nested row under the parent of its path: a
	// PATCH cannot move it (a target stays in its upstream).
	parentFixed bool
	// newestFirst lists nested rows newest first, paged by integer offsets
	// (Kong's targets DAO), rather than in id order with opaque offsets.
	newestFirst bool
	// view renders a row for responses when Kong adds data kept in other
	// tables (a certificate shows its snis); nil renders the row as stored.
	view func(snap *store.Snapshot, row store.Row) (any, error)
	// companions returns writes that go in the same transaction as the
	// row's, from the input as the client sent it (a certificate's snis
	// shorthand creates and deletes SNI rows). Shorthand fields it reads
	// must be schema shorthands, so that validation accepts them.
	companions func(snap *store.Snapshot, row store.Row, input map[string]any) ([]store.Mutation, error)
	// extras registers endpoints Kong writes by hand for the entity; they
	// are registered before the generated ones, which matters where
	// gorilla/mux could match both (/targets/all vs /targets/{targets}).
	extras func(s *Server)
	// overrides registers, after the generated endpoints, handlers that
	// replace generated ones of the same path and method (a certificate's
	// PUT, the disabled /snis/{s}/certificate).
	overrides func(s *Server)
	// before runs on every write before the schema: Kong's DAO options
	// (a credential's ttl) leave the input here. base is the stored
	// entity on update (nil otherwise). Its result goes to after.
	before func(s *Server, input, base map[string]any) (any, error)
	// after runs on the converted row: auto fields the schema cannot
	// fill (a generated key) and checks against other rows (a plugin's
	// protocols against its route's).
	after func(s *Server, snap *store.Snapshot, row store.Row, state any) error
	// listQuery serves a top-level list request by hand when it returns
	// true (Kong's /consumers?custom_id=).
	listQuery func(s *Server, w http.ResponseWriter, r *http.Request) bool
	// hidden rows are left out of reads as if absent (expired credentials).
	hidden func(row store.Row, now time.Time) bool
}

// entityOptionsByTable holds what Kong writes by hand per entity; an entity
// absent here gets exactly the generated endpoints.
var entityOptionsByTable = map[string]entityOptions{
	"services":            serviceOptions,
	"upstreams":           upstreamOptions,
	"targets":             targetOptions,
	"consumers":           consumerOptions,
	"plugins":             pluginOptions,
	"keyauth_credentials": keyAuthOptions,
	"certificates":        certificateOptions,
	"snis":                sniOptions,
	"ca_certificates":     caCertificateOptions,
}

func (e *entity) table() string { return e.kind.Table }

// path is the collection's path segment.
func (e *entity) path() string {
	if e.apiName != "" {
		return e.apiName
	}
	return e.table()
}

// registerEntities serves every store kind that has a Kong schema, in the
// store's order. Every entity is known before any is registered, so that a
// nested family is generated whatever the order of parent and child.
func (s *Server) registerEntities() {
	var served []*entity
	for _, k := range s.store.Kinds() {
		es := schema.Get(k.Table)
		if es == nil {
			continue // internal tables (target_health)
		}
		e := &entity{schema: es, kind: k, now: s.opts.Now, entityOptions: entityOptionsByTable[k.Table]}
		s.addEntity(e)
		served = append(served, e)
	}
	for _, e := range served {
		s.registerEntity(e)
	}
}

func (s *Server) addEntity(e *entity) {
	if s.entities == nil {
		s.entities = map[string]*entity{}
	}
	s.entities[e.table()] = e
}

// registerEntity serves e: its collection and entity endpoints, then one
// nested family per foreign key whose table is served.
func (s *Server) registerEntity(e *entity) {
	s.addEntity(e)
	if e.extras != nil {
		e.extras(s)
	}
	if !e.nestedOnly {
		coll := "/" + e.path()
		item := coll + "/{" + e.table() + "}"
		s.handleFunc(coll, http.MethodGet, func(w http.ResponseWriter, r *http.Request) { e.list(s, w, r) })
		s.handleFunc(coll, http.MethodPost, func(w http.ResponseWriter, r *http.Request) { e.create(s, w, r, nil) })
		s.handleFunc(item, http.MethodGet, func(w http.ResponseWriter, r *http.Request) { e.read(s, w, r, pathVar(r, e.table())) })
		s.handleFunc(item, http.MethodPut, func(w http.ResponseWriter, r *http.Request) { e.put(s, w, r, pathVar(r, e.table()), nil) })
		s.handleFunc(item, http.MethodPatch, func(w http.ResponseWriter, r *http.Request) { e.patchByKey(s, w, r, pathVar(r, e.table())) })
		s.handleFunc(item, http.MethodDelete, func(w http.ResponseWriter, r *http.Request) { e.del(s, w, r, pathVar(r, e.table())) })
	}
	for _, f := range e.schema.Foreign() {
		if parent := s.entities[f.Reference()]; parent != nil && !parent.nestedOnly {
			s.registerForeign(e, f.Name(), parent)
		}
	}
	if e.overrides != nil {
		e.overrides(s)
	}
}

// serves reports whether the Admin API has endpoints for entity name, so
// that /schemas lists only what can be written.
func (s *Server) serves(name string) bool { return s.entities[name] != nil }
