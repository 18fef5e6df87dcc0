package admin

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/switchboard-gw/switchboard/schema"
	"github.com/switchboard-gw/switchboard/store"
)

var targetOps = &entityOps[store.Target]{
	schema: schema.Targets,
	byID:   (*store.Snapshot).TargetByID,
	id:     func(t *store.Target) string { return t.ID },
	tags:   func(t *store.Target) []string { return t.Tags },
	upsert: func(t *store.Target, create bool) store.Mutation {
		return store.Mutation{Op: store.OpUpsertTarget, ID: t.ID, Create: create, Target: t}
	},
	remove: store.OpDeleteTarget,
	// Targets carry float seconds with a millisecond fraction.
	stamp: func(t *store.Target, id string, prev *store.Target, now time.Time) {
		ts := float64(now.UnixMilli()) / 1000
		t.ID, t.CreatedAt, t.UpdatedAt = id, ts, ts
		if prev != nil {
			t.CreatedAt = prev.CreatedAt
		}
	},
}

func (s *Server) registerTargetRoutes() {
	// /targets/all before /targets/{targets}: gorilla/mux matches in
	// registration order.
	s.handleFunc("/upstreams/{upstreams}/targets", http.MethodGet, s.handleTargetList)
	s.handleFunc("/upstreams/{upstreams}/targets", http.MethodPost, s.handleTargetCreate)
	s.handleFunc("/upstreams/{upstreams}/targets/all", http.MethodGet, s.handleTargetListAll)
	s.handleFunc("/upstreams/{upstreams}/targets/{targets}", http.MethodGet, s.handleTargetGet)
	s.handleFunc("/upstreams/{upstreams}/targets/{targets}", http.MethodPut, s.handleTargetUpdate)
	s.handleFunc("/upstreams/{upstreams}/targets/{targets}", http.MethodPatch, s.handleTargetUpdate)
	s.handleFunc("/upstreams/{upstreams}/targets/{targets}", http.MethodDelete, s.handleTargetDelete)
	// Kong 3.x takes PUT; go-kong's MarkHealthy still sends POST. Both work.
	for _, method := range []string{http.MethodPut, http.MethodPost} {
		s.handleFunc("/upstreams/{upstreams}/targets/{targets}/healthy", method, s.handleTargetHealth(true))
		s.handleFunc("/upstreams/{upstreams}/targets/{targets}/unhealthy", method, s.handleTargetHealth(false))
		s.handleFunc("/upstreams/{upstreams}/targets/{targets}/{address}/healthy", method, s.handleTargetHealth(true))
		s.handleFunc("/upstreams/{upstreams}/targets/{targets}/{address}/unhealthy", method, s.handleTargetHealth(false))
	}
}

// targetsNewestFirst is Kong's order for target lists and /health: newest
// created_at first; the store's create index breaks ties in the same
// millisecond.
func targetsNewestFirst(snap *store.Snapshot, upstreamID string) ([]*store.Target, error) {
	all, err := snap.TargetsByUpstream(upstreamID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b *store.Target) int {
		if c := cmp.Compare(b.CreatedAt, a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.CreateIndex, a.CreateIndex)
	})
	return all, nil
}

// upstreamTargets reads the paging query, the {upstreams} parent and its
// targets newest first, for the target list and the health report. On
// failure it has written the error and returns ok false.
func (s *Server) upstreamTargets(w http.ResponseWriter, r *http.Request) (pageQuery, *store.Snapshot, *store.Upstream, []*store.Target, bool) {
	pq, err := parsePageQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return pq, nil, nil, nil, false
	}
	snap := s.store.Snapshot()
	up := s.parentUpstream(w, r, snap)
	if up == nil {
		return pq, nil, nil, nil, false
	}
	targets, err := targetsNewestFirst(snap, up.ID)
	if err != nil {
		s.writeError(w, r, err)
		return pq, nil, nil, nil, false
	}
	return pq, snap, up, targets, true
}

