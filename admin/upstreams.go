package admin

import (
	"net/http"
	"time"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

var upstreamOps = &entityOps[store.Upstream]{
	schema: schema.Upstreams,
	byID:   (*store.Snapshot).UpstreamByID,
	byKey:  (*store.Snapshot).UpstreamByName,
	walk:   func(s *store.Snapshot) walkFunc[store.Upstream] { return s.WalkUpstreams },
	id:     func(t *store.Upstream) string { return t.ID },
	tags:   func(t *store.Upstream) []string { return t.Tags },
	upsert: func(t *store.Upstream, create bool) store.Mutation {
		return store.Mutation{Op: store.OpUpsertUpstream, ID: t.ID, Create: create, Upstream: t}
	},
	remove: store.OpDeleteUpstream,
	stamp: func(t *store.Upstream, id string, prev *store.Upstream, now time.Time) {
		t.ID, t.CreatedAt, t.UpdatedAt = id, now.Unix(), now.Unix()
		if prev != nil {
			t.CreatedAt = prev.CreatedAt
		}
	},
	refs: certificateRefs,
}

func (s *Server) registerUpstreamRoutes() {
	s.handleFunc("/upstreams", http.MethodGet, s.handleUpstreamList)
	s.handleFunc("/upstreams", http.MethodPost, s.handleUpstreamCreate)
	s.handleFunc("/upstreams/{upstreams}", http.MethodGet, s.handleUpstreamGet)
	s.handleFunc("/upstreams/{upstreams}", http.MethodPut, s.handleUpstreamPut)
	s.handleFunc("/upstreams/{upstreams}", http.MethodPatch, s.handleUpstreamPatch)
	s.handleFunc("/upstreams/{upstreams}", http.MethodDelete, s.handleUpstreamDelete)
	s.handleFunc("/upstreams/{upstreams}/health", http.MethodGet, s.handleUpstreamHealth)
}

func (s *Server) handleUpstreamList(w http.ResponseWriter, r *http.Request) {
	upstreamOps.list(s, w, r)
}

func (s *Server) handleUpstreamCreate(w http.ResponseWriter, r *http.Request) {
	upstreamOps.create(s, w, r, nil)
}

func (s *Server) handleUpstreamGet(w http.ResponseWriter, r *http.Request) {
	upstreamOps.read(s, w, r, pathVar(r, "upstreams"))
}

func (s *Server) handleUpstreamPut(w http.ResponseWriter, r *http.Request) {
	upstreamOps.put(s, w, r, pathVar(r, "upstreams"), nil)
}

func (s *Server) handleUpstreamPatch(w http.ResponseWriter, r *http.Request) {
	upstreamOps.patchByKey(s, w, r, pathVar(r, "upstreams"))
}

// handleUpstreamDelete deletes the upstream; the store cascades to its
// targets and their health overrides.
func (s *Server) handleUpstreamDelete(w http.ResponseWriter, r *http.Request) {
	upstreamOps.del(s, w, r, pathVar(r, "upstreams"))
}

// parentUpstream finds the upstream of a nested /upstreams/{upstreams}/...
// path, writing 404 (or the lookup error) when there is none.
func (s *Server) parentUpstream(w http.ResponseWriter, r *http.Request, snap *store.Snapshot) *store.Upstream {
	up, err := upstreamOps.lookup(snap, pathVar(r, "upstreams"))
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	if up == nil {
		s.writeError(w, r, errNotFound)
	}
	return up
}