// handleTargetList lists an upstream's targets, weight 0 included, newest
// first, paged by a plain integer offset (Kong's targets DAO).
func (s *Server) handleTargetList(w http.ResponseWriter, r *http.Request) {
	pq, _, _, all, ok := s.upstreamTargets(w, r)
	if !ok {
		return
	}
	rows, next, err := slicePage(all, pq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := "/upstreams/" + rawPathVar(r, "upstreams") + "/targets"
	s.writeJSON(w, r, http.StatusOK, newPage(rows, next, nextLink(base, next, "", pq, false)))
}

// handleTargetListAll pages the raw rows with the regular opaque offset.
func (s *Server) handleTargetListAll(w http.ResponseWriter, r *http.Request) {
	pq, err := parsePageQuery(r)
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
	up := s.parentUpstream(w, r, snap)
	if up == nil {
		return
	}
	all, err := snap.TargetsByUpstream(up.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	slices.SortFunc(all, func(a, b *store.Target) int { return cmp.Compare(a.ID, b.ID) })
	rows, next, err := walkPage(sliceWalk(all, targetOps.id), after, pq.size, nil, targetOps.id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := "/upstreams/" + rawPathVar(r, "upstreams") + "/targets/all"
	s.writeJSON(w, r, http.StatusOK, newPage(rows, next, nextLink(base, next, "", pq, false)))
}

func (s *Server) handleTargetCreate(w http.ResponseWriter, r *http.Request) {
	up := s.parentUpstream(w, r, s.store.Snapshot())
	if up == nil {
		return
	}
	targetOps.create(s, w, r, map[string]any{"upstream": map[string]any{"id": up.ID}})
}

// findTarget resolves /upstreams/{u}/targets/{t}: t is a target id or its
// host:port (normalised if needed); a target of another upstream is 404.
func (s *Server) findTarget(w http.ResponseWriter, r *http.Request) (*store.Upstream, *store.Target) {
	snap := s.store.Snapshot()
	up := s.parentUpstream(w, r, snap)
	if up == nil {
		return nil, nil
	}
	key := pathVar(r, "targets")
	var t *store.Target
	var err error
	if schema.IsUUID(key) {
		t, err = snap.TargetByID(key)
	} else {
		t, err = snap.TargetByAddress(up.ID, key)
		if err == nil && t == nil {
			if n, ok := schema.NormalizeTarget(key); ok && n != key {
				t, err = snap.TargetByAddress(up.ID, n)
			}
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return nil, nil
	}
	if t == nil || t.Upstream.ID != up.ID {
		s.writeError(w, r, errNotFound)
		return nil, nil
	}
	return up, t
}

func (s *Server) handleTargetGet(w http.ResponseWriter, r *http.Request) {
	if _, t := s.findTarget(w, r); t != nil {
		s.writeJSON(w, r, http.StatusOK, t)
	}
}

// handleTargetUpdate serves PATCH and PUT alike: Kong's target PUT updates
// an existing target (404 when absent) and never creates one. A target
// stays in its upstream.
func (s *Server) handleTargetUpdate(w http.ResponseWriter, r *http.Request) {
	up, t := s.findTarget(w, r)
	if t == nil {
		return
	}
	targetOps.patch(s, w, r, t, map[string]any{"upstream": map[string]any{"id": up.ID}}, true)
}

func (s *Server) handleTargetDelete(w http.ResponseWriter, r *http.Request) {
	_, t := s.findTarget(w, r)
	if t == nil {
		return
	}
	if !s.apply(w, r, store.Mutation{Op: store.OpDeleteTarget, ID: t.ID}) {
		return
	}
	s.writeJSON(w, r, http.StatusNoContent, nil)
}

// handleTargetHealth records a manual health override (Kong keeps it in
// the balancer; switchboard keeps it in the store so that it replicates and
// reaches Envoy). With an {address}, the override names one resolved
// address, ip[:port] with Kong's default port 8000.
func (s *Server) handleTargetHealth(healthy bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		up, t := s.findTarget(w, r)
		if t == nil {
			return
		}
		address := ""
		if raw, ok := mapVar(r, "address"); ok {
			p, msg := schema.ParseHost(raw)
			if msg != "" {
				s.writeError(w, r, errStatus(http.StatusBadRequest, fmt.Sprintf("invalid address '%s': %s", raw, msg)))
				return
			}
			address = p.Format(schema.DefaultTargetPort)
		}
		m := store.Mutation{Op: store.OpSetTargetHealth, TargetHealth: &store.TargetHealth{
			TargetID: t.ID, UpstreamID: up.ID, Address: address, Healthy: healthy,
		}}
		if !s.apply(w, r, m) {
			return
		}
		s.writeJSON(w, r, http.StatusNoContent, nil)
	}
}
